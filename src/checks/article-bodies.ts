import type { Article } from '../content/types.js';
import { fullTextUrl } from '../render/build-context.js';
import { prepareIssueImages } from '../render/images/issue-images.js';
import { addUtmToHtml } from '../render/links.js';
import type { CheckContext } from './context.js';
import { links } from './elements.js';
import { parseHtml } from './html.js';
import { withoutUtm } from './locate.js';

/**
 * Article bodies the email does not show. A card shows a title and a summary; its body is
 * elsewhere (the article's `url`, or the web edition), and the rules that read links and images
 * must read it all the same: a broken link is broken wherever the reader meets it.
 */

/** The rules that read an article body's own links and images, run again on each body not shown. */
export const BODY_RULE_IDS: ReadonlySet<string> = new Set([
  'links/malformed',
  'links/unsafe-scheme',
  'links/empty-href',
  'links/http',
  'links/vague-text',
  'images/alt',
  'images/http',
]);

const bodyTexts = new WeakMap<Article, string>();

/** The words a reader sees of an article's body, spaces collapsed, as `parseHtml` reads them. */
function bodyText(article: Article): string {
  let text = bodyTexts.get(article);
  if (text === undefined) {
    text = parseHtml(`<body>${article.html}</body>`).visibleText;
    bodyTexts.set(article, text);
  }
  return text;
}

/** Whether the email shows this article's body in full (an empty body counts as shown). */
export function bodyShown(context: CheckContext, article: Article): boolean {
  const text = bodyText(article);
  return text === '' || context.html.visibleText.includes(text);
}

/** Whether the email links to where the article's full text is: its `url`, or its place in the web edition. */
export function linksToFullText(context: CheckContext, article: Article): boolean {
  const targets = new Set([fullTextUrl(article, context.config, context.issue.slug), article.url].filter((url): url is string => !!url).map(withoutUtm));
  return links(context).some((link) => targets.has(withoutUtm(link.href)));
}

export interface HiddenBody {
  article: Article;
  /** The check context with `html` replaced by this article's body, as the email would carry it. */
  context: CheckContext;
}

/** A context per article whose body the email does not show, for the rules of BODY_RULE_IDS. */
export async function hiddenBodies(context: CheckContext): Promise<HiddenBody[]> {
  const hidden = context.issue.articles.filter((article) => !bodyShown(context, article));
  if (hidden.length === 0) return [];
  // Local images as the email would show them (memoized: the render placed them already).
  const placed = await prepareIssueImages(context.issue, { config: context.config, width: context.theme.width });
  return hidden.map((article) => {
    const html = placed.issue.articles.find((a) => a.slug === article.slug)?.html ?? article.html;
    const body = `<!doctype html><html><head></head><body>${addUtmToHtml(html, context.config.utm, context.issue.slug)}</body></html>`;
    return { article, context: { ...context, html: parseHtml(body) } };
  });
}
