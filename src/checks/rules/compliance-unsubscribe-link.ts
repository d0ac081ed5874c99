import { links, placeOfUrl } from '../elements.js';
import { withoutUtm } from '../locate.js';
import type { Rule } from '../types.js';

export const complianceUnsubscribeLink: Rule = {
  id: 'compliance/unsubscribe-link',
  description: "the HTML has no visible link to the recipient's unsubscribe URL",
  defaultSeverity: 'error',
  check(context) {
    const all = links(context);
    // `{{utm unsubscribeUrl}}` still reaches the unsubscribe page: tags do not change where it leads.
    if (all.some((link) => link.href === context.rendered.unsubscribeUrl || withoutUtm(link.href) === context.rendered.unsubscribeUrl)) return [];
    const lookalike = all.find((link) => /unsubscribe/i.test(link.label));
    if (lookalike) {
      return [
        {
          message: `the "${lookalike.label}" link goes to \`${lookalike.href}\`, not to this recipient's unsubscribe URL: write \`href="{{@root.unsubscribeUrl}}"\` so it carries the address and token`,
          ...placeOfUrl(context, lookalike.element, 'href'),
        },
      ];
    }
    return [
      {
        message: 'no unsubscribe link in the HTML: the law (CAN-SPAM, GDPR/PECR) and Gmail/Yahoo bulk-sender rules require one; add `<a href="{{@root.unsubscribeUrl}}">Unsubscribe</a>` to the footer',
        ...context.locate.layout,
      },
    ];
  },
};
