/**
 * The shape of plain text as the content stage writes it (content/markdown.ts) and text layouts
 * fold it (`{{wrap text}}`, render/helpers.ts). One paragraph, list item or quote paragraph is
 * one line, folded only here; code blocks and tables are indented by `PREFORMATTED_INDENT` and
 * keep their lines, since folding code at its spaces changes what it says.
 */

/** Four spaces: the plain-text (and Markdown) convention for a code block. */
export const PREFORMATTED_INDENT = '    ';

/** `* `, `- `, `1. `, `[1] ` (a footnote): a list item, whose folded lines align after it. */
const LIST_MARKER = /^[ \t]*(?:[*+-]|\d+[.)]|\[\d+\])[ \t]+/;
/** html-to-text's quote marker, once per level. */
const QUOTE_PREFIX = /^(?:> ?)*/;

function foldLine(line: string, width: number): string {
  const quote = QUOTE_PREFIX.exec(line)![0];
  const rest = line.slice(quote.length);
  const marker = LIST_MARKER.exec(rest)?.[0];
  if (!marker && (rest.startsWith(PREFORMATTED_INDENT) || rest.startsWith('\t'))) return line;
  if (line.length <= width) return line;
  const lead = marker ?? /^[ \t]*/.exec(rest)![0];
  const hanging = (quote && !quote.endsWith(' ') ? `${quote} ` : quote) + ' '.repeat(lead.length);
  const words = rest.slice(lead.length).split(/ +/).filter((word) => word !== '');
  const out: string[] = [];
  let current = `${quote}${lead}`;
  let empty = true;
  for (const word of words) {
    if (!empty && current.length + 1 + word.length > width) {
      out.push(current);
      current = hanging + word;
    } else {
      current = empty ? current + word : `${current} ${word}`;
    }
    empty = false;
  }
  out.push(current);
  return out.join('\n');
}

/**
 * Folds plain text at `width` columns (at spaces; a longer word, such as a URL, stays whole).
 * Line breaks are kept: folded list items and quotes keep their indent and `>`; preformatted
 * lines (code, tables) are never folded.
 */
export function wrapText(text: string, width = 76): string {
  return text
    .split('\n')
    .map((line) => foldLine(line, width))
    .join('\n');
}
