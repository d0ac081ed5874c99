import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Browser } from 'playwright-core';
import { publishSite } from '../src/publish/publish-site.js';
import { isNewsletterError } from '../src/errors.js';
import { launchTestBrowser } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';
import { publishProject, type PublishProject } from './helpers/publish-project.js';

/** `newsletter publish`: the static site, read back as a browser, a feed reader and a sync would. */

const NOW = new Date('2024-06-15T12:00:00Z');
const SAMPLE = 'reader@example.com';

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): the keys we write, with their types. */
const jsonFeedSchema = z.looseObject({
  version: z.literal('https://jsonfeed.org/version/1.1'),
  title: z.string().min(1),
  home_page_url: z.url(),
  feed_url: z.url(),
  language: z.string().min(2),
  items: z.array(
    z.looseObject({
      id: z.string().min(1),
      url: z.url(),
      title: z.string(),
      content_html: z.string().min(1),
      summary: z.string().optional(),
      date_published: z.iso.datetime(),
      authors: z.array(z.looseObject({ name: z.string() })).optional(),
    }),
  ),
}).refine((feed) => !('author' in feed) && feed.items.every((item) => !('author' in item)), '1.1 has `authors`, not `author`');

describe('publish', () => {
  let project: PublishProject;

  beforeAll(async () => {
    project = await publishProject([
      { slug: 'spring', subject: 'Spring issue', date: '2024-03-01' },
      { slug: 'summer', subject: 'Summer issue', date: '2024-06-01' },
      { slug: 'winter', subject: 'Winter issue', date: '2024-01-05' },
      { slug: 'secret-draft', subject: 'Not yet', date: '2024-05-01', draft: true },
      { slug: 'next-month', subject: 'From the future', date: '2024-07-01' },
    ]);
  }, 30_000);

  it('writes web editions, archive, feeds, sitemap and robots, leaving out drafts and future dates', async () => {
    const result = await publishSite({ project: await project.load(), now: NOW });
    expect(result.issues.map((issue) => issue.slug)).toEqual(['summer', 'spring', 'winter']);
    expect(result.skipped).toEqual([
      { slug: 'next-month', reason: 'future' },
      { slug: 'secret-draft', reason: 'draft' },
    ]);
    for (const file of ['index.html', 'feed.xml', 'atom.xml', 'feed.json', 'sitemap.xml', 'robots.txt', 'issues/summer/index.html']) {
      expect((await stat(path.join(project.site, file))).isFile(), file).toBe(true);
    }
    await expect(stat(path.join(project.site, 'issues/secret-draft/index.html'))).rejects.toThrow();

    const $ = cheerio.load(await readFile(path.join(project.site, 'index.html'), 'utf8'));
    expect($('article h2 a').map((_, a) => $(a).text()).get()).toEqual(['Summer issue', 'Spring issue', 'Winter issue']);
    expect($('article h2 a').first().attr('href')).toBe('https://news.example.com/issues/summer/');
    expect($('article time').first().attr('datetime')).toBe('2024-06-01');
    expect($('link[rel=alternate]').map((_, l) => $(l).attr('type')).get()).toEqual(['application/rss+xml', 'application/atom+xml', 'application/feed+json']);
    expect($('nav.pages').length).toBe(0);

    const robots = await readFile(path.join(project.site, 'robots.txt'), 'utf8');
    expect(robots).toContain('Disallow: /unsubscribe/');
    // Sign-up pages (issue 22): a crawler has nothing to do there.
    expect(robots.split('\n')).toEqual(expect.arrayContaining(['Disallow: /confirm/', 'Disallow: /subscribe']));
    expect(robots).toContain('Sitemap: https://news.example.com/sitemap.xml');
    const sitemap = cheerio.load(await readFile(path.join(project.site, 'sitemap.xml'), 'utf8'), { xml: true });
    expect(sitemap('url > loc').map((_, l) => sitemap(l).text()).get()).toEqual([
      'https://news.example.com/',
      'https://news.example.com/issues/summer/',
      'https://news.example.com/issues/spring/',
      'https://news.example.com/issues/winter/',
    ]);
  }, 60_000);

  it('gives the web edition head tags and no recipient data at all', async () => {
    const html = await readFile(path.join(project.site, 'issues/summer/index.html'), 'utf8');
    const $ = cheerio.load(html);
    expect($('title').text()).toBe('Summer issue');
    expect($('link[rel=canonical]').attr('href')).toBe('https://news.example.com/issues/summer/');
    expect($('meta[property="og:title"]').attr('content')).toBe('Summer issue');
    expect($('meta[property="og:url"]').attr('content')).toBe('https://news.example.com/issues/summer/');
    expect($('meta[name=description]').attr('content')).toMatch(/^The news of summer/);
    expect($('meta[name="twitter:card"]').attr('content')).toBe('summary');
    expect($('link[rel=alternate]').length).toBe(3);
    expect(html).not.toContain(SAMPLE);
    expect(html).not.toContain('Sample Reader');
    expect(html).not.toMatch(/unsubscribe/i);
    expect($('a').filter((_, a) => $(a).text() === 'All issues').attr('href')).toBe('https://news.example.com/');
    expect($('body').text()).toContain('Kim Jong Un to travel to Russia for talks with Putin');
  });

  it('puts the sign-up form on the archive and every web edition, once, and not in the feeds (issue 22)', async () => {
    // The form of the previous test's publish; a second publish of one issue keeps one form per page.
    await publishSite({ project: await project.load(), now: NOW, slugs: ['summer'] });
    for (const [file, page] of [['index.html', 'https://news.example.com/'], ['issues/summer/index.html', 'https://news.example.com/issues/summer/'], ['issues/spring/index.html', 'https://news.example.com/issues/spring/']] as const) {
      const $ = cheerio.load(await readFile(path.join(project.site, file), 'utf8'));
      const form = $('.nl-subscribe form');
      expect(form.length, file).toBe(1);
      expect(form.attr('method')).toBe('post');
      expect(form.attr('action')).toBe('https://news.example.com/subscribe');
      expect(form.find('input[type="email"][name="email"][required]').length).toBe(1);
      expect(form.find('input[name="website"][tabindex="-1"]').length).toBe(1);
      expect(form.find('input[type="hidden"][name="page"]').attr('value')).toBe(page);
      expect(form.find('.nl-subscribe-consent').text()).toContain('I agree to receive this newsletter by email.');
      expect(form.find('script').length + $('.nl-subscribe script').length).toBe(0);
    }
    const rss = await readFile(path.join(project.site, 'feed.xml'), 'utf8');
    expect(rss).not.toContain('nl-subscribe');
  });

  it('makes RSS and Atom feeds whose entries, parsed by a feed reader, are the published issues', async () => {
    for (const file of ['feed.xml', 'atom.xml']) {
      const feed = parseFeed(await readFile(path.join(project.site, file), 'utf8'));
      expect(feed.title).toBe('The Northern Dispatch');
      expect(feed.url).toBe('https://news.example.com/');
      expect(feed.items.map((item) => [item.title, item.url, item.published?.toISOString().slice(0, 10)])).toEqual([
        ['Summer issue', 'https://news.example.com/issues/summer/', '2024-06-01'],
        ['Spring issue', 'https://news.example.com/issues/spring/', '2024-03-01'],
        ['Winter issue', 'https://news.example.com/issues/winter/', '2024-01-05'],
      ]);
      expect(feed.items.map((item) => item.id)).toEqual(feed.items.map((item) => item.url));
      const content = cheerio.load(feed.items[0]!.content ?? '');
      expect(content.text()).toContain('Kim Jong Un to travel to Russia for talks with Putin');
      expect(feed.items[0]!.content).not.toContain(SAMPLE);
    }
  });

  it('makes a JSON Feed 1.1', async () => {
    const feed = jsonFeedSchema.parse(JSON.parse(await readFile(path.join(project.site, 'feed.json'), 'utf8')));
    expect(feed.items.map((item) => item.id)).toEqual(['https://news.example.com/issues/summer/', 'https://news.example.com/issues/spring/', 'https://news.example.com/issues/winter/']);
    expect(feed.items[0]!.date_published).toBe('2024-06-01T00:00:00.000Z');
    expect(feed.feed_url).toBe('https://news.example.com/feed.json');
  });

  it('rewrites no file on a rerun with nothing changed, and only what changed after an edit', async () => {
    const index = path.join(project.site, 'index.html');
    const before = (await stat(index)).mtimeMs;
    const again = await publishSite({ project: await project.load(), now: NOW });
    expect(again.written).toEqual([]);
    expect(again.removed).toEqual([]);
    expect((await stat(index)).mtimeMs).toBe(before);

    await project.writeIssue({ slug: 'spring', subject: 'Spring issue, corrected', date: '2024-03-01' });
    const edited = await publishSite({ project: await project.load(), now: NOW });
    expect(edited.written.sort()).toEqual(['atom.xml', 'feed.json', 'feed.xml', 'index.html', 'issues/spring/index.html']);
  }, 60_000);

  it('publishes drafts and future issues with drafts: true, and removes them again without', async () => {
    const staging = await publishSite({ project: await project.load(), now: NOW, drafts: true });
    expect(staging.issues.map((issue) => issue.slug)).toEqual(['next-month', 'summer', 'secret-draft', 'spring', 'winter']);
    const live = await publishSite({ project: await project.load(), now: NOW });
    expect(live.removed.sort()).toEqual(['issues/next-month/index.html', 'issues/secret-draft/index.html']);
    await expect(stat(path.join(project.site, 'issues/next-month'))).rejects.toThrow();
  }, 60_000);

  it('renders only the issues named and keeps the published page of the others', async () => {
    const page = path.join(project.site, 'issues/winter/index.html');
    await writeFile(page, '<!doctype html><html><head><title>kept</title></head><body><p>kept page</p></body></html>');
    await publishSite({ project: await project.load(), now: NOW, slugs: ['summer'] });
    expect(await readFile(page, 'utf8')).toContain('kept page');
    const feed = parseFeed(await readFile(path.join(project.site, 'feed.xml'), 'utf8'));
    expect(feed.items.find((item) => item.title === 'Winter issue')?.content).toContain('kept page');
    await publishSite({ project: await project.load(), now: NOW });
    expect(await readFile(page, 'utf8')).not.toContain('kept page');
  }, 60_000);

  it('is readable at 375 and 1280 px in Chromium: no horizontal scroll, no reader data', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchTestBrowser();
      for (const width of [375, 1280]) {
        const page = await browser.newPage({ viewport: { width, height: 800 } });
        for (const file of ['issues/summer/index.html', 'index.html']) {
          await page.goto(`file://${path.join(project.site, file)}`);
          const { scrollWidth, innerWidth, text } = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            text: document.body.innerText,
          }));
          expect(scrollWidth, `${file} at ${width}px`).toBeLessThanOrEqual(innerWidth);
          expect(text).not.toContain(SAMPLE);
          expect(text).not.toContain('Sample Reader');
        }
        await page.close();
      }
    } finally {
      await browser?.close();
    }
  }, 60_000);
});

