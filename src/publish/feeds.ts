import { Feed, type Item } from 'feed';
import type { FeedLinks } from './web-page.js';

/**
 * RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the published issues, made with the `feed` package. Every
 * date comes from the issues, never the clock, so a rerun with nothing new writes the same bytes.
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

const dayOf = (date: string) => new Date(`${date}T00:00:00Z`);

export function makeFeeds(site: FeedSite, issues: readonly FeedIssue[]): Feeds {
  const feed = new Feed({
    title: site.name,
    description: `Every issue of ${site.name}.`,
    id: site.siteUrl,
    link: site.siteUrl,
    language: site.locale,
    // The newest issue's date: with the clock, every run would change all three files.
    updated: issues.length ? dayOf(issues[0]!.date) : new Date(0),
    generator: 'newsletter-renderer',
    feedLinks: { rss: site.feeds.rss, atom: site.feeds.atom, json: site.feeds.json },
  });
  for (const issue of issues) {
    const item: Item = {
      title: issue.subject,
      id: issue.url,
      link: issue.url,
      date: dayOf(issue.date),
      published: dayOf(issue.date),
      content: issue.content,
    };
    if (issue.preheader) item.description = issue.preheader;
    if (issue.image) item.image = issue.image;
    if (issue.author) item.author = [{ name: issue.author }];
    feed.addItem(item);
  }
  return { rss: feed.rss2(), atom: feed.atom1(), json: jsonFeed11(feed.json1(), site.locale) };
}

type JsonObject = Record<string, unknown>;

/**
 * `feed` writes JSON Feed 1.0; 1.1 renames `author` to an `authors` list and adds `language`
 * (https://www.jsonfeed.org/version/1.1/). Everything else is the same.
 */
function jsonFeed11(json: string, language: string): string {
  const feed = JSON.parse(json) as JsonObject;
  const authors = (object: JsonObject) => {
    if (object.author) object.authors = [object.author];
    delete object.author;
  };
  authors(feed);
  const items = Array.isArray(feed.items) ? (feed.items as JsonObject[]) : [];
  for (const item of items) authors(item);
  const { version: _version, items: _items, title, home_page_url, feed_url, description, ...rest } = feed;
  return `${JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title, home_page_url, feed_url, description, language, ...rest, items }, null, 2)}\n`;
}
