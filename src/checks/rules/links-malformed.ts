import { groupBy, links, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';
import { isPlaceholder, schemeOf } from './links-unsafe-scheme.js';

/** Why an href is not a URL a client can open, or null when it is one. */
export function malformation(href: string): string | null {
  if (/\s/.test(href)) return 'contains spaces (encode them as %20, or the link was pasted with a line break)';
  const scheme = schemeOf(href);
  if (scheme === 'mailto' || scheme === 'tel' || scheme === 'sms') return null;
  if (!scheme) return 'is not an absolute URL: an email has no page to be relative to, write it with https://';
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return 'is not a valid URL';
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && (!url.hostname || !/^\w+:\/\//.test(href))) return 'has no host name';
  return null;
}

export const linksMalformed: Rule = {
  id: 'links/malformed',
  description: 'a link is not a valid absolute URL (relative, spaces, no host)',
  defaultSeverity: 'error',
  check(context) {
    // `#section` is a jump within the email: fine when the email has that anchor.
    const anchors = new Set(context.html.elements.flatMap((e) => [e.attribs.id, e.name === 'a' ? e.attribs.name : undefined]).filter(Boolean));
    const isJump = (href: string) => href.startsWith('#') && anchors.has(decodeURIComponent(href.slice(1)));
    const broken = links(context).filter((link) => !isPlaceholder(link.href) && !isJump(link.href) && malformation(link.href) !== null);
    return groupBy(broken, (link) => link.href).map(({ first, count }) => ({
      message: `link \`${first.href}\` ("${first.label}") ${malformation(first.href)}${times(count)}`,
      count,
      ...placeOfUrl(context, first.element, 'href'),
    }));
  },
};
