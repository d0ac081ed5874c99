import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrontMatter } from '../../src/content/front-matter.js';
import { parseMarkdownArticle } from '../../src/content/load-article.js';
import { isNewsletterError, type NewsletterError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { hostileProject, issueFile } from './project.js';

/** Front matter built to exhaust memory or the stack, and front matter Hugo reads that we did not. */

/** 30 keys, each a list of two aliases of the one before: 2^30 values once expanded. */
function aliasBomb(head: string): string {
  const keys = ['k0: &a0 [x]', ...Array.from({ length: 29 }, (_, i) => `k${i + 1}: &a${i + 1} [*a${i}, *a${i}]`)];
  return `---\n${head}\n${keys.join('\n')}\n---\nBody.\n`;
}

/** The error `fn` throws (it must throw one). */
function failure(fn: () => unknown): NewsletterError {
  try {
    fn();
  } catch (error) {
    if (isNewsletterError(error)) return error;
    throw error;
  }
  throw new Error('expected a NewsletterError');
}

// A heap of 128 MB: the bomb used 4.4 GB before; refusing it must fit in a small fraction of this.
const SMALL_HEAP = { env: { NODE_OPTIONS: '--max-old-space-size=128' }, timeoutMs: 60_000 };

describe('attacks: front matter', () => {
  it('an alias bomb in an article is refused with its file and line, within a 128 MB heap', async () => {
    const dir = await hostileProject({
      'content/articles/bomb.md': aliasBomb('title: Bomb'),
      'content/issues/weekly-1.md': issueFile('Hello', ['bomb']),
    });
    const r = await runCli(['build', 'weekly-1'], { cwd: dir, ...SMALL_HEAP });
    expect(r.stderr.split('\n')[0]).toBe(`${path.join('content', 'articles', 'bomb.md')}:4: YAML front matter expands to more than 10000 values (a YAML alias \`*name\` repeats all it names)`);
    expect(r.code).toBe(1);
  });

  it('an alias bomb in an issue file is refused the same way', async () => {
    const dir = await hostileProject({ 'content/issues/weekly-1.md': aliasBomb('subject: Bomb\narticles: []') });
    const r = await runCli(['check', 'weekly-1'], { cwd: dir, ...SMALL_HEAP });
    expect(r.stderr.split('\n')[0]).toBe(`${path.join('content', 'issues', 'weekly-1.md')}:5: YAML front matter expands to more than 10000 values (a YAML alias \`*name\` repeats all it names)`);
    expect(r.code).toBe(1);
  });

  it('an alias or two, as people use them, still work', () => {
    const front = parseFrontMatter('---\ntitle: T\ntags: &t [a, b]\nkeywords: *t\n---\nBody', 'a.md');
    expect(front.data).toEqual({ title: 'T', tags: ['a', 'b'], keywords: ['a', 'b'] });
  });

  it.each([
    ['JSON', `{"title": "deep", "extra": ${'['.repeat(5000)}${']'.repeat(5000)}}\nBody`, 1],
    ['TOML', `+++\ntitle = "deep"\nextra = ${'['.repeat(5000)}${']'.repeat(5000)}\n+++\nBody`, 3],
    ['TOML', `+++\ntitle = "deep"\nextra = ${'{a = '.repeat(5000)}1${'}'.repeat(5000)}\n+++\nBody`, 3],
    ['YAML', `---\ntitle: deep\nextra: ${'['.repeat(5000)}${']'.repeat(5000)}\n---\nBody`, 3],
    ['YAML', `---\ntitle: deep\nextra:\n  ${'- '.repeat(5000)}x\n---\nBody`, 4],
  ])('%s front matter nested 5,000 deep is refused at its line', (format, source, line) => {
    const error = failure(() => parseFrontMatter(source, 'deep.md'));
    expect([error.code, error.file, error.line, error.message]).toEqual(['CONTENT_YAML', 'deep.md', line, `${format} front matter is nested more than 64 levels deep`]);
  });

  it('a control character written as an escape in a value is refused at its key', () => {
    for (const [source, line] of [
      ['---\ntitle: T\nauthor: "Ann\\eBee"\n---\nBody', 3],
      ['{"title": "T",\n "author": "Ann\\u0000Bee"}\nBody', 2],
      ['+++\ntitle = "T"\nauthor = "Ann\\u001bBee"\n+++\nBody', 3],
    ] as const) {
      const error = failure(() => parseFrontMatter(source, 'a.md'));
      expect([error.code, error.line, error.message]).toEqual(['CONTENT_INVALID', line, '`author` holds a control character (written as an escape) that no email or feed can carry']);
    }
  });

  it('reads one-line JSON front matter as JSON, as Hugo does', () => {
    const article = parseMarkdownArticle('{"title": "x", "author": "Ann"}\nThe body.\n', 'one-line', 'one-line.md');
    expect([article.title, article.author, article.text, article.bodyLine]).toEqual(['x', 'Ann', 'The body.', 2]);
    // A body that merely starts with a brace is not JSON.
    expect(parseFrontMatter('{{< youtube abc >}}\nText', 'b.md').format).toBe('none');
  });
});
