import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { displayPath } from '../fs/display-path.js';
import { issuesDir, listIssues, loadIssue } from '../content/load-issue.js';
import type { Issue } from '../content/types.js';
import { NewsletterError } from '../errors.js';
import type { Project } from '../pipeline.js';
import { viewInBrowserUrl } from '../render/links.js';
import type { Mjml2Html } from '../render/mjml.js';
import { renderWebEdition } from '../render/web-edition.js';
import { layoutFor } from '../render/templates.js';
import { prepareIssueImages } from '../render/images/issue-images.js';
import { compileCache } from './compile-cache.js';
import { makeFeeds } from './feeds.js';
import { robotsTxt, sitemapXml } from './sitemap.js';
import { loadSiteTemplates, sitePageContext } from './site-templates.js';
import { feedContent, webPage, type FeedLinks } from './web-page.js';
import { subscribeFormContext, withoutSubscribeForm, withSubscribeForm } from './subscribe-form.js';
import { writeSite, type SiteFile, type SiteWriteResult } from './write-site.js';

/**
 * `newsletter publish`: the static website at `<out>/site/`, in this order:
 *
 *   1. select   every issue (or the ones named), minus drafts and future dates unless `drafts`
 *   2. render   each web edition: the issue's layout with `web: true` and no recipient
 *   3. pages    issues/<slug>/index.html (head tags added), the archive (index.html, page/<n>/)
 *   4. feeds    feed.xml (RSS 2.0), atom.xml (Atom 1.0), feed.json (JSON Feed 1.1); sitemap, robots
 *   5. write    assets and issue pages first, then the archive and feeds that link to them;
 *               unchanged files untouched (write-site.ts)
 *
 * An issue that fails (bad front matter, a missing image, a template error) is reported with its
 * error and left out; every other issue is still published, and the page it had from an earlier
 * publish stays where it is, so a typo does not take a published issue off the web. When every
 * issue fails, nothing is written and the first error is thrown.
 *
 * MJML results are cached by their input (compile-cache.ts): an unchanged issue is not compiled.
 */

export interface PublishOptions {
  project: Project;
  /** Issues to render again; the others keep their published page. Every issue when empty. */
  slugs?: readonly string[] | undefined;
  /** Publish drafts and future-dated issues too (for a staging site). */
  drafts?: boolean | undefined;
  /** Today, for leaving out future dates; the clock when absent. */
  now?: Date | undefined;
  compiler?: Mjml2Html | undefined;
  /** Issues rendered at once (match the compiler's workers); one at a time when absent. */
  concurrency?: number | undefined;
  onEvent?: ((event: PublishEvent) => void) | undefined;
}

export type PublishEvent =
  | { kind: 'rendered'; slug: string; index: number; total: number }
  | { kind: 'kept'; slug: string }
  | { kind: 'skipped'; slug: string; reason: 'draft' | 'future' }
  | { kind: 'notice'; message: string; file?: string | undefined }
  | { kind: 'failed'; slug: string; error: unknown };

export interface PublishedIssue {
  slug: string;
  subject: string;
  preheader: string | null;
  /** `YYYY-MM-DD`: the issue's date, or its file's modification day when it has none. */
  date: string;
  url: string;
}

export interface PublishResult extends SiteWriteResult {
  siteDir: string;
  issues: PublishedIssue[];
  skipped: { slug: string; reason: 'draft' | 'future' }[];
  /** Issues that could not be published, with why; the others were. */
  failed: { slug: string; error: unknown }[];
}

export function siteDir(project: Project): string {
  return path.join(project.config.paths.out, DEFAULTS.publish.siteDir);
}

async function fileDay(file: string, cwd: string): Promise<string> {
  try {
    return (await stat(file)).mtime.toISOString().slice(0, 10);
  } catch (error) {
    const shown = displayPath(file, cwd);
    throw new NewsletterError('CONTENT_NOT_FOUND', `cannot read ${shown}: ${(error as Error).message}`, { file: shown });
  }
}

async function readIfExists(file: string, cwd: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const shown = displayPath(file, cwd);
    throw new NewsletterError('OUTPUT_WRITE', `cannot read ${shown}: ${(error as Error).message}`, { file: shown, cause: error });
  }
}

/** The images of the pages rendered now, and `<out>/assets/` (those of `build`), as they are. */
async function assetFiles(outDir: string, rendered: ReadonlyMap<string, string>, cwd: string): Promise<SiteFile[]> {
  const root = path.join(outDir, 'assets');
  const files: SiteFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      const shown = displayPath(dir, cwd);
      throw new NewsletterError('OUTPUT_WRITE', `cannot read ${shown}: ${(error as Error).message}`, { file: shown, cause: error });
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const absolute = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(absolute);
      else if (entry.isFile()) files.push({ path: path.relative(outDir, absolute).split(path.sep).join('/'), content: await readFile(absolute) });
    }
  };
  await walk(root);
  const known = new Set(files.map((file) => file.path));
  for (const [name, file] of [...rendered].sort(([a], [b]) => a.localeCompare(b))) {
    if (known.has(`assets/${name}`)) continue;
    try {
      files.push({ path: `assets/${name}`, content: await readFile(file) });
    } catch (error) {
      const shown = displayPath(file, cwd);
      throw new NewsletterError('OUTPUT_WRITE', `cannot read the processed image ${shown}: ${(error as Error).message}`, { file: shown, cause: error });
    }
  }
  return files;
}

