import { Lexer, Marked, type Token } from 'marked';
import markedFootnote from 'marked-footnote';
import { convert, type HtmlToTextOptions } from 'html-to-text';
import type { ContentFinding } from './types.js';
import { styleArticleHtml } from './html/article-styles.js';
import { PREFORMATTED_INDENT } from '../text-layout.js';
import { SourceLines, prepareHtml, type SourcePlace } from './html/prepare.js';
import { sanitize } from './html/sanitize.js';
import { escapeHtml } from './html/escape.js';
import { rewriteGeneratorSyntax } from './generators/generator-syntax.js';
import { definitionListExtension, mathExtension, type GeneratedImage, type MathState } from './markdown-extensions.js';

/**
 * Markdown and wire copy become safe HTML here, once, at load time. Everything downstream inserts
 * that HTML as is, so the allowlist (html/sanitize.ts) is the only gate between an article and
 * the email. In order: Markdown (GFM, footnotes) → embeds and footnotes made email-friendly, and
 * every removal written down (html/prepare.ts) → allowlist → inline styles that keep the HTML
 * within a phone's width in any layout (html/article-styles.ts).
 */

/** `## Title {#anchor}`, `{.class}`, Kramdown's `{: #id}`: attribute lists a reader must not see. */
const HEADING_ATTRIBUTES = /\s*\{:?\s*[#.][^{}]*\}\s*$/;

function stripHeadingAttributes(token: Token): void {
  if (token.type !== 'heading' || !HEADING_ATTRIBUTES.test(token.text)) return;
  token.text = token.text.replace(HEADING_ATTRIBUTES, '');
  token.tokens = Lexer.lexInline(token.text);
}

function markdownFor(idPrefix: string, math: MathState): Marked {
  return new Marked({ gfm: true, breaks: false, async: false, walkTokens: stripHeadingAttributes })
    .use(markedFootnote({ prefixId: idPrefix, refMarkers: true, description: 'Notes' }))
    .use(mathExtension(math), definitionListExtension);
}

/** `<!--more-->` (Hugo, Jekyll, Zola write `<!-- more -->`): the end of the summary. */
const MORE = /^[ \t]*<!--\s*more\s*-->[ \t]*$/m;

export interface RenderedMarkdown {
  html: string;
  text: string;
  /** The text before `<!--more-->`, when the body has one. */
  moreSummary: string | null;
  findings: ContentFinding[];
  localSources: { src: string; line: number | undefined }[];
  /** Images made from the text itself (TeX formulas as SVG), by the `src` the HTML carries. */
  generatedImages: GeneratedImage[];
}

export interface MarkdownOptions {
  /** Where the Markdown comes from, for findings; none for text that is not in a file. */
  place?: SourcePlace | undefined;
  /** Prefix of footnote ids, unique per article so that two articles of a digest do not clash. */
  idPrefix?: string | undefined;
}

export function renderMarkdown(source: string, options: MarkdownOptions = {}): RenderedMarkdown {
  const idPrefix = options.idPrefix ?? 'fn-';
  const generator = rewriteGeneratorSyntax(source, options.place?.file ?? null, options.place?.firstLine ?? 1);
  const math: MathState = { images: new Map(), problems: [] };
  const raw = markdownFor(idPrefix, math).parse(generator.source) as string;
  const place = options.place ? { ...options.place, source: generator.source, lineMap: generator.lineMap } : null;
  const prepared = prepareHtml(raw, place);
  const html = styleArticleHtml(sanitize(prepared.html), idPrefix);
  const lines = place ? new SourceLines(place) : null;
  const mathFindings: ContentFinding[] = place
    ? math.problems.map(({ tex, message }) => ({ rule: 'content/removed', severity: 'warn', message: `TeX \`${tex.length > 50 ? `${tex.slice(0, 47)}...` : tex}\` cannot be drawn (${message}): shown as code`, file: place.file, line: lines?.of(tex) }))
    : [];
  let moreSummary: string | null = null;
  if (MORE.test(source)) {
    // Cut the rendered HTML at the marker (footnotes then resolve as in the article), and leave
    // out the footnote markers: a summary has no notes.
    const cut = raw.search(/<!--\s*more\s*-->/);
    const before = cut < 0 ? '' : raw.slice(0, cut).replace(/<sup><a [^>]*data-[\w-]*-ref[^>]*>[\s\S]*?<\/a><\/sup>/g, '');
    moreSummary = safeHtmlToText(sanitize(prepareHtml(before, null).html)).replace(/\s+/g, ' ').trim() || null;
  }
  return {
    html,
    text: safeHtmlToText(html),
    moreSummary,
    findings: [...generator.findings, ...prepared.findings, ...mathFindings],
    localSources: prepared.localSources.filter((s) => !math.images.has(s.src)),
    generatedImages: [...math.images.values()],
  };
}

/** Markdown to safe HTML, for text that has no file of its own to report findings against. */
export function markdownToSafeHtml(source: string): string {
  return renderMarkdown(source).html;
}

export { escapeHtml } from './html/escape.js';

/** Wire copy: every paragraph is plain text, escaped, never parsed as Markdown or HTML. */
export function paragraphsToSafeHtml(paragraphs: readonly string[]): string {
  return styleArticleHtml(paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n'), null);
}

type Formatter = NonNullable<HtmlToTextOptions['formatters']>[string];

/** The notes list of footnotes as `[1] text`, matching the `[1]` markers in the text. */
const notesList: Formatter = (element, walk, builder) => {
  const items = (element.children ?? []).filter((child: { type?: string; name?: string }) => child.type === 'tag' && child.name === 'li');
  builder.openList({ maxPrefixLength: `[${items.length}] `.length, prefixAlign: 'left', interRowLineBreaks: 1 });
  items.forEach((item: { children?: unknown[] }, index: number) => {
    builder.openListItem({ prefix: `[${index + 1}] ` });
    walk(item.children as never, builder);
    builder.closeListItem();
  });
  builder.closeList({ trailingLineBreaks: 2 });
};

/** A formula's TeX, as its image's alt text: the text part shows the TeX itself. */
const mathText: Formatter = (element, _walk, builder) => {
  builder.addInline(String((element as { attribs?: Record<string, string> }).attribs?.alt ?? ''));
};

/** A definition, indented under its term (3 spaces: 4 would mark it as code, never folded). */
const definition: Formatter = (element, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 1, reservedLineLength: 3 });
  walk((element as { children?: unknown[] }).children as never, builder);
  builder.closeBlock({ trailingLineBreaks: 1, blockTransform: (text: string) => text.split('\n').map((line) => `   ${line}`).join('\n') });
};

/**
 * Code blocks and tables: every line as it is, indented by `PREFORMATTED_INDENT` (the plain-text
 * convention for code), so `wrapText` (render/helpers.ts) knows to keep it.
 */
const preformatted: Formatter = (element, walk, builder, options) => {
  builder.openBlock({ isPre: element.name === 'pre', leadingLineBreaks: 2, reservedLineLength: PREFORMATTED_INDENT.length });
  walk(element.children as never, builder);
  builder.closeBlock({
    trailingLineBreaks: 2,
    blockTransform: (block) =>
      block
        .replace(/^\n+|\n+$/g, '')
        .split('\n')
        .map((line) => (line ? PREFORMATTED_INDENT + line : line))
        .join('\n'),
  });
  void options;
};

const TEXT_OPTIONS: HtmlToTextOptions = {
  // Lines are folded when a text layout prints them (`{{wrap text}}`): folding here too would fold
  // twice (ragged lines), and a layout could not choose its width.
  wordwrap: false,
  formatters: { notesList, mathText, definition, preformatted },
  selectors: [
    { selector: 'a', options: { linkBrackets: ['(', ')'], hideLinkHrefIfSameAsText: true } },
    { selector: 'a.nl-backref', format: 'skip' },
    { selector: 'ol.nl-notes', format: 'notesList' },
    { selector: 'img', format: 'skip' },
    { selector: 'img.nl-math', format: 'mathText' },
    { selector: 'dt', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'dd', format: 'definition' },
    { selector: 'dl', format: 'block' },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'pre', format: 'preformatted' },
    // The scroll box around each table (html/article-styles.ts): the table inside it keeps its
    // columns and is indented like code.
    { selector: 'div.nl-table', format: 'preformatted' },
    { selector: 'table', format: 'dataTable', options: { maxColumnWidth: 30 } },
  ],
};

/** Plain text of safe HTML, for the text/plain part: paragraphs, lists, links as `text (url)`. */
export function safeHtmlToText(html: string): string {
  if (!html) return '';
  return convert(html, TEXT_OPTIONS).trim();
}

export function countWords(text: string): number {
  const words = text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu);
  return words ? words.length : 0;
}
