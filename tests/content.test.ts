import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMarkdownArticle, parseWireCopy, titleFromFileName } from '../src/content/load-article.js';
import { loadIssue } from '../src/content/load-issue.js';
import { parseFrontMatter } from '../src/content/front-matter.js';
import { NewsletterError } from '../src/errors.js';
import { writeFolderAtomically } from '../src/output/write-issue.js';
import { FIXTURES, ROOT } from './helpers/cli.js';

/** The article HTML inside the wrapper that carries its inherited phone-safe styles (article-styles.ts). */
function inner(html: string): string {
  const match = /^(?:<!--[^>]*-->)?<div style="[^"]*">([\s\S]*)<\/div>$/.exec(html);
  expect(match, 'article HTML comes in one styled wrapper').not.toBeNull();
  return match![1]!;
}

function thrown(fn: () => unknown): NewsletterError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(NewsletterError);
    return error as NewsletterError;
  }
  throw new Error('expected an error');
}

describe('wire copy', () => {
  it('reads the seed article: byline, then one paragraph per line, nothing else', async () => {
    const source = await readFile(path.join(ROOT, 'content/articles/kim-putin-summit.txt'), 'utf8');
    const article = parseWireCopy(source, 'kim-putin-summit', 'seed.txt');
    expect(article.author).toBe('Oyintari Ben');
    expect(article.format).toBe('wire');
    expect(article.html.match(/<p>/g)).toHaveLength(10);
    expect(article.text.split('\n\n')).toEqual(source.split('\n').slice(1).filter((l) => l.trim()));
    expect(article.bodyLine).toBe(2);
  });

  it('treats a first line that is not a byline as a paragraph, and skips blank lines', () => {
    const article = parseWireCopy('\nBylines are rare.\n\nSecond.\r\nThird.', 'x', 'x.txt');
    expect(article.author).toBeNull();
    expect(inner(article.html)).toBe('<p>Bylines are rare.</p>\n<p>Second.</p>\n<p>Third.</p>');
  });

  it('escapes every character that means something in HTML', () => {
    const article = parseWireCopy(`By A & B <x>\nTom's "quote" <b>&amp;</b>`, 'x', 'x.txt');
    expect(article.author).toBe('A & B <x>');
    expect(inner(article.html)).toBe('<p>Tom&#39;s &quot;quote&quot; &lt;b&gt;&amp;amp;&lt;/b&gt;</p>');
  });

  it('refuses wire copy with nothing but a byline', () => {
    expect(thrown(() => parseWireCopy('By Someone\n\n', 'x', 'x.txt')).code).toBe('CONTENT_INVALID');
  });

  it('makes a readable title from a file name', () => {
    expect(titleFromFileName('harbour_report-2')).toBe('Harbour report 2');
    expect(titleFromFileName('kim-putin-summit')).toBe('Kim putin summit');
  });
});

describe('Markdown articles', () => {
  it('reads every front-matter key; YAML dates stay the day that was written', () => {
    const article = parseMarkdownArticle(
      '---\ntitle: T\nauthor: A\ndate: 2024-05-01\nsummary: S\nimage: https://i.example/x.png\nimageAlt: Alt\nurl: https://e.example/t\ntags: [a, b]\n---\nBody **bold**.\n',
      't',
      't.md',
    );
    expect(article).toMatchObject({ title: 'T', author: 'A', date: '2024-05-01', summary: 'S', summaryIsExcerpt: false, tags: ['a', 'b'] });
    expect(inner(article.html)).toBe('<p>Body <strong>bold</strong>.</p>');
    expect(article.bodyLine).toBe(11);
  });

  it('names the file and line of a key with a wrong type', () => {
    const error = thrown(() => parseMarkdownArticle('---\ntitle: T\nurl: not a url\n---\nx', 't', 'content/articles/t.md'));
    expect(error.format()).toBe('content/articles/t.md:3: `url`: expected an absolute http(s) URL');
  });

  it('names an unknown key and its line', () => {
    const error = thrown(() => parseMarkdownArticle('---\ntitle: T\nsumary: oops\n---\nx', 't', 't.md'));
    expect(error.format()).toBe('t.md:3: unknown key `sumary` (did you mean `summary`?)');
  });

  it('rejects a date that is neither YYYY-MM-DD nor written with the month in words (05/06/2024 is May or June)', () => {
    expect(parseMarkdownArticle('---\ntitle: T\ndate: 1 May 2024\n---\nx', 't', 't.md').date).toBe('2024-05-01');
    const error = thrown(() => parseMarkdownArticle('---\ntitle: T\ndate: 05/06/2024\n---\nx', 't', 't.md'));
    expect(error.message).toMatch(/`date`: expected a date written YYYY-MM-DD/);
    expect(error.line).toBe(3);
  });

  it('sanitizes raw HTML to the allowlist and turns # into ## ', () => {
    const article = parseMarkdownArticle(
      '---\ntitle: T\n---\n# Top\n\n<div style="x" onclick="y">kept <iframe src="https://e.example"></iframe><a href="javascript:alert(1)">j</a></div>\n\n![alt](https://i.example/a.png)',
      't',
      't.md',
    );
    const body = inner(article.html);
    expect(body).toContain('<h2>Top</h2>');
    expect(body).not.toMatch(/<div|onclick|iframe|javascript:/);
    expect(body).toContain('<img src="https://i.example/a.png" alt="alt" style="max-width:100%;height:auto;border:0;" />');
  });

  it('cuts a summary from the first paragraph when none is written', () => {
    const long = 'word '.repeat(80).trim();
    const article = parseMarkdownArticle(`---\ntitle: T\n---\n${long}\n\nsecond`, 't', 't.md');
    expect(article.summaryIsExcerpt).toBe(true);
    expect(article.summary!.length).toBeLessThanOrEqual(221);
    expect(article.summary!.endsWith('…')).toBe(true);
  });
});

