import { groupBy, links, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';
import { schemeOf } from './links-unsafe-scheme.js';

export const linksHttp: Rule = {
  id: 'links/http',
  description: 'a link uses plain http:',
  defaultSeverity: 'warn',
  check(context) {
    const insecure = links(context).filter((link) => schemeOf(link.href) === 'http');
    return groupBy(insecure, (link) => link.href).map(({ first, count }) => ({
      message: `link \`${first.href}\` uses http:${times(count)}: use https:// (browsers warn on http pages, and link scanners score it)`,
      count,
      ...placeOfUrl(context, first.element, 'href'),
    }));
  },
};
