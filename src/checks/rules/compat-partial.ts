import { compatProblems } from '../compat-message.js';
import type { Rule } from '../types.js';

export const compatPartial: Rule = {
  id: 'compat/partial',
  description: 'templates or content use an HTML/CSS feature that a configured client supports only in part (caniemail)',
  // Off by default: nearly every property is "partial" somewhere (margin in Outlook); turn it on to audit a template.
  defaultSeverity: 'off',
  check(context) {
    return compatProblems(
      context,
      (use) => use.origin === 'authored' && use.support === 'partial' && !use.declared,
      (use, client) => `\`${use.feature}\` is only partly supported by ${client}`,
    );
  },
};
