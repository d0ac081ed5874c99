import type { Recipient, ResolvedConfig, Theme } from '../config/defaults.js';
import type { Article, Issue } from '../content/types.js';
import type { ArticleView, TemplateContext } from './context.js';
import { readingMinutes } from './helpers.js';
import { addUtmToHtml, homeUrl, viewInBrowserUrl, withUtm } from './links.js';
import { htmlRecipient, htmlUnsubscribeUrl } from './recipient-values.js';

/** The parts of a template context that do not depend on the recipient: built once per issue. */
export type IssueContext = Omit<TemplateContext, 'recipient' | 'unsubscribeUrl'>;

type ImageSizes = ReadonlyMap<string, { width: number; height: number }>;

/**
 * Where the full text of an article is: its own `url`, else its place in the web edition
 * (`{siteUrl}issues/<issue>/#<article>`, the id the article's heading carries there). A card
 * links there, so that no article body is in neither the email nor a page a reader can reach.
 */
export function fullTextUrl(article: Pick<Article, 'slug' | 'url'>, config: ResolvedConfig, issueSlug: string): string {
  return article.url ?? `${viewInBrowserUrl(config, issueSlug)}#${encodeURIComponent(article.slug)}`;
}

function articleView(article: Article, index: number, full: boolean, config: ResolvedConfig, issueSlug: string, imageSizes: ImageSizes): ArticleView {
  const size = imageSizes.get(article.slug);
  // A card's link leads to the full text, which for an article without `url:` is the web edition.
  const url = article.url ?? (full ? null : fullTextUrl(article, config, issueSlug));
  return {
    slug: article.slug,
    title: article.title,
    author: article.author,
    date: article.date,
    // A lead shown in full starts with its first paragraph; repeating it as a dek would say it twice.
    summary: full && article.summaryIsExcerpt ? null : article.summary,
    image: article.image,
    imageAlt: article.imageAlt,
    imageWidth: size?.width ?? null,
    imageHeight: size?.height ?? null,
    url: url ? withUtm(url, config.utm, issueSlug) : null,
    tags: [...article.tags],
    html: addUtmToHtml(article.html, config.utm, issueSlug),
    text: article.text,
    wordCount: article.wordCount,
    readingMinutes: readingMinutes(article.wordCount),
    full,
    index,
  };
}

export interface ContextOptions {
  /**
   * For the web edition: an article without `url:` is shown in full there, since the email's card
   * of it links to that place (its full text is nowhere else).
   */
  webEdition?: boolean | undefined;
}

export function buildIssueContext(issue: Issue, config: ResolvedConfig, theme: Theme, imageSizes: ImageSizes = new Map(), options: ContextOptions = {}): IssueContext {
  // The `article` layout shows every article in full, in order; a digest shows its lead in full
  // unless the issue asks for cards only.
  const allInFull = issue.template === 'article';
  const leadInFull = allInFull || issue.lead === 'full';
  const inFull = (article: Article, index: number) => allInFull || (leadInFull && index === 0) || (options.webEdition === true && !article.url);
  const articles = issue.articles.map((article, index) => articleView(article, index, inFull(article, index), config, issue.slug, imageSizes));
  const lead = leadInFull ? articles[0]! : null;
  return {
    newsletter: { name: config.name, postalAddress: config.postalAddress, homeUrl: homeUrl(config) },
    theme,
    issue: {
      slug: issue.slug,
      subject: issue.subject,
      preheader: issue.preheader,
      date: issue.date,
      introHtml: addUtmToHtml(issue.introHtml, config.utm, issue.slug),
      introText: issue.introText,
      articleCount: issue.articles.length,
      template: issue.template,
    },
    articles,
    lead,
    rest: lead ? articles.slice(1) : articles,
    viewInBrowserUrl: viewInBrowserUrl(config, issue.slug),
    web: false,
    lang: config.locale,
    locale: config.locale,
    utm: config.utm,
  };
}

/**
 * The context of one copy. `html` (the MJML layout): recipient values wrapped so Handlebars
 * escapes them whatever helper or block carries them; `text` (noEscape): the raw values.
 */
export function withRecipient(context: IssueContext, recipient: Recipient, unsubscribeUrl: string, part: 'html' | 'text'): TemplateContext {
  if (part === 'text') return { ...context, recipient, unsubscribeUrl };
  return { ...context, recipient: htmlRecipient(recipient) as Recipient, unsubscribeUrl: htmlUnsubscribeUrl(unsubscribeUrl) as string };
}

/**
 * The HTML context, watched: which articles' bodies (`{{{html}}}`) the HTML layout printed. A
 * layout of the user's own may print every body (a gallery), only the lead's, or none; the text
 * part follows what the HTML did rather than guessing from the layout's name.
 */
export function watchingBodies(context: TemplateContext): { context: TemplateContext; shown: Set<number> } {
  const shown = new Set<number>();
  // A value that records when it is printed: only printing counts, not a partial call that copies
  // the article (`{{> button href=url}}` copies every key) or an `{{#if html}}`.
  const printed = (article: ArticleView) => ({
    toString: () => {
      shown.add(article.index);
      return article.html;
    },
  });
  const watched = context.articles.map((article) => ({ ...article, html: article.html ? (printed(article) as unknown as string) : '' }));
  return { context: withArticles(context, watched), shown };
}

/** The text layout's context: `full` says whether the HTML printed the article's body. */
export function textContextFor(context: TemplateContext, shown: ReadonlySet<number>): TemplateContext {
  return withArticles(
    context,
    context.articles.map((article) => ({ ...article, full: shown.has(article.index) })),
  );
}

function withArticles(context: TemplateContext, articles: ArticleView[]): TemplateContext {
  const lead = context.lead ? articles[context.lead.index]! : null;
  return { ...context, articles, lead, rest: context.rest.map((article) => articles[article.index]!) };
}