describe('publish: the archive past 50 issues', () => {
  it('is paginated, 50 a page, newest first, with links both ways', async () => {
    const specs = Array.from({ length: 53 }, (_, i) => ({ slug: `n${String(i + 1).padStart(3, '0')}`, date: `2023-${String(Math.floor(i / 28) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}` }));
    const project = await publishProject(specs);
    const result = await publishSite({ project: await project.load(), now: NOW });
    expect(result.issues).toHaveLength(53);
    const first = cheerio.load(await readFile(path.join(project.site, 'index.html'), 'utf8'));
    expect(first('article').length).toBe(50);
    expect(first('article h2 a').first().text()).toBe('Issue n053');
    expect(first('a[rel=next]').attr('href')).toBe('https://news.example.com/page/2/');
    const second = cheerio.load(await readFile(path.join(project.site, 'page/2/index.html'), 'utf8'));
    expect(second('article h2 a').map((_, a) => second(a).text()).get()).toEqual(['Issue n003', 'Issue n002', 'Issue n001']);
    expect(second('a[rel=prev]').attr('href')).toBe('https://news.example.com/');
    expect(second('link[rel=canonical]').attr('href')).toBe('https://news.example.com/page/2/');
  }, 120_000);
});

describe('publish: templates', () => {
  it('refuses a web edition whose template prints recipient data, naming the template', async () => {
    const base = await publishProject([{ slug: 'one', date: '2024-01-01' }]);
    const templates = path.join(base.dir, 'templates');
    await cp(base.templates, templates, { recursive: true });
    const header = path.join(templates, 'partials/header.mjml');
    await writeFile(header, (await readFile(header, 'utf8')).replace('<mj-column>', '<mj-column>\n    <mj-text>Hello {{@root.recipient.name}}</mj-text>'));
    const project = await publishProject([{ slug: 'one', date: '2024-01-01' }], { templates });
    const error = await publishSite({ project: await project.load(), now: NOW }).catch((e: unknown) => e);
    expect(isNewsletterError(error) && error.code).toBe('TEMPLATE_VARIABLE');
    expect((error as Error).message).toMatch(/recipient data/);
    await expect(stat(path.join(project.site, 'index.html'))).rejects.toThrow();
  }, 30_000);

  it('copies <out>/assets/ into the site', async () => {
    const project = await publishProject([{ slug: 'one', date: '2024-01-01' }]);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(project.out, 'assets/one'), { recursive: true });
    await writeFile(path.join(project.out, 'assets/one/photo.jpg'), Buffer.from([0xff, 0xd8, 0xff]));
    await publishSite({ project: await project.load(), now: NOW });
    expect(await readFile(path.join(project.site, 'assets/one/photo.jpg'))).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  }, 30_000);
});

