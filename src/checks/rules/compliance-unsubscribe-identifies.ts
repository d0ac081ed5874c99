import type { Rule } from '../types.js';

export const complianceUnsubscribeIdentifies: Rule = {
  id: 'compliance/unsubscribe-identifies',
  description: 'the unsubscribe URL has neither `{token}` nor `{email}`: every recipient gets the same URL, which unsubscribes nobody',
  defaultSeverity: 'error',
  check({ config, locate }) {
    const pattern = config.unsubscribeUrl;
    if (pattern.includes('{token}') || pattern.includes('{email}')) return [];
    return [
      {
        message: `\`unsubscribeUrl\` (\`${pattern}\`) names no recipient: every message carries the same URL, so a one-click unsubscribe cannot tell who asked; use \`{token}\` (the default \`{siteUrl}unsubscribe/{token}\` is what \`newsletter serve\` answers)`,
        ...locate.setting(['unsubscribeUrl']),
      },
    ];
  },
};
