/** What the content stage hands to the render stage: articles and issues, loaded and validated. */

export type ArticleFormat = 'markdown' | 'wire';

export interface Article {
  slug: string;
  /** Path relative to the working directory, for error messages. */
  file: string;
  format: ArticleFormat;
  title: string;
  author: string | null;
  /** ISO date `YYYY-MM-DD`. */
  date: string | null;
  summary: string | null;
  /** True when `summary` was cut from the first paragraph rather than written by the editor. */
  summaryIsExcerpt: boolean;
  image: string | null;
  imageAlt: string | null;
  url: string | null;
  tags: string[];
  /** Body as safe HTML: Markdown rendered then sanitized, or wire paragraphs escaped. */
  html: string;
  /** Body as readable plain text (paragraphs separated by blank lines, links as `text (url)`). */
  text: string;
  wordCount: number;
  /** Line in `file` where the body starts, for messages about the body. */
  bodyLine: number;
}

export interface IssueArticleRef {
  slug: string;
  /** Front-matter overrides for this issue only (e.g. a title for wire copy). */
  overrides: Partial<Pick<Article, 'title' | 'author' | 'date' | 'summary' | 'image' | 'imageAlt' | 'url'>>;
  /** Line of the entry in the issue file. */
  line: number | undefined;
}

export interface Issue {
  slug: string;
  file: string;
  subject: string;
  preheader: string | null;
  date: string | null;
  template: string;
  /** Show the first article in full (`full`) or as a card like the others (`card`). */
  lead: 'full' | 'card';
  /** `draft: true`: not published on the web unless `newsletter publish --drafts`. */
  draft: boolean;
  /** The editor's intro, as safe HTML and as plain text. */
  introHtml: string;
  introText: string;
  /** Articles in issue order, overrides applied. */
  articles: Article[];
}
