import { access, mkdtemp, readFile, cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';

/** Content is data: nothing an editor (or an agency feed) writes may run as template code. */
describe('content with template code, scripts and MJML tags in it', () => {
  let $: cheerio.CheerioAPI;
  let html: string;
  let text: string;

  beforeAll(async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-inj-'));
    const result = await runCli(['build', 'hostile', '--content', path.join(FIXTURES, 'injection/content'), '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    html = await readFile(path.join(out, 'hostile/index.html'), 'utf8');
    text = await readFile(path.join(out, 'hostile/index.txt'), 'utf8');
    $ = cheerio.load(html);
  });

  it('shows Handlebars syntax from front matter to the reader as literal text', () => {
    expect($('title').text()).toBe('Subject with {{issue.slug}} & <b>tags</b>');
    expect($('h1').first().text()).toBe("Curly {{recipient.email}} and <script>alert('title')</script> in a title");
    expect($('body').text()).toContain('By {{> footer}}');
    expect($('body').text()).toContain('Wire {{title}} <em>title</em>');
    // The preview text is padded with invisible characters so clients do not pull body text into it.
    expect($('body div[style*="display:none"]').first().text().trim()).toMatch(/^Preheader \{\{recipient\.email\}\} <i>x<\/i> and enough words to be a real preheader[\s\u034f\u200c\u00a0]*$/);
  });

  it('shows Handlebars syntax from article bodies as literal text', () => {
    const paragraphs = $('p').map((_, p) => $(p).text()).get();
    expect(paragraphs).toContain('Paragraph with handlebars {{unsubscribeUrl}} and {{{issue.introHtml}}} text.');
    expect($('body').text()).toContain('Intro with {{newsletter.name}}');
  });

  it('runs no script and keeps no event handler or javascript: link', () => {
    expect($('script').length).toBe(0);
    expect($('[onclick], [onerror], [onload]').length).toBe(0);
    const hrefs = $('a[href]').map((_, a) => $(a).attr('href')).get();
    expect(hrefs.some((h) => /^\s*javascript:/i.test(h))).toBe(false);
    expect(hrefs).toContain('https://example.com/ok?utm_source=newsletter&utm_medium=email&utm_campaign=hostile');
  });

  it('never turns <mj-raw>, <mj-include> or </mj-text> in content into markup', () => {
    expect($('.raw-injected').length).toBe(0);
    expect(html).not.toContain('root:x:0:0');
    // Wire copy is text: its tags show as written, in one paragraph, and the closing </mj-text>
    // did not end the block early.
    expect($('body').text()).toContain('A wire paragraph with <script>alert(1)</script> and {{issue.subject}} and </mj-text> in it.');
    // The MJML button written in the intro is not a button: only its text remains.
    expect($('a[href="https://evil.example"]').length).toBe(0);
  });

  it('keeps the email structure: one footer with the unsubscribe link after all content', () => {
    const unsubscribe = $('a').filter((_, a) => /unsubscribe/i.test($(a).text()));
    expect(unsubscribe.length).toBe(1);
    expect($('h2').map((_, h) => $(h).text()).get()).toContain('Wire {{title}} <em>title</em>');
  });

  it('keeps the text version literal too', () => {
    expect(text).toContain('Curly {{recipient.email}} and <script>alert(\'title\')</script> in a title');
    expect(text).not.toContain('reader@example.com and <script>');
  });
});

describe('wire copy shown in full', () => {
  it('shows every line, including ones that look like MJML, as a literal paragraph', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'nl-wire-'));
    const result = await runCli(['build', 'wire-lead', '--content', path.join(FIXTURES, 'injection/content'), '--out', out]);
    expect(result.code).toBe(0);
    const $ = cheerio.load(await readFile(path.join(out, 'wire-lead/index.html'), 'utf8'));
    const paragraphs = $('p').map((_, p) => $(p).text()).get();
    expect(paragraphs).toContain('A wire paragraph with <script>alert(1)</script> and {{issue.subject}} and </mj-text> in it.');
    expect(paragraphs).toContain('<mj-include path="/etc/passwd" />');
    expect($('body').text()).toContain('By {{recipient.email}} <b>Bold</b>');
    expect($('b').length).toBe(0);
  });
});

describe('front matter that is not YAML', () => {
  it('refuses a ---js block without running it', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'nl-js-'));
    await cp(path.join(FIXTURES, 'js-front-matter'), work, { recursive: true });
    const result = await runCli(['build', 'evil', '--content', 'content', '--templates', path.join(ROOT, 'templates'), '--out', 'out'], { cwd: work });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^content[/\\]issues[/\\]evil\.md:1: front matter must be YAML/);
    await expect(access(path.join(work, 'pwned.txt'))).rejects.toThrow();
    await expect(access(path.join(work, 'out/evil'))).rejects.toThrow();
  });
});
