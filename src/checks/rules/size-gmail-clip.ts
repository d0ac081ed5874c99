import { DEFAULTS } from '../../config/defaults.js';
import { kb } from '../elements.js';
import { LONGEST_ADDRESS } from '../message-size.js';
import type { Rule } from '../types.js';

export const sizeGmailClip: Rule = {
  id: 'size/gmail-clip',
  description: `the HTML part, encoded as sent, is over ${DEFAULTS.gmailClipBytes / 1024} KB for the largest recipient: Gmail clips it`,
  defaultSeverity: 'error',
  check({ size, locate }) {
    if (size.largestBytes <= DEFAULTS.gmailClipBytes) return [];
    return [
      {
        message:
          `Gmail clips this message: ${kb(size.largestBytes)} > ${kb(DEFAULTS.gmailClipBytes)} (the HTML part as encoded for the largest recipient, ` +
          `a ${LONGEST_ADDRESS}-character address; ${kb(size.sampleBytes)} for the sample recipient) and hides the rest, ` +
          'unsubscribe link included. Shorten the issue: fewer articles, or `lead: card` to show the lead as a card',
        ...locate.issueFile,
      },
    ];
  },
};