function feedLinks(siteUrl: string): FeedLinks {
  return { rss: `${siteUrl}feed.xml`, atom: `${siteUrl}atom.xml`, json: `${siteUrl}feed.json` };
}

interface Entry {
  issue: Issue;
  date: string;
  url: string;
  page: string;
  /** The lead image as an absolute URL (a local image's processed asset), or null. */
  image: string | null;
}

/**
 * Feeds and Open Graph need an absolute http(s) URL; the `feed` package throws on anything else.
 * A processed local image is `{siteUrl}assets/<name>` already; a remote one is used when it parses.
 */
function absoluteImageUrl(image: string | null | undefined): string | null {
  if (!image || !URL.canParse(image)) return null;
  return /^https?:$/.test(new URL(image).protocol) ? image : null;
}

/**
 * Articles whose email card links to `#<slug>` of the web edition (no `url:`, not shown in full by
 * the email) and whose web edition has no element with that id: the link would land at the top.
 */
function missingAnchors(issue: Issue, html: string): string[] {
  const ids = new Set([...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!));
  const inFull = (index: number) => issue.template === 'article' || (issue.lead === 'full' && index === 0);
  return issue.articles.filter((article, index) => !article.url && !inFull(index) && !ids.has(article.slug)).map((article) => article.slug);
}

