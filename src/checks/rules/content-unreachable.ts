import { bodyShown, linksToFullText } from '../article-bodies.js';
import { fullTextUrl } from '../../render/build-context.js';
import type { Problem, Rule } from '../types.js';

/**
 * Every article body is reachable from the email: shown in full, or linked (a card's link to its
 * `url`, else to its place in the web edition). A card with no link hides everything past its
 * summary: lists, quotes, images, in neither the email nor any page a reader can find.
 */
export const contentUnreachable: Rule = {
  id: 'content/unreachable',
  description: "an article's body is neither shown in the email nor linked from it (its `url`, or its place in the web edition)",
  defaultSeverity: 'error',
  check(context) {
    const problems: Problem[] = [];
    for (const article of context.issue.articles) {
      if (bodyShown(context, article) || linksToFullText(context, article)) continue;
      const target = fullTextUrl(article, context.config, context.issue.slug);
      problems.push({
        message: `the body of "${article.title}" is not in the email and nothing links to it: show it in full (\`{{{html}}}\`), or link the card to \`{{url}}\` (here \`${target}\`, its full text)`,
        ...context.locate.layout,
      });
    }
    return problems;
  },
};
