import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { convert, type HtmlToTextOptions } from 'html-to-text';

/**
 * Markdown and wire copy become safe HTML here, once, at load time. Everything downstream inserts
 * that HTML as is, so this allowlist is the only gate between an article and the email.
 */

const markdown = new Marked({ gfm: true, breaks: false, async: false });

const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'h2', 'h3', 'h4', 'strong', 'b', 'em', 'i', 'u', 's', 'del', 'sub', 'sup', 'small',
    'a', 'ul', 'ol', 'li', 'blockquote', 'code', 'pre', 'img', 'figure', 'figcaption',
    'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  allowedAttributes: {
    a: ['href', 'title'],
    img: ['src', 'alt', 'width', 'height', 'title'],
    th: ['align'],
    td: ['align'],
    ol: ['start'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  // Tags outside the list are dropped and their text kept; script/style lose their text too.
  disallowedTagsMode: 'discard',
  transformTags: {
    // The email's own title is the only h1; article headings start at h2.
    h1: 'h2',
    h5: 'h4',
    h6: 'h4',
  },
};

export function markdownToSafeHtml(source: string): string {
  const raw = markdown.parse(source) as string;
  return sanitizeHtml(raw, SANITIZE_OPTIONS).trim();
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Wire copy: every paragraph is plain text, escaped, never parsed as Markdown or HTML. */
export function paragraphsToSafeHtml(paragraphs: readonly string[]): string {
  return paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
}

const TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: 78,
  selectors: [
    { selector: 'a', options: { linkBrackets: ['(', ')'], hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable' },
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
