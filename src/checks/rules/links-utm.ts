import { groupBy, links, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';

const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign'];

export const linksUtm: Rule = {
  id: 'links/utm',
  description: 'a link lacks the utm_* parameters the config asks for (`utm`)',
  defaultSeverity: 'warn',
  check(context) {
    const utm = context.config.utm;
    if (!utm) return [];
    // Service links are not campaign traffic: they stay untagged on purpose.
    const exempt = new Set([context.rendered.unsubscribeUrl, context.viewInBrowserUrl]);
    const untagged = links(context).filter((link) => {
      if (exempt.has(link.href)) return false;
      let url: URL;
      try {
        url = new URL(link.href);
      } catch {
        return false;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
      if (utm.hosts.length && !utm.hosts.some((host) => url.hostname === host || url.hostname.endsWith(`.${host}`))) return false;
      return UTM_KEYS.some((key) => !url.searchParams.has(key));
    });
    return groupBy(untagged, (link) => link.href).map(({ first, count }) => {
      const missing = UTM_KEYS.filter((key) => !new URL(first.href).searchParams.has(key));
      return {
        message: `link \`${first.href}\` has no ${missing.join(', ')}${times(count)}: the config asks for UTM tags; in a template, write \`{{utm url}}\` instead of \`{{url}}\``,
        count,
        ...placeOfUrl(context, first.element, 'href', { templateFirst: true }),
      };
    });
  },
};
