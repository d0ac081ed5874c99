import Handlebars from 'handlebars';

/** `sitemap.xml` (https://www.sitemaps.org/protocol.html) and `robots.txt` of the site. */

export interface SitemapEntry {
  url: string;
  /** `YYYY-MM-DD`, when known. */
  lastmod: string | null;
}

export function sitemapXml(entries: readonly SitemapEntry[]): string {
  const urls = entries.map(
    (entry) => `  <url><loc>${Handlebars.escapeExpression(entry.url)}</loc>${entry.lastmod ? `<lastmod>${entry.lastmod}</lastmod>` : ''}</url>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
}

/** Unsubscribe pages are per reader: never crawled, never indexed. */
export function robotsTxt(siteUrl: string): string {
  const base = new URL(siteUrl).pathname;
  return `User-agent: *\nDisallow: ${base}unsubscribe/\nDisallow: ${base}confirm/\nDisallow: ${base}subscribe\n\nSitemap: ${siteUrl}sitemap.xml\n`;
}
