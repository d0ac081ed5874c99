import { NewsletterError } from '../errors.js';
import { CONTENT_LIMITS } from './limits.js';
import { renderMarkdown, type MarkdownOptions, type RenderedMarkdown } from './markdown.js';

/**
 * The Markdown parser, the sanitizer and the HTML-to-text converter all recurse once per level of
 * nesting: a 2 KB article of `>` 2,000 deep ends them with a stack overflow. The content stage
 * measures the nesting before it renders and refuses a file past CONTENT_LIMITS at the line
 * where it goes too deep; a stack overflow that gets past the measure (inline markup) is still
 * this file's error, never an internal one.
 */

/** Elements whose end tag may be left out: they do not nest when written without one. */
const NO_END_TAG = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr',
  'p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'option', 'optgroup', 'colgroup', 'rt', 'rp',
]);

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** One container marker at the start of what is left of a line: `>` or a list item's marker. */
const CONTAINER = /^[ \t]*(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]?/;
const TAG = /<(\/?)([a-zA-Z][\w-]*)\b(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/g;

interface TooDeep {
  kind: 'Markdown' | 'HTML';
  line: number;
  limit: number;
}

/** Where `source` nests past the limits, or null. */
export function tooDeepMarkdown(source: string): TooDeep | null {
  const lines = source.split('\n');
  let fence: string | null = null;
  let htmlDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const opened = FENCE.exec(line);
    if (fence !== null) {
      if (opened && opened[1]![0] === fence[0] && opened[1]!.length >= fence.length) fence = null;
      continue;
    }
    if (opened) {
      fence = opened[1]!;
      continue;
    }
    // Two columns of indentation open a nested list; each `>` or list marker one more level.
    const indent = /^[ \t]*/.exec(line)![0].replace(/\t/g, '    ').length;
    let depth = Math.floor(indent / 2);
    let rest = line;
    for (let match = CONTAINER.exec(rest); match && match[0].length; match = CONTAINER.exec(rest)) {
      depth++;
      rest = rest.slice(match[0].length);
    }
    if (depth > CONTENT_LIMITS.markdownDepth) return { kind: 'Markdown', line: i + 1, limit: CONTENT_LIMITS.markdownDepth };
    TAG.lastIndex = 0;
    for (let tag = TAG.exec(line); tag; tag = TAG.exec(line)) {
      const name = tag[2]!.toLowerCase();
      if (tag[3] || NO_END_TAG.has(name)) continue;
      htmlDepth = tag[1] ? Math.max(0, htmlDepth - 1) : htmlDepth + 1;
      if (htmlDepth > CONTENT_LIMITS.htmlDepth) return { kind: 'HTML', line: i + 1, limit: CONTENT_LIMITS.htmlDepth };
    }
  }
  return null;
}

/**
 * Renders the Markdown of a content file (an article's body, an issue's intro), or refuses it
 * with its file and line when it nests too deep to render. `firstLine` is the file's line of
 * the source's first line.
 */
export function renderContentMarkdown(source: string, file: string, firstLine: number, options: Omit<MarkdownOptions, 'place'> = {}): RenderedMarkdown {
  const deep = tooDeepMarkdown(source);
  if (deep) {
    throw new NewsletterError('CONTENT_INVALID', `${deep.kind} nested more than ${deep.limit} levels deep`, {
      file,
      line: firstLine + deep.line - 1,
      hint: deep.kind === 'HTML' ? 'close the elements you open, or paste less of a page' : 'no reader follows quotes or lists this deep: flatten them',
    });
  }
  try {
    return renderMarkdown(source, { ...options, place: { file, source, firstLine } });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new NewsletterError('CONTENT_INVALID', 'the Markdown nests too deep to render (a long run of `*`, `_`, `[` or `<` opens one level each)', {
      file,
      hint: 'look for a long run of the same markup character and remove it',
      cause: error,
    });
  }
}
