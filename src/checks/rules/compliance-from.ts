import { DEFAULTS } from '../../config/defaults.js';
import { headerValue } from '../mime.js';
import type { Rule } from '../types.js';

export const complianceFrom: Rule = {
  id: 'compliance/from',
  description: 'the From header is missing, has no address, or is the built-in placeholder',
  defaultSeverity: 'error',
  check({ config, message, locate }) {
    const place = locate.setting(['from']);
    const from = headerValue(message.headers, 'from');
    if (!from || !/@[^\s>]+/.test(from)) {
      return [{ message: `the message has ${from ? `no address in From (\`${from}\`)` : 'no From header'}: set \`from\` in the config, e.g. "The Dispatch <dispatch@example.org>"`, ...place }];
    }
    if (config.from === DEFAULTS.config.from) {
      return [{ message: `From is the built-in placeholder \`${config.from}\`: set \`from\` in the config to an address of a domain you send from (SPF/DKIM/DMARC)`, ...place }];
    }
    return [];
  },
};
