import sanitizeHtml from 'sanitize-html';

/**
 * The allowlist between an article and the email: the only gate, since everything downstream
 * inserts this HTML as is. What it removes is reported (see prepare.ts), never dropped in silence.
 */

export const ALLOWED_TAGS: readonly string[] = Object.freeze([
  'p', 'br', 'hr', 'h2', 'h3', 'h4', 'strong', 'b', 'em', 'i', 'u', 's', 'del', 'ins', 'sub', 'sup', 'small', 'mark',
  'a', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'blockquote', 'q', 'cite', 'abbr', 'kbd', 'samp', 'var', 'time',
  'code', 'pre', 'img', 'figure', 'figcaption',
  'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td',
  // Renamed by transformTags below.
  'h1', 'h5', 'h6',
]);

/**
 * Removed without a word: wrappers whose removal loses nothing a reader sees (their text and
 * allowed children stay), and parts a converted embed or picture leaves behind.
 */
export const UNWRAPPED_QUIETLY: ReadonlySet<string> = new Set([
  'div', 'span', 'section', 'article', 'header', 'footer', 'main', 'aside', 'nav', 'center', 'font', 'details',
  'summary', 'picture', 'source', 'noscript', 'wbr', 'bdi', 'bdo', 'data', 'big', 'tt', 'address',
  'hgroup', 'html', 'body',
]);

/** Removed together with everything inside them (sanitize-html's nonTextTags plus our own). */
export const DROPPED_WITH_CONTENT: ReadonlySet<string> = new Set(['script', 'style', 'textarea', 'option', 'noembed', 'title', 'template', 'head', 'svg', 'math', 'object', 'canvas', 'select', 'iframe']);

/** The kinds of callout box (html/blog-markup.ts), each with its colours (html/article-styles.ts). */
export const CALLOUT_TYPES: readonly string[] = Object.freeze(['note', 'tip', 'info', 'warning', 'danger', 'caution', 'important', 'success', 'error', 'primary']);

export const ALLOWED_SCHEMES: readonly string[] = Object.freeze(['http', 'https', 'mailto']);

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: {
    a: ['href', 'title', 'id', 'class'],
    img: ['src', 'alt', 'width', 'height', 'title', 'class'],
    blockquote: ['class'],
    th: ['align', 'colspan', 'rowspan'],
    td: ['align', 'colspan', 'rowspan'],
    // A column's width (html/article-styles.ts moves it onto the cells); `style` is read by transformTags.
    col: ['width', 'span'],
    ol: ['start', 'class'],
    li: ['id'],
    sup: ['id'],
    p: ['class'],
    h2: ['class'],
    abbr: ['title'],
    time: ['datetime'],
  },
  allowedClasses: {
    a: ['nl-backref', 'nl-fnref'],
    ol: ['nl-notes'],
    p: ['nl-embed', 'nl-callout-title', 'nl-attribution', 'nl-math-display'],
    h2: ['nl-notes-title'],
    img: ['nl-math'],
    blockquote: ['nl-callout', ...CALLOUT_TYPES.map((type) => `nl-callout-${type}`)],
  },
  allowedSchemes: [...ALLOWED_SCHEMES],
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: [...DROPPED_WITH_CONTENT],
  transformTags: {
    // The email's own title is the only h1; article headings start at h2.
    h1: 'h2',
    h5: 'h4',
    h6: 'h4',
    // Pandoc and R Markdown write column widths as `<col style="width: 37%">`: kept as `width`.
    col: (tagName, attribs) => {
      const width = /(?:^|;)\s*width\s*:\s*([\d.]+%)/i.exec(attribs.style ?? '')?.[1] ?? attribs.width;
      return { tagName, attribs: { ...(width ? { width } : {}), ...(attribs.span ? { span: attribs.span } : {}) } };
    },
  },
};

export function sanitize(html: string): string {
  return sanitizeHtml(html, OPTIONS).trim();
}

/** Whether an attribute survives the allowlist, for the removal report. */
export function attributeAllowed(tag: string, attribute: string): boolean {
  const allowed = (OPTIONS.allowedAttributes as Record<string, string[]>)[tag] ?? [];
  return allowed.includes(attribute);
}

/** The scheme of a URL that the allowlist refuses (`javascript`, `data`), or null when it is fine. */
export function refusedScheme(url: string): string | null {
  const match = /^\s*([a-z][a-z0-9+.-]*):/i.exec(url.replace(/[\u0000-\u001F\s]+/g, ''));
  if (!match) return url.trim().startsWith('//') ? 'protocol-relative' : null;
  const scheme = match[1]!.toLowerCase();
  return ALLOWED_SCHEMES.includes(scheme) ? null : scheme;
}
