import { DEFAULTS } from '../../config/defaults.js';
import { normalizeSpace } from '../html.js';
import type { Rule } from '../types.js';

export const compliancePostalAddress: Rule = {
  id: 'compliance/postal-address',
  description: "the sender's postal address is missing from the footer, or is the built-in placeholder",
  defaultSeverity: 'error',
  check({ config, html, issue, locate }) {
    const place = locate.setting(['postalAddress']);
    if (config.postalAddress === DEFAULTS.config.postalAddress) {
      return [{ message: `the postal address is the built-in placeholder \`${config.postalAddress}\`: set \`postalAddress\` in the config to your real one (required by CAN-SPAM and most anti-spam laws)`, ...place }];
    }
    const text = html.visibleText.toLowerCase();
    const address = normalizeSpace(config.postalAddress).toLowerCase();
    const at = text.lastIndexOf(address);
    if (at < 0) {
      return [{ message: 'the postal address is not in the email: print `{{@root.newsletter.postalAddress}}` in the footer template (required by CAN-SPAM and most anti-spam laws)', ...locate.layout }];
    }
    // "In the footer": after the last article, not in the masthead. A title that is a word of the
    // address (an article called "Bristol") must not be found inside the address itself.
    const outsideAddress = text.split(address).join(' '.repeat(address.length));
    const lastTitle = issue.articles.map((a) => outsideAddress.lastIndexOf(normalizeSpace(a.title).toLowerCase())).reduce((a, b) => Math.max(a, b), -1);
    if (at < lastTitle) {
      return [{ message: 'the postal address appears only above the articles: put `{{@root.newsletter.postalAddress}}` in the footer, where readers and filters look for it', ...locate.layout }];
    }
    return [];
  },
};
