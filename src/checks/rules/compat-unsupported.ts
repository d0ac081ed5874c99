import { compatProblems } from '../compat-message.js';
import type { Rule } from '../types.js';

export const compatUnsupported: Rule = {
  id: 'compat/unsupported',
  description: 'templates or content use an HTML/CSS feature that a configured client does not support (caniemail)',
  defaultSeverity: 'warn',
  check(context) {
    return compatProblems(
      context,
      (use) => use.origin === 'authored' && use.support === 'none' && !use.declared,
      (use, client) =>
        `\`${use.feature}\` is not supported by ${client}: drop it, or, if the email reads well without it, declare it with \`<!-- progressive-enhancement: \`${use.feature}\` — what those readers see instead -->\` in the template`,
    );
  },
};
