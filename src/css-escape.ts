/**
 * Escaping for CSS: a value (a theme's colour, font stack or size) written into a declaration
 * inside a `<style>` element. HTML escaping is wrong there: a `<style>` element's text is not
 * decoded, so `&#x27;Times New Roman&#x27;` reaches the CSS parser as is and the declaration is
 * dropped. What CSS needs instead: nothing in the value may end it (`;`), its rule (`{`, `}`), the
 * element (`</style>`), or open a comment (`/*`); each such character becomes a CSS escape
 * (`\3b `), which the parser reads as part of the value. Quotes that pair up stay, since a font
 * stack's quoted names are CSS strings; a lone quote is escaped.
 */

const ALWAYS = /[\\;{}<>*\u0000-\u001f\u007f]/g;

function escapeChar(char: string): string {
  return `\\${char.codePointAt(0)!.toString(16)} `;
}

/** Quotes stay only where each opens a string that the same quote closes. */
function quotesPair(value: string): boolean {
  let open: string | null = null;
  for (const char of value) {
    if (char !== "'" && char !== '"') continue;
    if (open === null) open = char;
    else if (open === char) open = null;
  }
  return open === null;
}

export function escapeCssValue(value: string): string {
  const escaped = value.replace(ALWAYS, escapeChar);
  return quotesPair(escaped) ? escaped : escaped.replace(/['"]/g, escapeChar);
}
