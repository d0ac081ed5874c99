/**
 * The variants of the email the preview frames show. They change only how the preview presents
 * the HTML, never what `build` writes or `send` sends.
 */

const DARK_QUERY = /\(\s*prefers-color-scheme\s*:\s*dark\s*\)/gi;
const LIGHT_QUERY = /\(\s*prefers-color-scheme\s*:\s*light\s*\)/gi;

export type DarkMode = 'native' | 'inverted';

function injectIntoHead(html: string, markup: string): string {
  const close = /<\/head\s*>/i.exec(html);
  if (!close) return markup + html;
  return html.slice(0, close.index) + markup + html.slice(close.index);
}

export function hasDarkStyles(html: string): boolean {
  DARK_QUERY.lastIndex = 0;
  return DARK_QUERY.test(html);
}

/**
 * Dark mode as a reader sees it. A browser only applies `prefers-color-scheme: dark` when the whole
 * OS is dark, and an iframe cannot be switched on its own, so the query is rewritten to one that is
 * always true (and light-only rules to one that never is): the email's own dark palette, as Apple
 * Mail and iOS Mail show it. An email without dark styles gets the full colour inversion that the
 * Gmail and Outlook apps apply to such emails, with images inverted back.
 */
export function darkView(html: string): { html: string; mode: DarkMode } {
  if (hasDarkStyles(html)) {
    return { html: html.replace(DARK_QUERY, '(min-width: 0px)').replace(LIGHT_QUERY, '(min-width: 100000px)'), mode: 'native' };
  }
  const invert = '<style>html{filter:invert(1) hue-rotate(180deg);background:#fff}img,video,[style*="background-image"]{filter:invert(1) hue-rotate(180deg)}</style>';
  return { html: injectIntoHead(html, invert), mode: 'inverted' };
}

/** Phones draw overlay scrollbars, so the email gets the full 375 px instead of 375 minus a scrollbar. */
export function phoneView(html: string): string {
  return injectIntoHead(html, '<style>html{scrollbar-width:none}html::-webkit-scrollbar{display:none}</style>');
}

/** Links in the previewed email open in a new tab instead of replacing the email in its frame. */
export function linksInNewTab(html: string): string {
  return injectIntoHead(html, '<base target="_blank">');
}
