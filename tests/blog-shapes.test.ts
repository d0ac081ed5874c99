import { cp, mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';
import { humanDate, isArticleSlug } from '../src/content/schemas.js';
import { articleCandidates, loadArticle } from '../src/content/load-article.js';
import { planChanges } from '../src/preview/change-plan.js';
import { NewsletterError } from '../src/errors.js';

/**
 * Posts where and as their blogs keep them (tests/fixtures/blog-shapes, written in the shapes of
 * Eleventy, Astro, Chirpy and Hugo posts): a tag as a string, a date in words, a hero image two
 * folders up, an image map, Hugo's `_index.md`, a bundle named after its folder, a folder with a
 * space, nested folders, and an `.mdx` post. Built by the real CLI; the email read as a DOM.
 */

const FIXTURE = path.join(FIXTURES, 'blog-shapes');
let work: string;
let build: Awaited<ReturnType<typeof runCli>>;
let $: cheerio.CheerioAPI;
let text: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'nl-shapes-'));
  await cp(FIXTURE, work, { recursive: true });
  await cp(path.join(ROOT, 'templates'), path.join(work, 'templates'), { recursive: true });
  build = await runCli(['build', 'shapes'], { cwd: work, timeoutMs: 90_000 });
  $ = cheerio.load(await readFile(path.join(work, 'dist', 'shapes', 'index.html'), 'utf8'));
  text = await readFile(path.join(work, 'dist', 'shapes', 'index.txt'), 'utf8');
}, 120_000);

