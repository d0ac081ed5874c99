import { DEFAULTS } from '../../config/defaults.js';
import { kb } from '../elements.js';
import type { Rule } from '../types.js';

export const sizeLarge: Rule = {
  id: 'size/large',
  description: `the HTML part, encoded as sent, is over ${DEFAULTS.sizeWarnBytes / 1024} KB for the largest recipient: close to Gmail's clipping`,
  defaultSeverity: 'warn',
  check({ size, locate }) {
    // Over the clipping limit, size/gmail-clip speaks; this rule is the early warning before it.
    if (size.largestBytes <= DEFAULTS.sizeWarnBytes || size.largestBytes > DEFAULTS.gmailClipBytes) return [];
    return [
      {
        message:
          `the HTML part is ${kb(size.largestBytes)} as encoded for the largest recipient (${kb(size.sampleBytes)} for the sample): ` +
          `${kb(DEFAULTS.gmailClipBytes - size.largestBytes)} left before Gmail clips it. Keep the next additions short`,
        ...locate.issueFile,
      },
    ];
  },
};
