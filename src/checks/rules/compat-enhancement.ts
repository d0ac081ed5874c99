import { clientLabel } from '../compat-message.js';
import type { CompatUse } from '../compat.js';
import type { Rule } from '../types.js';

export const compatEnhancement: Rule = {
  id: 'compat/enhancement',
  description: 'a feature some clients ignore, declared a progressive enhancement by a template marker (one note per feature)',
  defaultSeverity: 'info',
  check(context) {
    const byFeature = new Map<string, CompatUse[]>();
    for (const use of context.compat()) {
      if (!use.declared || use.support !== 'none') continue;
      const key = use.declared.feature.toLowerCase();
      byFeature.set(key, [...(byFeature.get(key) ?? []), use]);
    }
    // One note per feature, whatever the number of clients: the template author has decided, and
    // the note only keeps the decision visible (and who it affects).
    return [...byFeature.values()].map((uses) => {
      const { feature, fallback, where } = uses[0]!.declared!;
      const clients = uses.map((use) => clientLabel(use, context.clientNames)).join(', ');
      const count = Math.max(...uses.map((use) => use.count));
      return {
        message: `\`${feature}\` is a declared progressive enhancement; ${clients} ${uses.length > 1 ? 'ignore' : 'ignores'} it${fallback ? `: ${fallback}` : ''}`,
        count,
        ...(where ?? context.locate.layout),
      };
    });
  },
};
