import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import * as cheerio from 'cheerio';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { unsubscribeToken } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';
import { runCli } from './helpers/cli.js';
import { journeyProject } from './helpers/journey-project.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';

/**
 * Anything `build` accepts, `publish` and `serve` accept (issue 18, item 1; issue 19, item 17):
 * a lead article with a local image is published with the image's processed URL in the Open
 * Graph tags and every feed; an issue that fails is reported with its file and line while the
 * others are published; `serve` starts and answers unsubscribes all the same.
 */

const ASSET = /^https:\/\/harbour-letter\.co\.uk\/assets\/[\w-]+\.jpg$/;

async function readSite(dir: string) {
  const site = path.join(dir, 'dist/site');
  const page = cheerio.load(await readFile(path.join(site, 'issues/harbour-1/index.html'), 'utf8'));
  const rss = parseFeed(await readFile(path.join(site, 'feed.xml'), 'utf8'));
  const atom = parseFeed(await readFile(path.join(site, 'atom.xml'), 'utf8'));
  const json = JSON.parse(await readFile(path.join(site, 'feed.json'), 'utf8')) as { items: { url: string; image?: string }[] };
  return { site, page, rss, atom, json };
}

/** The image every published surface names, and that it is a published file. */
async function expectPublishedLeadImage(dir: string): Promise<string> {
  const { site, page, rss, atom, json } = await readSite(dir);
  const og = page('meta[property="og:image"]').attr('content')!;
  expect(og).toMatch(ASSET);
  expect(page('meta[name="twitter:image"]').attr('content')).toBe(og);
  // The page's own <img> is the same file.
  expect(page('img').map((_, img) => page(img).attr('src')).get()).toContain(og);
  expect(rss.items[0]!.mediaImages.map((media) => media.url)).toEqual([og]);
  expect(atom.items[0]!.mediaImages.map((media) => media.url)).toEqual([og]);
  expect(json.items[0]!.image).toBe(og);
  const published = await readFile(path.join(site, new URL(og).pathname));
  expect(published.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff])); // a JPEG
  return og;
}

let serve: ServeProcess | null = null;
afterEach(async () => {
  await serve?.stop();
  serve = null;
});