export async function publishSite(options: PublishOptions): Promise<PublishResult> {
  const { project } = options;
  const { config, templates } = project;
  const site = siteDir(project);
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const feeds = feedLinks(config.siteUrl);
  const requested = new Set(options.slugs ?? []);
  const cache = compileCache(path.join(config.paths.out, '.newsletter-cache', 'web'), options.compiler);
  const all = await listIssues(config.paths.content, config.paths.cwd);
  for (const slug of requested) if (!all.includes(slug)) await loadIssue(config.paths.content, slug, config.paths.cwd); // throws CONTENT_NOT_FOUND with the known slugs

  const failed: PublishResult['failed'] = [];
  const fail = (slug: string, error: unknown) => {
    failed.push({ slug, error });
    options.onEvent?.({ kind: 'failed', slug, error });
  };

  // 1. select
  const selected: { issue: Issue; date: string }[] = [];
  const skipped: PublishResult['skipped'] = [];
  for (const slug of all) {
    let issue: Issue;
    try {
      issue = await loadIssue(config.paths.content, slug, config.paths.cwd);
    } catch (error) {
      fail(slug, error);
      continue;
    }
    const future = issue.date !== null && issue.date > today;
    if (!options.drafts && (issue.draft || future)) {
      const reason = issue.draft ? 'draft' : 'future';
      skipped.push({ slug, reason });
      options.onEvent?.({ kind: 'skipped', slug, reason });
      continue;
    }
    let date = issue.date;
    if (!date) {
      date = await fileDay(path.join(issuesDir(config.paths.content), `${slug}.md`), config.paths.cwd);
      options.onEvent?.({ kind: 'notice', message: `no \`date:\`: published as of its file's date, ${date}; add one so the archive order and feeds stay put`, file: issue.file });
    }
    selected.push({ issue, date });
  }
  selected.sort((a, b) => (a.date === b.date ? b.issue.slug.localeCompare(a.issue.slug) : b.date.localeCompare(a.date)));

  // 2-3. render the web editions (or keep the published page of an issue not asked for), a few at
  // a time so that every MJML worker of the caller has work
  const entries: (Entry | undefined)[] = new Array(selected.length);
  const imageAssets = new Map<string, string>();
  let rendered = 0;
  let next = 0;
  const renderOne = async (position: number) => {
    const { issue, date } = selected[position]!;
    const url = viewInBrowserUrl({ ...config, baseUrl: `${config.siteUrl}issues/{issue}/` }, issue.slug);
    const file = path.join(site, 'issues', issue.slug, 'index.html');
    const kept = requested.size && !requested.has(issue.slug) ? await readIfExists(file, config.paths.cwd) : null;
    if (kept !== null) {
      // The feeds list it again: its lead image's published URL, from the image cache.
      const hosted: typeof config = config.images === 'hosted' ? config : { ...config, images: 'hosted' };
      const placed = await prepareIssueImages(issue, { config: hosted, width: templates.theme.width });
      for (const asset of placed.assets) imageAssets.set(asset.name, asset.file);
      entries[position] = { issue, date, url, page: withoutSubscribeForm(kept), image: absoluteImageUrl(placed.issue.articles[0]?.image) };
      options.onEvent?.({ kind: 'kept', slug: issue.slug });
      return;
    }
    const { html, assets, leadImage } = await renderWebEdition(issue, { config, templates, compiler: cache.compile });
    for (const slug of missingAnchors(issue, html)) {
      options.onEvent?.({
        kind: 'notice',
        message: `the web edition has no element with id="${slug}": the email's card of that article links there; give its heading \`id="{{slug}}"\``,
        file: layoutFor(templates, issue.template, issue.file).html.file,
      });
    }
    for (const asset of assets) imageAssets.set(asset.name, asset.file);
    const image = absoluteImageUrl(leadImage);
    const page = webPage(html, {
      title: issue.subject,
      description: issue.preheader ?? issue.articles[0]?.summary ?? null,
      url,
      image,
      siteName: config.name,
      date,
      feeds,
    });
    entries[position] = { issue, date, url, page, image };
    options.onEvent?.({ kind: 'rendered', slug: issue.slug, index: ++rendered, total: selected.length });
  };
  const renderOrFail = async (position: number) => {
    try {
      await renderOne(position);
    } catch (error) {
      fail(selected[position]!.issue.slug, error);
    }
  };
  const lanes = Math.max(1, options.concurrency ?? 1);
  await Promise.all(
    Array.from({ length: Math.min(lanes, selected.length) }, async () => {
      while (next < selected.length) await renderOrFail(next++);
    }),
  );
  const published = entries.filter((entry): entry is Entry => entry !== undefined);
  // Nothing left to publish (a template every issue uses is broken): the site as it was stays whole.
  if (published.length === 0 && failed.length) throw failed[0]!.error;
  // A failed issue's page from the last publish stays (unlisted until it publishes again).
  const leftInPlace: SiteFile[] = [];
  for (const { slug } of failed) {
    const page = await readIfExists(path.join(site, 'issues', slug, 'index.html'), config.paths.cwd);
    if (page !== null) leftInPlace.push({ path: `issues/${slug}/index.html`, content: page });
  }

  // 3. archive pages
  const siteTemplates = await loadSiteTemplates(templates);
  const perPage = DEFAULTS.publish.perPage;
  const pageCount = Math.max(1, Math.ceil(published.length / perPage));
  const pageUrl = (n: number) => (n === 1 ? config.siteUrl : `${config.siteUrl}page/${n}/`);
  const archive: SiteFile[] = [];
  for (let n = 1; n <= pageCount; n++) {
    const context = {
      ...sitePageContext(config, templates.theme),
      feeds,
      page: { number: n, total: pageCount, url: pageUrl(n), previousUrl: n > 1 ? pageUrl(n - 1) : null, nextUrl: n < pageCount ? pageUrl(n + 1) : null },
      issues: published.slice((n - 1) * perPage, n * perPage).map((entry) => ({ subject: entry.issue.subject, preheader: entry.issue.preheader, date: entry.date, url: entry.url, slug: entry.issue.slug })),
      signup: subscribeFormContext(config, pageUrl(n)),
    };
    archive.push({ path: n === 1 ? 'index.html' : `page/${n}/index.html`, content: siteTemplates.render('archive', context) });
  }

  // 4. feeds, sitemap, robots
  const made = makeFeeds(
    { name: config.name, siteUrl: config.siteUrl, locale: config.locale, feeds },
    published.map((entry) => ({
      slug: entry.issue.slug,
      subject: entry.issue.subject,
      preheader: entry.issue.preheader,
      date: entry.date,
      url: entry.url,
      content: feedContent(entry.page),
      image: entry.image,
      author: entry.issue.articles[0]?.author ?? null,
    })),
  );
  const sitemap = sitemapXml([
    ...Array.from({ length: pageCount }, (_, i) => ({ url: pageUrl(i + 1), lastmod: i === 0 ? (published[0]?.date ?? null) : null })),
    ...published.map((entry) => ({ url: entry.url, lastmod: entry.date })),
  ]);

  // 5. write: what is linked to goes before what links to it
  const files: SiteFile[] = [
    ...(await assetFiles(config.paths.out, imageAssets, config.paths.cwd)),
    ...published.map((entry) => ({ path: `issues/${entry.issue.slug}/index.html`, content: withSubscribeForm(entry.page, siteTemplates, sitePageContext(config, templates.theme), config, entry.url) })),
    ...leftInPlace,
    ...archive,
    { path: 'feed.xml', content: made.rss },
    { path: 'atom.xml', content: made.atom },
    { path: 'feed.json', content: made.json },
    { path: 'sitemap.xml', content: sitemap },
    { path: 'robots.txt', content: robotsTxt(config.siteUrl) },
  ];
  const written = await writeSite(site, files, config.paths.cwd);
  await cache.prune();
  return {
    ...written,
    siteDir: site,
    skipped,
    failed,
    issues: published.map((entry) => ({ slug: entry.issue.slug, subject: entry.issue.subject, preheader: entry.issue.preheader, date: entry.date, url: entry.url })),
  };
}