describe('newsletter publish (CLI)', () => {
  it('prints what it wrote and what it left out; a second run writes nothing', async () => {
    const project = await publishProject([
      { slug: 'old', date: '2024-01-01' },
      { slug: 'wip', date: '2024-01-02', draft: true },
      { slug: 'undated', date: null },
    ]);
    // The real executable: publish compiles MJML on worker threads, which run the compiled lib/.
    const args = ['publish', '--content', path.join(project.dir, 'content'), '--templates', project.templates];
    const first = await runCli(args, { cwd: project.dir, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('wip: left out (`draft: true`; --drafts publishes it)');
    expect(first.stdout).toMatch(/^dist\/site\/ {2}2 issues: 8 files written, 0 unchanged, 0 removed$/m);
    expect(first.stderr).toMatch(/undated\.md: no `date:`: published as of its file's date/);
    const second = await runCli(args, { cwd: project.dir, timeoutMs: 60_000 });
    expect(second.stdout).toMatch(/^dist\/site\/ {2}2 issues: 0 files written, 8 unchanged, 0 removed$/m);
  }, 60_000);

  it('names an issue that does not exist', async () => {
    const project = await publishProject([{ slug: 'old', date: '2024-01-01' }]);
    const run = await runCli(['publish', 'nope', '--content', path.join(project.dir, 'content'), '--templates', project.templates], { cwd: project.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no issue `nope`.*\n.*issues here: old/);
  }, 30_000);
});
