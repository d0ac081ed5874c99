import { groupBy, links, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';
import { isPlaceholder } from './links-unsafe-scheme.js';

export const linksEmptyHref: Rule = {
  id: 'links/empty-href',
  description: 'a link has an empty href or `#`',
  defaultSeverity: 'error',
  check(context) {
    const empty = links(context).filter((link) => isPlaceholder(link.href));
    return groupBy(empty, (link) => `${link.href}\u0000${link.label}`).map(({ first, count }) => ({
      message: `link "${first.label || '(no text)'}" goes nowhere (href \`${first.href}\`)${times(count)}: give it the URL it is meant to open, or remove the link`,
      count,
      ...placeOfUrl(context, first.element, 'href'),
    }));
  },
};
