import { escapeHtml } from '../content/html/escape.js';
import type { FeedLinks } from './web-page.js';
import { emptyElement, parentElement, textElement } from './xml.js';

/**
 * RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the published issues. Every date comes from the issues,
 * never the clock, so a rerun with nothing new writes the same bytes.
 *
 * Written here rather than with a feed library: each value goes into its context escaped for
 * it (xml.ts), so no subject or link of an issue can end a CDATA section and forge an entry, and
 * plain-text fields stay text. Subject and preheader are text (`type="text"` in Atom, escaped
 * once more where RSS expects HTML); only the web edition's body is HTML.
 */

export interface FeedIssue {
  slug: string;
  subject: string;
  preheader: string | null;
  /** `YYYY-MM-DD`. */
  date: string;
  url: string;
  /** The web edition's body. */
  content: string;
  image: string | null;
  author: string | null;
}

export interface FeedSite {
  name: string;
  siteUrl: string;
  locale: string;
  feeds: FeedLinks;
}

export interface Feeds {
  rss: string;
  atom: string;
  json: string;
}

const GENERATOR = 'newsletter-renderer';
const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

const dayOf = (date: string) => new Date(`${date}T00:00:00Z`);

/** The newest issue's date: with the clock, every run would change all three files. */
function updated(issues: readonly FeedIssue[]): Date {
  return issues.length ? dayOf(issues[0]!.date) : new Date(0);
}

/** An image as an enclosure: an absolute http(s) URL and its type from the extension, or null. */
function enclosure(image: string | null, base: string): { url: string; type: string } | null {
  if (!image) return null;
  let url: URL;
  try {
    url = new URL(image, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const extension = /\.([a-z0-9]+)$/i.exec(url.pathname)?.[1]?.toLowerCase();
  const type = extension === 'jpg' ? 'jpeg' : extension === 'svg' ? 'svg+xml' : (extension ?? 'jpeg');
  return { url: url.toString(), type: `image/${type}` };
}

export function makeFeeds(site: FeedSite, issues: readonly FeedIssue[]): Feeds {
  return { rss: rss2(site, issues), atom: atom1(site, issues), json: jsonFeed11(site, issues) };
}

function rss2(site: FeedSite, issues: readonly FeedIssue[]): string {
  const items = issues.map((issue) => {
    const image = enclosure(issue.image, issue.url);
    const children = [
      textElement('title', issue.subject),
      textElement('link', issue.url),
      textElement('guid', issue.url, { isPermaLink: 'false' }),
      textElement('pubDate', dayOf(issue.date).toUTCString()),
    ];
    // RSS readers read `description` as HTML: the preheader is text, so it is escaped for HTML first.
    if (issue.preheader) children.push(textElement('description', escapeHtml(issue.preheader)));
    children.push(textElement('content:encoded', issue.content));
    if (issue.author) children.push(textElement('dc:creator', issue.author));
    if (image) children.push(emptyElement('enclosure', { url: image.url, length: 0, type: image.type }));
    return parentElement('item', children);
  });
  const channel = parentElement('channel', [
    textElement('title', site.name),
    textElement('link', site.siteUrl),
    textElement('description', escapeHtml(`Every issue of ${site.name}.`)),
    textElement('lastBuildDate', updated(issues).toUTCString()),
    textElement('docs', 'https://validator.w3.org/feed/docs/rss2.html'),
    textElement('generator', GENERATOR),
    textElement('language', site.locale),
    emptyElement('atom:link', { href: site.feeds.rss, rel: 'self', type: 'application/rss+xml' }),
    ...items,
  ]);
  const rss = parentElement('rss', [channel], {
    version: '2.0',
    'xmlns:dc': 'http://purl.org/dc/elements/1.1/',
    'xmlns:content': 'http://purl.org/rss/1.0/modules/content/',
    'xmlns:atom': 'http://www.w3.org/2005/Atom',
  });
  return `${XML_DECLARATION}\n${rss}\n`;
}

function atom1(site: FeedSite, issues: readonly FeedIssue[]): string {
  const entries = issues.map((issue) => {
    const image = enclosure(issue.image, issue.url);
    const children = [
      textElement('title', issue.subject, { type: 'text' }),
      textElement('id', issue.url),
      emptyElement('link', { href: issue.url }),
      textElement('updated', dayOf(issue.date).toISOString()),
      textElement('published', dayOf(issue.date).toISOString()),
    ];
    if (issue.preheader) children.push(textElement('summary', issue.preheader, { type: 'text' }));
    children.push(textElement('content', issue.content, { type: 'html' }));
    if (issue.author) children.push(parentElement('author', [textElement('name', issue.author)]));
    if (image) children.push(emptyElement('link', { rel: 'enclosure', href: image.url, type: image.type }));
    return parentElement('entry', children);
  });
  const feed = parentElement(
    'feed',
    [
      textElement('id', site.siteUrl),
      textElement('title', site.name, { type: 'text' }),
      textElement('updated', updated(issues).toISOString()),
      textElement('generator', GENERATOR),
      emptyElement('link', { rel: 'alternate', href: site.siteUrl }),
      emptyElement('link', { rel: 'self', href: site.feeds.atom }),
      textElement('subtitle', `Every issue of ${site.name}.`, { type: 'text' }),
      ...entries,
    ],
    { xmlns: 'http://www.w3.org/2005/Atom', 'xml:lang': site.locale },
  );
  return `${XML_DECLARATION}\n${feed}\n`;
}

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): `title` and `summary` are plain text by definition. */
function jsonFeed11(site: FeedSite, issues: readonly FeedIssue[]): string {
  const items = issues.map((issue) => {
    const image = enclosure(issue.image, issue.url);
    return {
      id: issue.url,
      content_html: issue.content,
      url: issue.url,
      title: issue.subject,
      ...(issue.preheader ? { summary: issue.preheader } : {}),
      ...(image ? { image: image.url } : {}),
      date_modified: dayOf(issue.date).toISOString(),
      date_published: dayOf(issue.date).toISOString(),
      ...(issue.author ? { authors: [{ name: issue.author }] } : {}),
    };
  });
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: site.name,
    home_page_url: site.siteUrl,
    feed_url: site.feeds.json,
    description: `Every issue of ${site.name}.`,
    language: site.locale,
    items,
  };
  return `${JSON.stringify(feed, null, 2)}\n`;
}
