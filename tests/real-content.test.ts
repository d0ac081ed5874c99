import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { simpleParser } from 'mailparser';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';
import { launchTestBrowser } from './helpers/browser.js';
import { loadIssue } from '../src/content/load-issue.js';
import { NewsletterError } from '../src/errors.js';
import { startPreviewServer } from '../src/preview/preview-server.js';

/**
 * Content in the shapes real blogs write it (tests/fixtures/real-content): a Hugo/Zola page bundle
 * with TOML front matter, a PNG, an SVG and a large JPEG carrying EXIF and a GPS position; a flat
 * Jekyll-style post with a WebP from elsewhere under content/; footnotes, an iframe embed, a
 * <video>, <!--more-->, a 10-column table, long code lines; and a layout in the style of the MJML
 * gallery that only does {{{html}}}. Built by the real CLI, looked at in the real Chromium.
 */

const FIXTURE = path.join(FIXTURES, 'real-content');
const ISSUES = ['digest', 'long-read', 'gallery'] as const;
let work: string;
let build: Awaited<ReturnType<typeof runCli>>;
let browser: Browser;

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-real-'));
  await cp(path.join(FIXTURE, 'content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(FIXTURE, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  await cp(path.join(FIXTURE, 'layouts/gallery.mjml'), path.join(dir, 'templates/layouts/gallery.mjml'));
  return dir;
}

const html = (slug: string) => readFile(path.join(work, 'dist', slug, 'index.html'), 'utf8');
const text = (slug: string) => readFile(path.join(work, 'dist', slug, 'index.txt'), 'utf8');
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Paragraphs of prose in a Markdown body: not headings, tables, code, HTML, footnote definitions. */
function sourceParagraphs(markdown: string): string[] {
  const body = markdown.replace(/^(\+\+\+|---)\n[\s\S]*?\n\1\n/, '').replace(/```[\s\S]*?```/g, '');
  return body
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter((block) => block && !/^(#|\||<|!\[|\[\^)/.test(block))
    .map((block) => squash(block.replace(/\[\^\w+\]/g, '')));
}

beforeAll(async () => {
  work = await project();
  build = await runCli(['build', ...ISSUES], { cwd: work, timeoutMs: 90_000 });
  browser = await launchTestBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('a build of real-shaped content', () => {
  it('builds every issue, and names what the sanitizer removed with file and line', () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    const bundle = path.join('content', 'articles', 'harbour-bundle', 'index.md');
    expect(build.stdout).toContain(`warning: ${bundle}:44: removed <form>: not allowed in email`);
    expect(build.stdout).toContain(`warning: ${bundle}:44: removed <input>`);
  });

  it('stays within a 375 px phone in every layout, the gallery one that only does {{{html}}} included', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 800 }, javaScriptEnabled: false });
    await context.route('**/*', (route) => route.abort());
    const page = await context.newPage();
    try {
      for (const slug of ISSUES) {
        await page.setContent(await html(slug), { waitUntil: 'load' });
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width, `${slug} at 375 px`).toBe(375);
      }
    } finally {
      await context.close();
    }
  }, 60_000);

  it('gives every <img> an absolute https src with width and height', async () => {
    for (const slug of ISSUES) {
      const $ = cheerio.load(await html(slug));
      const images = $('body img').toArray();
      expect(images.length, slug).toBeGreaterThan(3);
      for (const img of images) {
        const { src, width, height } = img.attribs;
        expect(src, `${slug}: ${src}`).toMatch(/^https:\/\/[^/]+\//);
        expect(Number(width), `${slug}: width of ${src}`).toBeGreaterThan(0);
        expect(height === 'auto' || Number(height) > 0, `${slug}: height of ${src}`).toBe(true);
      }
      // Local images are served from the site's assets/; none is left relative.
      expect($('body img[src^="https://harbour.example.com/assets/"]').length).toBeGreaterThanOrEqual(4);
    }
  });

  it('writes processed images: at most 1200 px wide, no EXIF or GPS, SVG and WebP in formats mail clients show', async () => {
    const source = await sharp(path.join(FIXTURE, 'content/articles/harbour-bundle/photo.jpg')).metadata();
    // The fixture does carry a camera and a GPS position (IFD pointer 0x8825), so their absence below means something.
    expect(source.width).toBe(2400);
    expect(source.exif?.includes(Buffer.from('FixtureCam'))).toBe(true);
    expect(source.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true);

    const assets = (await readdir(path.join(work, 'dist/assets'))).sort();
    expect(assets.map((name) => name.replace(/-[0-9a-f]{12}\./, '.'))).toEqual(['chart.png', 'diagram.png', 'map.jpg', 'photo.jpg']);
    for (const name of assets) {
      const meta = await sharp(path.join(work, 'dist/assets', name)).metadata();
      expect(meta.width, name).toBeLessThanOrEqual(1200);
      expect(meta.exif, name).toBeUndefined();
      expect(meta.icc === undefined || !meta.icc.includes(Buffer.from('FixtureCam')), name).toBe(true);
      expect(meta.format, name).toBe(name.endsWith('.png') ? 'png' : 'jpeg');
    }
    const photo = await sharp(path.join(work, 'dist/assets', assets.find((n) => n.startsWith('photo'))!)).metadata();
    expect([photo.width, photo.height]).toEqual([1200, 800]);
    // The SVG is rasterized at twice its drawn size and shown at that size.
    const diagram = assets.find((n) => n.startsWith('diagram'))!;
    expect((await sharp(path.join(work, 'dist/assets', diagram)).metadata()).width).toBe(600);
    const $ = cheerio.load(await html('long-read'));
    const shown = $(`img[src$="${diagram}"]`);
    expect([shown.attr('width'), shown.attr('height')]).toEqual(['300', '150']);
  });

  it('keeps the text of every source paragraph in the HTML and in the plain text', async () => {
    for (const file of ['harbour-bundle/index.md', 'market-notes.md']) {
      const paragraphs = sourceParagraphs(await readFile(path.join(FIXTURE, 'content/articles', file), 'utf8'));
      expect(paragraphs.length, file).toBeGreaterThanOrEqual(2);
      const $ = cheerio.load(await html('long-read'));
      const visible = squash($('body').text());
      const plain = squash(await text('long-read'));
      for (const paragraph of paragraphs) {
        expect(visible, `${file} (HTML)`).toContain(paragraph);
        expect(plain, `${file} (text)`).toContain(paragraph);
      }
    }
  });

  it('renders footnotes as a notes list with links both ways, and as [1] in the plain text', async () => {
    const $ = cheerio.load(await html('long-read'));
    const refs = $('a.nl-fnref').toArray();
    expect(refs.map((a) => $(a).text())).toEqual(['[1]', '[2]']);
    for (const ref of refs) {
      const note = $(`[id="${ref.attribs.href!.slice(1)}"]`);
      expect(note.prop('tagName')).toBe('LI');
      const back = note.find('a.nl-backref').attr('href')!;
      expect($(`[id="${back.slice(1)}"]`).get(0)).toBe(ref);
    }
    expect($('ol.nl-notes li').first().text()).toContain('The quay had been closed since the storm in September.');
    const plain = await text('long-read');
    expect(plain).toMatch(/works began\.\[1\]/);
    expect(plain).toMatch(/^\[1\] The quay had been closed since the storm in September\.$/m);
    expect(plain).toMatch(/^\[2\] Night works ended at eleven on weekdays\.$/m);
    expect(plain).not.toContain('[^');
  });

  it('turns embeds into links: a YouTube thumbnail to the video page, a card for a <video>; no iframe or video left', async () => {
    const $ = cheerio.load(await html('long-read'));
    expect($('iframe, video, form, input, button').length).toBe(0);
    const youtube = $('a[href="https://www.youtube.com/watch?v=aqz-KE-bpKQ"]');
    expect(youtube.find('img').attr('src')).toBe('https://i.ytimg.com/vi/aqz-KE-bpKQ/hqdefault.jpg');
    expect(squash(youtube.text())).toBe('▶ Watch on YouTube: First crossing of the season');
    const video = $('a[href="https://media.example.org/market-tour.mp4"]');
    expect(squash(video.text())).toBe('▶ Watch the video');
    expect(video.find('img').attr('src')).toMatch(/^https:\/\/harbour\.example\.com\/assets\/map-[0-9a-f]{12}\.jpg$/);
    // <noscript> content is shown.
    expect(squash($('body').text())).toContain('Opening hours are nine to two.');
    expect(squash(await text('long-read'))).toContain('▶ Watch on YouTube: First crossing of the season (https://www.youtube.com/watch?v=aqz-KE-bpKQ)');
  });

  it('keeps Markdown column alignment and never shows heading anchors', async () => {
    const $ = cheerio.load(await html('long-read'));
    const table = $('th').first().closest('table');
    const header = table.find('th').toArray().map((th) => th.attribs.align);
    expect(header).toEqual(['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'center']);
    expect(table.find('td').eq(1).attr('style')).toMatch(/text-align:\s*right/);
    expect($('body').text()).not.toContain('{#');
    expect($('h2').first().text()).toBe('What changed on the quay');
  });

  it('lets a gallery layout with <mj-font> (MJML writes @import url(…;…)) pass the compatibility check', async () => {
    const result = await runCli(['check', 'gallery', '--json'], { cwd: work, timeoutMs: 60_000 });
    type Finding = { rule: string; message: string };
    const report = JSON.parse(result.stdout) as { issues: { findings: Finding[] }[]; shared?: Finding[] };
    // Findings of the templates may be reported once for every issue, under `shared`.
    const findings = [...report.issues[0]!.findings, ...(report.shared ?? [])];
    expect(findings.filter((f) => /could not run/.test(f.message))).toEqual([]);
    expect(findings.some((f) => f.rule === 'compat/mjml' && f.message.includes('@import'))).toBe(true);
    expect(findings.filter((f) => f.rule === 'content/removed').map((f) => f.message)).toContain('removed <form>: not allowed in email');
  }, 60_000);
});

describe('front matter as static-site generators write it', () => {
  it('maps TOML and YAML keys of Hugo, Zola and Jekyll onto ours, and notes the ignored ones once', async () => {
    const issue = await loadIssue(path.join(FIXTURE, 'content'), 'digest', ROOT);
    const [bundle, market] = issue.articles;
    expect(bundle).toMatchObject({
      title: 'The harbour reopens after the winter works',
      author: 'Ada Writer and Ben Reporter',
      date: '2024-03-04',
      summary: 'Six months of dredging, a new quay wall and the first ferry back on the timetable.',
      tags: ['city', 'transport'],
      image: './photo.jpg',
    });
    expect(bundle!.findings.filter((f) => f.rule === 'content/ignored-keys').map((f) => [f.message, f.line])).toEqual([
      ['front-matter keys `weight`, `aliases`, `slug`, `extra` mean nothing in an email and were ignored', 8],
    ]);
    expect(market).toMatchObject({ author: 'Chloe Columnist', date: '2024-03-02', summary: 'Stalls return on Saturdays, with a new row for local growers.', tags: ['city', 'food'] });
  });

  it('keeps a draft out of an issue unless the issue allows drafts', async () => {
    const error = (await loadIssue(path.join(FIXTURE, 'content'), 'with-draft', ROOT).catch((e: unknown) => e)) as NewsletterError;
    expect(error).toBeInstanceOf(NewsletterError);
    expect(error.format()).toMatch(/^.*content[/\\]issues[/\\]with-draft\.md:5: article `draft-post` is a draft/);
    const proof = await loadIssue(path.join(FIXTURE, 'content'), 'proof', ROOT);
    expect(proof.articles.map((a) => a.draft)).toEqual([true]);
  });

  it.each([
    ['impossible-date', /impossible-date\.md:3: `2024-02-30` is not a date in the calendar/],
    ['typo-key', /typo-key\.md:3: unknown key `sumary` \(did you mean `summary`\?\)/],
    ['missing-image', /missing-image\.md:6: image `\.\/nowhere\/photo\.jpg` does not exist/],
  ])('names the file and line: %s', async (slug, expected) => {
    const error = (await loadIssue(path.join(FIXTURE, 'broken'), slug, ROOT).catch((e: unknown) => e)) as NewsletterError;
    expect(error).toBeInstanceOf(NewsletterError);
    expect(error.format()).toMatch(expected);
  });
});

describe('builds that do not fall over', () => {
  it('`build A B C` with a failing B builds A and C, reports B, and exits 1', async () => {
    const dir = await project();
    const result = await runCli(['build', 'digest', 'with-draft', 'gallery'], { cwd: dir, timeoutMs: 90_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/with-draft\.md:5: article `draft-post` is a draft/);
    expect(result.stderr).toMatch(/1 issue of 3 failed \(with-draft\); the others were built/);
    for (const slug of ['digest', 'gallery']) await expect(readFile(path.join(dir, 'dist', slug, 'index.html'), 'utf8')).resolves.toContain('<html');
    await expect(readdir(path.join(dir, 'dist'))).resolves.not.toContain('with-draft');
  }, 100_000);

  it('embeds images as inline parts with `images: "embed"`, referenced by cid:', async () => {
    const dir = await project();
    const config = JSON.parse(await readFile(path.join(dir, 'newsletter.config.json'), 'utf8'));
    await writeFile(path.join(dir, 'newsletter.config.json'), JSON.stringify({ ...config, images: 'embed' }));
    const result = await runCli(['build', 'gallery'], { cwd: dir, timeoutMs: 60_000 });
    expect(result.stderr).toBe('');
    // skipImageLinks: keep the cid: references as sent (mailparser would inline them as data: URLs).
    const mail = await simpleParser(await readFile(path.join(dir, 'dist/gallery/message.eml')), { skipImageLinks: true });
    const $ = cheerio.load(String(mail.html));
    const cids = $('img[src^="cid:"]').toArray().map((img) => img.attribs.src!.slice(4));
    expect(cids.length).toBeGreaterThanOrEqual(4);
    const parts = new Map(mail.attachments.map((a) => [a.cid, a]));
    for (const cid of cids) {
      expect(parts.get(cid)?.contentDisposition, cid).toBe('inline');
      expect((await sharp(parts.get(cid)!.content).metadata()).exif).toBeUndefined();
    }

    // What `send` delivers carries the same inline parts (the two-part fast path has no room for
    // them, so each copy is composed with them): no cid: reference without its image.
    await writeFile(path.join(dir, 'list.csv'), 'email,name\nada@example.com,Ada\nbo@example.com,Bo\n');
    const sent = await runCli(['send', 'gallery', '--list', 'list.csv'], { cwd: dir, timeoutMs: 60_000 });
    expect(sent.code, sent.stderr).toBe(0);
    const outbox = path.join(dir, 'outbox/gallery');
    const files = (await readdir(outbox)).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(2);
    for (const file of files) {
      const copy = await simpleParser(await readFile(path.join(outbox, file)), { skipImageLinks: true });
      const copyCids = cheerio.load(String(copy.html))('img[src^="cid:"]').toArray().map((img) => img.attribs.src!.slice(4));
      expect(copyCids.sort()).toEqual([...cids].sort());
      const inline = new Set(copy.attachments.filter((a) => a.contentDisposition === 'inline').map((a) => a.cid));
      for (const cid of copyCids) expect(inline.has(cid), `${file}: ${cid}`).toBe(true);
    }
  }, 90_000);
});

describe('screenshots and check see overflow', () => {
  /** The gallery layout with a block a template author fixed at 640 px. */
  async function overflowing(): Promise<string> {
    const dir = await project();
    const layout = path.join(dir, 'templates/layouts/gallery.mjml');
    const source = await readFile(layout, 'utf8');
    await writeFile(layout, source.replace('{{#each articles}}', '<mj-section><mj-column><mj-text><div style="width:640px">Summer timetable banner</div></mj-text></mj-column></mj-section>\n    {{#each articles}}'));
    return dir;
  }

  it('`screenshot` prints the real PNG size, and warns naming the widest element when the page is wider', async () => {
    const fine = await runCli(['screenshot', 'gallery', '--width', '375', '--out', 'shots'], { cwd: work, timeoutMs: 60_000 });
    expect(fine.code).toBe(0);
    expect(fine.stdout).toMatch(/gallery-375\.png {2}375×\d+/);
    expect(fine.stderr).toBe('');

    const dir = await overflowing();
    const wide = await runCli(['screenshot', 'gallery', '--width', '375', '--out', 'shots'], { cwd: dir, timeoutMs: 60_000 });
    expect(wide.code).toBe(0);
    const size = /gallery-375\.png {2}(\d+)×(\d+)/.exec(wide.stdout);
    expect(Number(size?.[1])).toBeGreaterThan(375);
    const png = await readFile(path.join(dir, 'shots/gallery-375.png'));
    expect(png.readUInt32BE(16)).toBe(Number(size![1]));
    expect(wide.stderr).toMatch(/warning: gallery is \d+ px wide at a 375 px viewport; widest element: `<div style="width: ?640px;?">` \("Summer timetable banner"\)/);
  }, 120_000);

  it('`check --a11y` reports overflow at 375 px as an error naming the element and its template', async () => {
    const dir = await overflowing();
    const result = await runCli(['check', 'gallery', '--a11y', '--json'], { cwd: dir, timeoutMs: 90_000 });
    type Finding = { rule: string; severity: string; message: string; file?: string; line?: number };
    const report = JSON.parse(result.stdout) as { issues: { findings: Finding[] }[]; shared?: Finding[] };
    const overflow = [...report.issues[0]!.findings, ...(report.shared ?? [])].filter((f) => f.rule === 'layout/overflow');
    expect(overflow).toHaveLength(1);
    expect(overflow[0]).toMatchObject({ severity: 'error', file: expect.stringMatching(/layouts[/\\]gallery\.mjml$/) });
    expect(overflow[0]!.message).toMatch(/is \d+ px wide on a 375 px phone.*<div style="width: ?640px;?">/);
    expect(result.code).toBe(1);
    const clean = await runCli(['check', 'gallery', '--a11y', '--json'], { cwd: work, timeoutMs: 90_000 });
    const cleanReport = JSON.parse(clean.stdout) as typeof report;
    expect([...cleanReport.issues[0]!.findings, ...(cleanReport.shared ?? [])].filter((f) => f.rule === 'layout/overflow')).toEqual([]);
  }, 200_000);
});

describe('the preview', () => {
  it('shows local images from the render before they are published', async () => {
    const dir = await project();
    const server = await startPreviewServer({ request: { cwd: dir }, port: 0 });
    try {
      await server.ready;
      const email = await (await fetch(`${server.url}issues/long-read/email.html`)).text();
      const $ = cheerio.load(email);
      const local = $('img[src^="images/"]').toArray().map((img) => img.attribs.src!);
      expect(local.length).toBeGreaterThanOrEqual(4);
      expect($('img[src^="https://harbour.example.com/assets/"]').length).toBe(0);
      for (const src of local) {
        const response = await fetch(`${server.url}issues/long-read/${src}`);
        expect(response.status, src).toBe(200);
        expect(response.headers.get('content-type'), src).toMatch(/^image\/(jpeg|png)$/);
      }
      expect((await fetch(`${server.url}issues/long-read/images/..%2Fnewsletter.config.json`)).status).toBe(404);
      expect((await fetch(`${server.url}issues/long-read/images/not-an-asset.png`)).status).toBe(404);
    } finally {
      await server.close();
    }
  }, 60_000);
});