describe('publish with a local lead image', () => {
  it('puts the processed asset URL in Open Graph, RSS, Atom and JSON Feed', async () => {
    const dir = await journeyProject();
    const build = await runCli(['build'], { cwd: dir, timeoutMs: 60_000 });
    expect(build.code, build.stderr).toBe(0);
    const publish = await runCli(['publish'], { cwd: dir, timeoutMs: 60_000 });
    expect(publish.code, publish.stdout + publish.stderr).toBe(0);
    await expectPublishedLeadImage(dir);
  }, 90_000);

  it('takes image paths with spaces, #, ? and unicode, in front matter and in Markdown (19.17)', async () => {
    const dir = await journeyProject();
    const bundle = path.join(dir, 'content/articles/ferry');
    const hostile = 'färja #2?v=1 ü.jpg';
    await copyFile(path.join(bundle, 'ferry.jpg'), path.join(bundle, hostile));
    const article = await readFile(path.join(bundle, 'index.md'), 'utf8');
    await writeFile(
      path.join(bundle, 'index.md'),
      `${article.replace(/^image: .*$/m, `image: "./${hostile}"`)}\n![The quay at dawn](<./${hostile}>)\n`,
    );
    const build = await runCli(['build'], { cwd: dir, timeoutMs: 60_000 });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const publish = await runCli(['publish'], { cwd: dir, timeoutMs: 60_000 });
    expect(publish.code, publish.stdout + publish.stderr).toBe(0);
    const og = await expectPublishedLeadImage(dir);
    // The Markdown image is the same file, at the same published URL.
    const { page } = await readSite(dir);
    expect(page('img[alt="The quay at dawn"]').attr('src')).toBe(og);
  }, 90_000);

  it('publishes the other issues when one fails, names its file and line, and exits 1', async () => {
    const dir = await journeyProject();
    await mkdir(path.join(dir, 'content/articles'), { recursive: true });
    await writeFile(path.join(dir, 'content/articles/lost.md'), '---\ntitle: "The lost photo"\nimage: ./nowhere.jpg\n---\nA body.\n');
    await writeFile(path.join(dir, 'content/issues/harbour-0.md'), '---\nsubject: "An issue with a missing image"\ndate: 2024-10-01\narticles:\n  - slug: lost\n---\nIntro.\n');
    const publish = await runCli(['publish'], { cwd: dir, timeoutMs: 60_000 });
    expect(publish.code, publish.stdout + publish.stderr).toBe(1);
    expect(publish.stderr).toMatch(/^harbour-0: failed$/m);
    expect(publish.stderr).toMatch(/^content\/articles\/lost\.md:3: image `\.\/nowhere\.jpg` does not exist/m);
    expect(publish.stderr).not.toContain('unexpected error');
    // The good issue is on the site, in the archive and the feeds; the failed one is not.
    await expectPublishedLeadImage(dir);
    const { site, rss } = await readSite(dir);
    expect(rss.items.map((item) => item.title)).toEqual(['The new ferry, and the winter timetable']);
    const archive = cheerio.load(await readFile(path.join(site, 'index.html'), 'utf8'));
    expect(archive('a[href*="/issues/"]').map((_, a) => archive(a).attr('href')).get()).toEqual(expect.arrayContaining(['https://harbour-letter.co.uk/issues/harbour-1/']));
    expect(archive('a[href*="/issues/harbour-0/"]').length).toBe(0);
  }, 90_000);

  it('serve, publishing first, says which issue failed and answers unsubscribes', async () => {
    const dir = await journeyProject();
    await writeFile(path.join(dir, 'content/articles/lost.md'), '---\ntitle: "The lost photo"\nimage: ./nowhere.jpg\n---\nA body.\n');
    await writeFile(path.join(dir, 'content/issues/harbour-0.md'), '---\nsubject: "An issue with a missing image"\ndate: 2024-10-01\narticles:\n  - slug: lost\n---\nIntro.\n');
    serve = await startServe(dir, [], { NEWSLETTER_SECRET: 'journey-secret' });
    expect(serve.output()).toContain('publishing it first');
    expect(serve.output()).toMatch(/publish: harbour-0 failed, not on the site: content\/articles\/lost\.md:3: image `\.\/nowhere\.jpg` does not exist/);
    expect((await fetch(new URL('issues/harbour-1/', serve.url))).status).toBe(200);
    expect((await fetch(new URL('healthz', serve.url))).status).toBe(200);
    // A one-click unsubscribe is answered and recorded.
    const token = unsubscribeToken('reader@harbour-letter.co.uk', 'journey-secret', listIdFor(await loadConfig({ cwd: dir })));
    const answer = await fetch(new URL(`unsubscribe/${token}`, serve.url), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(answer.status).toBe(200);
    expect((await readFile(path.join(dir, 'suppressions.txt'), 'utf8')).split('\n')).toContain('reader@harbour-letter.co.uk');
  }, 90_000);

  it('serve starts and answers unsubscribes when no issue can be published at all', async () => {
    const dir = await journeyProject();
    await rm(path.join(dir, 'content/articles/ferry/ferry.jpg'));
    serve = await startServe(dir, [], { NEWSLETTER_SECRET: 'journey-secret' });
    expect(serve.output()).toMatch(/publish: the site could not be written, serving unsubscribes only: content\/articles\/ferry\/index\.md:5: image `\.\/ferry\.jpg` does not exist/);
    const token = unsubscribeToken('reader@harbour-letter.co.uk', 'journey-secret', listIdFor(await loadConfig({ cwd: dir })));
    const answer = await fetch(new URL(`unsubscribe/${token}`, serve.url), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(answer.status).toBe(200);
    expect((await readFile(path.join(dir, 'suppressions.txt'), 'utf8')).split('\n')).toContain('reader@harbour-letter.co.uk');
  }, 90_000);
});
