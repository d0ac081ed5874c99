import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMarkdownArticle } from '../../src/content/load-article.js';
import { isNewsletterError } from '../../src/errors.js';
import { toProblem } from '../../src/preview/problem.js';
import { runCli } from '../helpers/cli.js';
import { article, hostileProject, issueFile } from './project.js';

/**
 * 2 KB articles nested deep enough to end the Markdown parser, the sanitizer or the HTML-to-text
 * converter with a stack overflow. Each is refused with its file and line (exit 1, never the
 * internal error's 70), and `check --json` and `publish` go on with the other issues.
 */

const DEEP = {
  list: Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i)}- x`).join('\n'),
  quote: `${'>'.repeat(2000)} x`,
  div: `${'<div>'.repeat(5000)}x${'</div>'.repeat(5000)}`,
};
// The article's body starts on line 4 (after three lines of front matter).
const REFUSED = {
  list: ['list.md', 104, 'Markdown nested more than 100 levels deep'],
  quote: ['quote.md', 4, 'Markdown nested more than 100 levels deep'],
  div: ['div.md', 4, 'HTML nested more than 200 levels deep'],
} as const;

let dir: string;

beforeAll(async () => {
  const files: Record<string, string> = {
    'content/articles/fine.md': article('Fine', 'A fine story.\n'),
    'content/issues/a-fine.md': issueFile('Fine issue', ['fine']),
  };
  for (const [name, body] of Object.entries(DEEP)) {
    files[`content/articles/${name}.md`] = article(name, `${body}\n`);
    files[`content/issues/${name}.md`] = issueFile(`Deep ${name}`, [name]);
  }
  dir = await hostileProject(files);
}, 60_000);

const where = (file: string) => path.join('content', 'articles', file);

describe('attacks: deep nesting', () => {
  it.each(Object.keys(DEEP) as (keyof typeof DEEP)[])('a %s nested too deep is refused by build with its file and line, exit 1', async (name) => {
    const r = await runCli(['build', name], { cwd: dir, timeoutMs: 60_000 });
    const [file, line, message] = REFUSED[name];
    expect(r.stderr.split('\n')[0]).toBe(`${where(file)}:${line}: ${message}`);
    expect(r.code).toBe(1);
  });

  it('check --json reports each deep issue as a finding with its place and checks the fine one', async () => {
    const r = await runCli(['check', '--json'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { issues: { issue: string; ok: boolean; findings: { rule: string; severity: string; file?: string; line?: number }[] }[] };
    expect(report.issues.map((issue) => [issue.issue, issue.ok])).toEqual([['a-fine', true], ['div', false], ['list', false], ['quote', false]]);
    for (const issue of report.issues.slice(1)) {
      const [file, line] = REFUSED[issue.issue as keyof typeof REFUSED];
      expect(issue.findings.map((f) => [f.rule, f.severity, f.file, f.line])).toEqual([['issue/unreadable', 'error', where(file), line]]);
    }
  });

  it('publish publishes the fine issue, names each deep one, and exits 1', async () => {
    const r = await runCli(['publish'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    for (const [file, line, message] of Object.values(REFUSED)) expect(r.stderr).toContain(`${where(file)}:${line}: ${message}`);
    expect(await readdir(path.join(dir, 'dist/site/issues'))).toEqual(['a-fine']);
    const feed = parseFeed(await readFile(path.join(dir, 'dist/site/atom.xml'), 'utf8'));
    expect(feed.items.map((item) => item.title)).toEqual(['Fine issue']);
  });

  it('a stack overflow past the measure (a long run of emphasis) is still the file’s error', () => {
    let error: unknown;
    try {
      parseMarkdownArticle(article('Stars', `${'*'.repeat(5000)}x${'*'.repeat(5000)}\n`), 'stars', 'stars.md');
    } catch (caught) {
      error = caught;
    }
    expect(isNewsletterError(error) && [error.code, error.file]).toEqual(['CONTENT_INVALID', 'stars.md']);
  });

  it('the preview page names the file and line, as the command line does', () => {
    let error: unknown;
    try {
      parseMarkdownArticle(article('quote', `${DEEP.quote}\n`), 'quote', where('quote.md'));
    } catch (caught) {
      error = caught;
    }
    const problem = toProblem(error);
    expect([problem.code, problem.location]).toEqual(['CONTENT_INVALID', `${where('quote.md')}:4`]);
  });

  it('nesting a reader may meet (quotes and lists 20 deep, 100 nested divs) still renders', () => {
    const body = [`${'>'.repeat(20)} deep quote`, Array.from({ length: 20 }, (_, i) => `${'  '.repeat(i)}- item`).join('\n'), `${'<div>'.repeat(100)}x${'</div>'.repeat(100)}`].join('\n\n');
    expect(parseMarkdownArticle(article('Fine', body), 'fine', 'fine.md').text).toContain('deep quote');
  });
});
