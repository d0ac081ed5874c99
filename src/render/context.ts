/**
 * The data a template sees. This is the contract between the TypeScript and the files under
 * templates/: every key is always present (null when empty), because Handlebars runs in strict
 * mode and a missing key is an error, not a blank.
 */
import type { Theme, Recipient, UtmParameters } from '../config/defaults.js';

export interface ArticleView {
  slug: string;
  title: string;
  author: string | null;
  /** ISO date; format it with `{{formatDate date}}`. */
  date: string | null;
  summary: string | null;
  image: string | null;
  imageAlt: string | null;
  /** Width and height `image` is shown at, for a local image (null for a remote one). */
  imageWidth: number | null;
  imageHeight: number | null;
  /**
   * Where the article's full text is, with UTM parameters added: its `url:`, else (for an article
   * shown as a card) its place in the web edition, `{siteUrl}issues/<issue>/#<slug>`; null for an
   * article shown in full that has no `url:`. Give the article's heading `id="{{slug}}"`.
   */
  url: string | null;
  tags: string[];
  /** Safe HTML of the body; insert with triple braces `{{{html}}}`. */
  html: string;
  /** Plain text of the body, for text layouts (`{{wrap text}}`). */
  text: string;
  wordCount: number;
  readingMinutes: number;
  /** True for the article shown in full (the lead of a digest, the article of `article`). */
  full: boolean;
  index: number;
}

export interface TemplateContext {
  newsletter: {
    name: string;
    postalAddress: string;
    /** Web address of the newsletter: `siteUrl`, where the archive is published. */
    homeUrl: string;
  };
  theme: Theme;
  issue: {
    slug: string;
    subject: string;
    preheader: string | null;
    date: string | null;
    /** Safe HTML of the editor's intro ('' when there is none). */
    introHtml: string;
    /** Plain text of the intro, for text layouts. */
    introText: string;
    articleCount: number;
    template: string;
  };
  articles: ArticleView[];
  /** The article shown in full at the top, or null when the issue shows only cards. */
  lead: ArticleView | null;
  /** Articles after the lead (all articles when lead is null). */
  rest: ArticleView[];
  /** The person this copy is for: `email`, `name` and every other list column. */
  recipient: Recipient;
  unsubscribeUrl: string;
  viewInBrowserUrl: string;
  /**
   * True for the public web edition (`newsletter publish`): no recipient, no unsubscribe link.
   * Wrap anything personal in `{{#unless web}}`; publish refuses a page that shows recipient data.
   */
  web: boolean;
  /** BCP 47 language for `<mjml lang>`. */
  lang: string;
  locale: string;
  /** UTM settings used by the `utm` helper; null when UTM tagging is off. */
  utm: UtmParameters | null;
}