describe('front matter', () => {
  it('refuses an unclosed block instead of treating the whole file as YAML', () => {
    const error = thrown(() => parseFrontMatter('---\ntitle: x\nbody text', 'f.md'));
    expect(error.format()).toBe('f.md:1: front matter is not closed: add a line `---` after the last key');
  });

  it('refuses other front-matter languages without running them', () => {
    for (const lang of ['js', 'javascript', 'coffee']) {
      expect(thrown(() => parseFrontMatter(`---${lang}\n{ a: 1 }\n---\n`, 'f.md')).code).toBe('CONTENT_YAML');
    }
  });

  it('accepts CRLF files and a byte-order mark', () => {
    const front = parseFrontMatter('\uFEFF---\r\ntitle: x\r\n---\r\nbody', 'f.md');
    expect(front.data).toEqual({ title: 'x' });
    expect(front.body).toBe('body');
    expect(front.bodyLine).toBe(4);
  });
});

describe('issues', () => {
  it('loads a mixed issue: overrides, wire title from file name, card lead', async () => {
    const issue = await loadIssue(path.join(FIXTURES, 'markdown-article/content'), 'mixed', ROOT);
    expect(issue.lead).toBe('card');
    expect(issue.articles.map((a) => a.title)).toEqual(['A Markdown article', 'Agency report 2']);
    expect(inner(issue.introHtml)).toBe('<p>Intro paragraph.</p>');
  });

  it('names the issue file and the line of an article that does not exist', async () => {
    const content = await mkdtemp(path.join(os.tmpdir(), 'nl-issue-'));
    await mkdir(path.join(content, 'issues'));
    await mkdir(path.join(content, 'articles'));
    await writeFile(path.join(content, 'issues/i.md'), '---\nsubject: S\narticles:\n  - present\n  - missing\n---\n');
    await writeFile(path.join(content, 'articles/present.txt'), 'Para.\n');
    const error = (await loadIssue(content, 'i', content).then(() => null, (e: unknown) => e)) as NewsletterError;
    expect(error).toBeInstanceOf(NewsletterError);
    expect(error.code).toBe('CONTENT_NOT_FOUND');
    expect(error.line).toBe(5);
    expect(error.message).toMatch(/no article `missing`/);
  });
});

describe('lines inside the article list', () => {
  it('names the line of a wrong key inside one entry of `articles`', async () => {
    const content = await mkdtemp(path.join(os.tmpdir(), 'nl-issue-'));
    await mkdir(path.join(content, 'issues'));
    await writeFile(path.join(content, 'issues/i.md'), '---\nsubject: S\narticles:\n  - one\n  - slug: two\n    titel: Typo\n---\n');
    const error = (await loadIssue(content, 'i', content).then(() => null, (e: unknown) => e)) as NewsletterError;
    expect(error).toBeInstanceOf(NewsletterError);
    expect(error.code).toBe('CONTENT_INVALID');
    expect(error.line).toBe(6);
  });
});

