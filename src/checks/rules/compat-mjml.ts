import { clientLabel } from '../compat-message.js';
import type { CompatUse } from '../compat.js';
import type { Rule } from '../types.js';

export const compatMjml: Rule = {
  id: 'compat/mjml',
  description: "MJML's own markup uses features a configured client does not support; MJML provides the fallbacks (one note per client)",
  defaultSeverity: 'info',
  check(context) {
    const byClient = new Map<string, CompatUse[]>();
    for (const use of context.compat()) {
      if (use.origin !== 'mjml' || use.support !== 'none') continue;
      byClient.set(use.client, [...(byClient.get(use.client) ?? []), use]);
    }
    // One note per client: these are MJML's choices (responsive <style>, hidden preheader, ARIA
    // attributes), each with a fallback, so a line per feature would bury the findings that matter.
    return [...byClient].map(([client, uses]) => {
      const platforms = [...new Set(uses.flatMap((use) => use.platforms))];
      const label = clientLabel({ ...uses[0]!, platforms }, context.clientNames);
      const features = uses.map((use) => `\`${use.feature}\`${use.count > 1 ? ` ×${use.count}` : ''}`).join(', ');
      return {
        message: `MJML's own markup uses features that ${label} does not support: ${features}. MJML builds for that (tables, inline styles, Outlook conditionals, hidden preheader), so nothing to do unless a test send looks wrong there`,
        client,
        count: uses.reduce((sum, use) => sum + use.count, 0),
      };
    });
  },
};
