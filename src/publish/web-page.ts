import Handlebars from 'handlebars';

/**
 * What a web page needs in its <head> beyond what the email has: description, canonical URL,
 * Open Graph and Twitter card tags, and the feeds. Added to the HTML MJML made, before </head>.
 */

export interface PageMeta {
  title: string;
  description: string | null;
  url: string;
  image: string | null;
  siteName: string;
  /** ISO date of the issue, for `article:published_time`. */
  date: string | null;
  feeds: FeedLinks;
}

export interface FeedLinks {
  rss: string;
  atom: string;
  json: string;
}

const attr = (value: string) => Handlebars.escapeExpression(value);

export function feedLinkTags(name: string, feeds: FeedLinks): string[] {
  return [
    `<link rel="alternate" type="application/rss+xml" title="${attr(name)} (RSS)" href="${attr(feeds.rss)}">`,
    `<link rel="alternate" type="application/atom+xml" title="${attr(name)} (Atom)" href="${attr(feeds.atom)}">`,
    `<link rel="alternate" type="application/feed+json" title="${attr(name)} (JSON Feed)" href="${attr(feeds.json)}">`,
  ];
}

export function headTags(meta: PageMeta): string {
  const tags = [
    meta.description ? `<meta name="description" content="${attr(meta.description)}">` : '',
    `<link rel="canonical" href="${attr(meta.url)}">`,
    ...feedLinkTags(meta.siteName, meta.feeds),
    '<meta property="og:type" content="article">',
    `<meta property="og:site_name" content="${attr(meta.siteName)}">`,
    `<meta property="og:title" content="${attr(meta.title)}">`,
    meta.description ? `<meta property="og:description" content="${attr(meta.description)}">` : '',
    `<meta property="og:url" content="${attr(meta.url)}">`,
    meta.image ? `<meta property="og:image" content="${attr(meta.image)}">` : '',
    meta.date ? `<meta property="article:published_time" content="${attr(meta.date)}">` : '',
    `<meta name="twitter:card" content="${meta.image ? 'summary_large_image' : 'summary'}">`,
    `<meta name="twitter:title" content="${attr(meta.title)}">`,
    meta.description ? `<meta name="twitter:description" content="${attr(meta.description)}">` : '',
    meta.image ? `<meta name="twitter:image" content="${attr(meta.image)}">` : '',
  ];
  return tags.filter(Boolean).join('\n');
}

/** The web edition as a page: the head tags added, nothing else changed. */
export function webPage(html: string, meta: PageMeta): string {
  const close = html.search(/<\/head>/i);
  const tags = `${headTags(meta)}\n`;
  return close < 0 ? `${tags}${html}` : `${html.slice(0, close)}${tags}${html.slice(close)}`;
}

/**
 * The body of the page for a feed entry: readers show HTML fragments, and most ignore
 * `display:none`, so the hidden preheader (with its filler characters) is taken out.
 */
export function feedContent(html: string): string {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html);
  const inner = body ? body[1]! : html;
  return inner
    .replace(/<div style="display:none;[^"]*">[^<]*<\/div>/, '')
    // Outlook's conditional markup means nothing to a feed reader; what is for everyone else stays.
    .replace(/<!--\[if !mso\]><!-->|<!--<!\[endif\]-->/g, '')
    .replace(/<!--\[if [^\]]*\]>[\s\S]*?<!\[endif\]-->/g, '')
    .trim();
}
