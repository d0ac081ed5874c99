import { normalizeSpace } from '../html.js';
import { links } from '../elements.js';
import { withoutUtm } from '../locate.js';
import type { Problem, Rule } from '../types.js';

const HREF = /href="([^"]*)"/g;

function decode(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

/**
 * Whether the plain text carries a link: its URL, or for mailto:/tel: the address or number
 * itself, which is how html-to-text and readers write them (`team@example.org`, not `mailto:…`).
 */
function inText(text: string, url: string): boolean {
  const scheme = /^(mailto|tel|sms):/i.exec(url);
  if (scheme) {
    const target = safeDecode(url.slice(scheme[0].length).split('?')[0]!).trim();
    return target !== '' && target.split(',').every((part) => text.includes(part.trim()));
  }
  return text.includes(url.replace(/\/$/, ''));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export const textArticles: Rule = {
  id: 'text/articles',
  description: 'the plain-text part lacks an article title or an article link that the HTML has',
  defaultSeverity: 'warn',
  check(context) {
    const { issue, rendered, html, locate } = context;
    const text = normalizeSpace(rendered.text);
    const htmlText = html.visibleText;
    const htmlLinks = new Set(links(context).map((link) => withoutUtm(link.href)));
    const problems: Problem[] = [];
    for (const article of issue.articles) {
      const title = normalizeSpace(article.title);
      if (!htmlText.includes(title)) continue; // not shown by this layout: nothing to mirror
      if (!text.includes(title)) {
        problems.push({ message: `the plain-text part lacks the title "${article.title}" that the HTML shows: add \`{{title}}\` to the text layout`, ...locate.textLayout });
      }
      const urls = [article.url, ...[...article.html.matchAll(HREF)].map((m) => decode(m[1]!))].filter((u): u is string => !!u && !u.startsWith('#'));
      for (const url of new Set(urls.map(withoutUtm))) {
        if (!htmlLinks.has(url) || inText(text, url)) continue;
        const isArticleUrl = article.url !== null && withoutUtm(article.url) === url;
        problems.push({
          message: isArticleUrl
            ? `the plain-text part lacks the link of "${article.title}" (\`${url}\`): add \`{{url}}\` to the text layout`
            : `the plain-text part lacks the link \`${url}\` of "${article.title}": print the article body with \`{{wrap text}}\` in the text layout`,
          ...(isArticleUrl ? locate.textLayout : (locate.content(url) ?? locate.textLayout)),
        });
      }
    }
    return problems;
  },
};
