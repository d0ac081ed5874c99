import { normalizeSpace, textOf } from '../html.js';
import type { Rule } from '../types.js';

export const PREHEADER_MIN = 40;
export const PREHEADER_MAX = 140;

export const inboxPreheader: Rule = {
  id: 'inbox/preheader',
  description: `the preheader is missing, not in the HTML, or outside ${PREHEADER_MIN}-${PREHEADER_MAX} characters`,
  defaultSeverity: 'warn',
  check({ rendered, html, locate }) {
    const preheader = rendered.preheader?.trim() ?? '';
    const place = locate.issueKey('preheader');
    if (!preheader) {
      return [{ message: 'no preheader: inboxes then show the first words of the email ("View in browser…") next to the subject; write `preheader:` in the issue front matter', ...place }];
    }
    const length = [...preheader].length;
    if (length < PREHEADER_MIN) {
      return [{ message: `the preheader is ${length} characters: inboxes show ${PREHEADER_MIN}-${PREHEADER_MAX} and fill the rest with the email's first words; make it a full sentence`, ...place }];
    }
    if (length > PREHEADER_MAX) {
      return [{ message: `the preheader is ${length} characters: inboxes show at most about ${PREHEADER_MAX}; put the point first and cut it`, ...place }];
    }
    // The preheader partial (or MJML's <mj-preview>) puts it, hidden, first in the body: where inboxes read the preview from.
    const body = html.elements.find((element) => element.name === 'body');
    const opening = body ? textOf(body).slice(0, normalizeSpace(preheader).length + 200) : '';
    if (!opening.includes(normalizeSpace(preheader))) {
      return [{ message: 'the preheader is not at the top of the HTML body: the layout needs `{{> preheader}}` first in its <mj-body> (or `<mj-preview>{{issue.preheader}}</mj-preview>` in its <mj-head>)', ...locate.layout }];
    }
    return [];
  },
};

