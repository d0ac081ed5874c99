import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { simpleParser, type ParsedMail } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliResult } from './helpers/cli.js';
import { EXAMPLE_CONFIG_ARGS } from './check-helpers.js';

// The seed article, as the agency filed it: the first line is the byline, then a paragraph a line.
const seedLines = (await readFile(path.join(ROOT, 'content/articles/kim-putin-summit.txt'), 'utf8')).split('\n').filter((l) => l.trim());
const seedParagraphs = seedLines.slice(1);

describe('newsletter build of the example issue', () => {
  let out: string;
  let result: CliResult;
  let $: cheerio.CheerioAPI;
  let html: string;
  let text: string;
  let mail: ParsedMail;

  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'nl-build-'));
    result = await runCli(['build', '--out', out, ...EXAMPLE_CONFIG_ARGS]);
    html = await readFile(path.join(out, 'weekly-1/index.html'), 'utf8');
    text = await readFile(path.join(out, 'weekly-1/index.txt'), 'utf8');
    mail = await simpleParser(await readFile(path.join(out, 'weekly-1/message.eml')));
    $ = cheerio.load(html);
  });

  it('exits 0 and prints one line per issue with the path, size and status', () => {
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/weekly-1[/\\]index\.html {2}\d+\.\d KB {2}\S/);
  });

  it('writes exactly the three output files and no staging leftovers', async () => {
    expect((await readdir(out)).sort()).toEqual(['weekly-1']);
    expect((await readdir(path.join(out, 'weekly-1'))).sort()).toEqual(['index.html', 'index.txt', 'message.eml']);
  });

  it('shows every paragraph of the seed article, verbatim, each as its own paragraph', () => {
    const paragraphs = $('p').map((_, p) => $(p).text().trim()).get();
    expect(seedParagraphs.length).toBe(10);
    for (const paragraph of seedParagraphs) expect(paragraphs).toContain(paragraph.trim());
  });

  it('shows the byline, the title override and the subject as the document title', () => {
    const bodyText = $('body').text().replace(/\s+/g, ' ');
    expect(bodyText).toContain('Oyintari Ben');
    expect($('h1').first().text().trim()).toBe('Kim Jong Un to travel to Russia for talks with Putin');
    expect($('title').text()).toBe('Kim heads to Russia: what a Putin summit could mean');
    expect($('html').attr('lang')).toBe('en-GB');
  });

  it('carries the preheader as the first hidden text of the body', () => {
    const hidden = $('body div[style*="display:none"]').first();
    // First in the body's text: where inboxes read the preview line from.
    expect($('body').text().trim().startsWith(hidden.text().trim())).toBe(true);
    // Hidden by display and size, never by a colour close to the background (SpamAssassin
    // HTML_FONT_LOW_CONTRAST scores that as hidden spam text).
    expect(hidden.attr('style')).not.toMatch(/color/);
    // The partial pads the preview text with invisible characters so clients do not pull body text into it.
    const preview = hidden.text().replace(/[\s\u034f\u200c\u00a0]+$/, '');
    expect(preview).toBe("North Korea's leader is expected to meet Vladimir Putin within days, with arms talks on the table.");
  });

  it('has a footer with an https unsubscribe link, a view-in-browser link and the postal address', () => {
    const unsubscribe = $('a').filter((_, a) => /unsubscribe/i.test($(a).text()));
    expect(unsubscribe.length).toBeGreaterThan(0);
    const href = new URL(unsubscribe.first().attr('href')!);
    expect(href.protocol).toBe('https:');
    // `{siteUrl}unsubscribe/<token>`: the address is inside the token, never in clear.
    expect(href.pathname).toMatch(/^\/unsubscribe\/[\w-]{40,}$/);
    expect(href.toString()).not.toMatch(/reader|%40|@/);
    const browser = $('a').filter((_, a) => /browser/i.test($(a).text()));
    expect(browser.first().attr('href')).toBe('https://news.example.com/issues/weekly-1/');
    expect($('body').text()).toContain('12 Harbour Lane, Bristol BS1 4RN');
  });

  it('leaves no MJML tag and no Handlebars expression in the HTML', () => {
    expect($('*').filter((_, el) => el.type === 'tag' && el.tagName.startsWith('mj-')).length).toBe(0);
    expect(html).not.toMatch(/\{\{|\}\}/);
  });

  it('writes a readable plain-text version built from the content', () => {
    const lines = text.split('\n');
    expect(lines[0]).toBe('THE NORTHERN DISPATCH');
    expect(lines).toContain('Kim Jong Un to travel to Russia for talks with Putin');
    // URLs cannot be folded; every other line fits a terminal.
    expect(Math.max(...lines.filter((l) => !/https?:\/\//.test(l)).map((l) => [...l].length))).toBeLessThanOrEqual(78);
    const flat = text.replace(/\s+/g, ' ');
    for (const paragraph of seedParagraphs) expect(flat).toContain(paragraph.trim());
    expect(text).toMatch(/^Unsubscribe: https:\/\/news\.example\.com\/unsubscribe\/[\w-]{40,}$/m);
    expect(text).not.toMatch(/<[a-z]/i);
  });

  it('writes a complete message.eml: multipart/alternative with both parts and every header', () => {
    expect(mail.subject).toBe('Kim heads to Russia: what a Putin summit could mean');
    expect(mail.from?.value[0]).toEqual({ address: 'dispatch@news.example.com', name: 'The Northern Dispatch' });
    expect(mail.replyTo?.value[0]?.address).toBe('editors@news.example.com');
    expect((mail.to as { value: { address: string }[] }).value[0]!.address).toBe('reader@example.com');
    expect(mail.date).toBeInstanceOf(Date);
    expect(mail.messageId).toMatch(/^<[0-9a-f]{32}\.weekly-1@news\.example\.com>$/);
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    expect(mail.text?.trim()).toBe(text.trim());
    expect(mail.html).toBe(html);
    const raw = Object.fromEntries(mail.headerLines.map((h) => [h.key, h.line]));
    expect(raw['list-unsubscribe']).toMatch(/^List-Unsubscribe: <https:\/\/news\.example\.com\/unsubscribe\/[\w-]{40,}>, <mailto:unsubscribe@news\.example\.com\?subject=unsubscribe%20weekly-1>$/);
    expect(raw['list-unsubscribe-post']).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(raw['list-id']).toMatch(/^List-Id: The Northern Dispatch <the-northern-dispatch\.news\.example\.com>$/i);
  });

  it('keeps every header line 7-bit clean', async () => {
    const raw = (await readFile(path.join(out, 'weekly-1/message.eml'), 'latin1')).split('\r\n\r\n')[0]!;
    expect([...raw].every((c) => c.charCodeAt(0) < 128)).toBe(true);
  });
});
