import { groupBy, links, placeOfUrl, times } from '../elements.js';
import type { Rule } from '../types.js';

/** Link texts that say nothing about where they lead, read out of context by screen readers. */
const VAGUE = new Set(['click here', 'click', 'here', 'click this', 'this', 'link', 'this link', 'go', 'more', 'tap here']);

export const linksVagueText: Rule = {
  id: 'links/vague-text',
  description: 'a link reads only "click here" (or "here", "link", "more")',
  defaultSeverity: 'warn',
  check(context) {
    const vague = links(context).filter((link) => VAGUE.has(link.label.toLowerCase().replace(/[^\p{L}\p{N} ]/gu, '').trim()));
    return groupBy(vague, (link) => `${link.label.toLowerCase()}\u0000${link.href}`).map(({ first, count }) => ({
      message: `link text "${first.label}" says nothing about where it leads${times(count)}: make the words say it ("read the full report"), for screen readers and skimmers`,
      count,
      ...placeOfUrl(context, first.element, 'href'),
    }));
  },
};