describe('posts as their blogs keep them', () => {
  it('all build, each under its own title, in the order of the issue', () => {
    expect(build.stderr).not.toMatch(/error/i);
    expect(build.code).toBe(0);
    expect($('h1, h2, h3').toArray().map((h) => $(h).text().trim())).toEqual([
      'A post with one tag, written as a string',
      'An Astro starter post',
      'A post in a nested folder',
      'A Chirpy post with an image map',
      "What's new in version 3",
      'A bundle named after its folder',
      'A gallery in a folder with a space',
      'Using MDX',
    ]);
  });

  it('reads dates written in words, and shows them as dates', () => {
    expect(text).toMatch(/^An Astro starter post\n[=-]+\n19 June 2024\b/m);
    expect(text).toMatch(/^A post in a nested folder\n[=-]+\n19 June 2024\b/m);
    expect(humanDate('Jun 19 2024')).toBe('2024-06-19');
    expect(humanDate('June 1, 2024')).toBe('2024-06-01');
    expect(humanDate('19 June 2024')).toBe('2024-06-19');
    expect(humanDate('Wed, 19 Jun 2024')).toBe('2024-06-19');
    // The month in digits is ambiguous (May or June?): not a date in words.
    expect(humanDate('05/06/2024')).toBeNull();
    expect(humanDate('19 Juneteenth 2024')).toBeNull();
  });

  it('shows the images of Astro heroImage, a Chirpy image map (with its alt), a bundle named after its folder and a folder with a space', async () => {
    const images = $('img').toArray().map((img) => ({ src: $(img).attr('src')!, alt: $(img).attr('alt') }));
    const assets = new Set(await readdir(path.join(work, 'dist', 'assets')));
    const names = images.map((i) => /\/assets\/([^/]+)$/.exec(i.src)?.[1]);
    for (const name of names) expect(assets.has(name!), `${name} was written`).toBe(true);
    expect(names.map((n) => n!.replace(/-[0-9a-f]{12}\./, '.'))).toEqual(['hero.png', 'device.png', 'possum.png', 'boat.png']);
    expect(images[1]!.alt).toBe('A device mockup in three sizes.');
  });

  it('notes what of an image map it ignored, at its line', async () => {
    const check = await runCli(['check', 'shapes', '--json'], { cwd: work, timeoutMs: 90_000 });
    const findings = (JSON.parse(check.stdout) as { issues: { findings: { rule: string; file?: string; line?: number; message: string }[] }[] }).issues.flatMap((i) => i.findings);
    const ignored = findings.filter((f) => f.rule === 'content/ignored-keys' && f.file?.endsWith('chirpy-image.md'));
    expect(ignored.map((f) => [f.line, f.message])).toEqual([[8, 'front-matter key `image.lqip` means nothing in an email and was ignored']]);
  });

  it('reads an .mdx post as the Markdown it holds: statements, components and expressions removed, each a warning at its line; children kept', async () => {
    const check = await runCli(['check', 'shapes', '--json'], { cwd: work, timeoutMs: 90_000 });
    const report = JSON.parse(check.stdout) as { issues: { findings: { rule: string; file?: string; line?: number; message: string }[] }[] };
    const removed = report.issues.flatMap((i) => i.findings).filter((f) => f.rule === 'content/removed' && f.file?.endsWith('components.mdx'));
    expect(removed.map((f) => f.line)).toEqual([7, 8, 12, 16, 18, 20, 22]);
    expect(removed.map((f) => f.message.split(' removed')[0])).toEqual([
      'MDX statement `import Callout from`',
      'MDX statement `import {`',
      'MDX statement `export const meta`',
      'MDX component tag `<Callout type="note">`',
      'MDX component tag `</Callout>`',
      'MDX component tag `<Chart data={[1, 2, 3]} />`',
      'MDX expression `{new Date().getFullYear()}`',
    ]);
    const paragraphs = $('p').toArray().map((p) => $(p).text().replace(/\s+/g, ' ').trim());
    expect(paragraphs.filter((p) => /^The component.s text stays for the reader\.$/.test(p))).toHaveLength(1);
    // The component's indented child is text, not a code block; inline code keeps its braces.
    expect($('pre').length).toBe(0);
    expect($('code').toArray().map((c) => $(c).text())).toContain('{inline}');
    expect(text).not.toMatch(/import|export const|<Callout|<Chart|getFullYear/);
  });

  it('refuses slugs that would leave the articles folder, before reading anything', async () => {
    for (const slug of ['../secret', 'a/../../b', '/etc/passwd', 'a\\b', 'a//b', ' lead', 'nul\u0000']) {
      expect(isArticleSlug(slug), slug).toBe(false);
      await expect(loadArticle(path.join(work, 'content', 'articles'), slug, work)).rejects.toThrow(NewsletterError);
    }
    for (const slug of ['harbour', 'blog/2024/post', 'Image Gallery', 'étude', '2024-01-01-post.v2']) expect(isArticleSlug(slug), slug).toBe(true);
    expect(articleCandidates('/c/articles', 'fourthpost').map((c) => path.relative('/c/articles', c))).toEqual([
      'fourthpost.md', 'fourthpost.mdx', 'fourthpost.txt', 'fourthpost/index.md', 'fourthpost/index.mdx', 'fourthpost/_index.md', 'fourthpost/fourthpost.md',
    ]);
  });

  it('finds a folder with spaces or capitals when the issue writes it as a slug', async () => {
    const article = await loadArticle(path.join(work, 'content', 'articles'), 'photo-gallery', work);
    expect(article.title).toBe('A gallery in a folder with a space');
    expect(article.slug).toBe('photo-gallery');
  });

  it('re-renders in the preview when a nested post, a bundle file or an image in a spaced folder changes', () => {
    const content = path.join(work, 'content');
    const plan = planChanges({ content, templates: path.join(work, 'templates'), config: path.join(work, 'newsletter.config.json') }, [
      path.join(content, 'articles', 'blog', '2024', 'nested-post.md'),
      path.join(content, 'articles', 'sixthpost', 'sixthpost.md'),
      path.join(content, 'articles', 'Photo Gallery', 'boat.png'),
    ]);
    for (const slug of ['blog/2024/nested-post', 'sixthpost', 'Photo Gallery', 'photo-gallery']) expect(plan.articles.has(slug), slug).toBe(true);
  });
});
