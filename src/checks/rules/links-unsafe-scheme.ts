import { groupBy, links, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';

const UNSAFE = new Set(['javascript', 'data', 'vbscript', 'file']);

/** The scheme as a browser reads it: control characters and spaces inside it are ignored. */
export function schemeOf(href: string): string | null {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(href.replace(/[\u0000-\u0020]/g, ''));
  return match ? match[1]!.toLowerCase() : null;
}

/** `''` and `#`: a link that goes nowhere (links/empty-href reports it). */
export function isPlaceholder(href: string): boolean {
  return href === '' || href === '#';
}

export const linksUnsafeScheme: Rule = {
  id: 'links/unsafe-scheme',
  description: 'a link uses javascript:, data:, vbscript: or file:',
  defaultSeverity: 'error',
  check(context) {
    const unsafe = links(context).filter((link) => UNSAFE.has(schemeOf(link.href) ?? ''));
    return groupBy(unsafe, (link) => link.href).map(({ first, count }) => ({
      message: `link "${first.label}" uses \`${schemeOf(first.href)}:\`${times(count)}: clients strip or block it and spam filters flag it; link to an https:// page instead`,
      count,
      ...placeOfUrl(context, first.element, 'href'),
    }));
  },
};
