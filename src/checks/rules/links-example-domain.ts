import { EXAMPLE_DOMAIN_RULE, placeholderAddresses } from '../../config/example-domains.js';
import type { Rule } from '../types.js';

/** No real send without a real address for the links: see config/example-domains.ts. */
export const linksExampleDomain: Rule = {
  id: EXAMPLE_DOMAIN_RULE,
  description: '`siteUrl` is not set, or `siteUrl`, `from` or the unsubscribe URL is on a domain reserved for examples (example.com, .test, .invalid…): links and List-Unsubscribe reach nobody; a send to SMTP is refused',
  defaultSeverity: 'error',
  check({ config, locate }) {
    return placeholderAddresses(config).map(({ key, problem, consequence }) => ({
      message: `${problem}: ${consequence}; set \`${key}\` to your own (a send to SMTP is refused until then)`,
      ...locate.setting([key]),
    }));
  },
};