describe('atomic output', () => {
  it('keeps the previous folder whole when writing the new one fails', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-out-'));
    await writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'old' }]);
    const failing = writeFolderAtomically(out, 'issue', [
      { name: 'index.html', content: 'new' },
      { name: 'no-such-dir/index.txt', content: 'boom' },
    ]);
    await expect(failing).rejects.toMatchObject({ code: 'OUTPUT_WRITE' });
    expect(await readFile(path.join(out, 'issue/index.html'), 'utf8')).toBe('old');
    expect(await readdir(out)).toEqual(['issue']);
  });

  it('replaces the previous folder completely on success', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-out-'));
    await writeFolderAtomically(out, 'issue', [{ name: 'stale.txt', content: 'old' }]);
    await writeFolderAtomically(out, 'issue', [{ name: 'index.html', content: 'new' }]);
    expect(await readdir(path.join(out, 'issue'))).toEqual(['index.html']);
    expect(await readdir(out)).toEqual(['issue']);
  });
});

describe('front matter as generators write it', () => {
  it('reads JSON front matter (Hugo) and TOML with its lines', () => {
    const json = parseMarkdownArticle('{\n  "title": "J",\n  "date": "2024-05-01T08:00:00Z",\n  "tags": ["a"]\n}\nBody.\n', 'j', 'j.md');
    expect(json).toMatchObject({ title: 'J', date: '2024-05-01', tags: ['a'], bodyLine: 6 });
    const error = thrown(() => parseMarkdownArticle('+++\ntitle = "T"\nurl = "not a url"\n+++\nx', 't', 't.md'));
    expect(error.format()).toBe('t.md:3: `url`: expected an absolute http(s) URL');
    const syntax = thrown(() => parseFrontMatter('+++\ntitle = "T"\ndate = \n+++\n', 't.md'));
    expect(syntax.code).toBe('CONTENT_YAML');
    expect(syntax.line).toBe(3);
  });

  it('refuses an impossible date in any of the three formats, at its line', () => {
    for (const source of ['---\ntitle: T\ndate: 2023-02-29\n---\n', '+++\ntitle = "T"\ndate = 2023-02-29\n+++\n', '{\n"title": "T",\n"date": "2023-02-29"\n}\n']) {
      const error = thrown(() => parseMarkdownArticle(source, 't', 't.md'));
      expect(error.format()).toMatch(/^t\.md:3: `2023-02-29` is not a date in the calendar/);
    }
  });

  it('reads Hugo keys in any case, and a key close to a known one is still an error', () => {
    const article = parseMarkdownArticle('---\nTitle: Pinky\nDate: 2010-06-22 21:13:00\nCategory: misc\n---\nx', 'p', 'p.md');
    expect(article).toMatchObject({ title: 'Pinky', date: '2010-06-22' });
    expect(article.findings.map((f) => f.rule)).toEqual(['content/ignored-keys']);
    expect(thrown(() => parseMarkdownArticle('---\ntitel: T\n---\nx', 't', 't.md')).format()).toBe('t.md:2: unknown key `titel` (did you mean `title`?)');
  });

  it('ends the automatic summary at <!--more-->, without footnote markers', () => {
    const article = parseMarkdownArticle('---\ntitle: T\n---\nFirst with a note[^1].\n\nSecond.\n\n<!-- more -->\n\nAfter the fold.\n\n[^1]: Note.\n', 't', 't.md');
    expect(article.summary).toBe('First with a note. Second.');
    expect(article.text).toContain('After the fold.');
  });

  it('expands Hugo and Zola shortcodes and removes the others with a warning, leaving code blocks alone', () => {
    const article = parseMarkdownArticle(
      '---\ntitle: T\n---\n{{< youtube eIu4fP4fOHE >}}\n\n{{ vimeo(id="123456") }}\n\n{{< pollbox user 1234 >}}\n\n```\n{{< youtube keep >}}\n```\n',
      't',
      't.md',
    );
    expect(article.html).toContain('href="https://www.youtube.com/watch?v=eIu4fP4fOHE"');
    expect(article.html).toContain('href="https://vimeo.com/123456"');
    expect(article.html).toContain('{{&lt; youtube keep &gt;}}');
    expect(article.findings.filter((f) => f.rule === 'content/removed').map((f) => [f.message, f.line])).toEqual([
      ['removed the Hugo shortcode `{{< pollbox user 1234 >}}`: only the blog\'s site can run it', 8],
    ]);
  });
});
