import { headerValue } from '../mime.js';
import type { Rule } from '../types.js';

export const complianceReplyTo: Rule = {
  id: 'compliance/reply-to',
  description: 'the message has no Reply-To: replies go to the From address',
  defaultSeverity: 'warn',
  check({ message, locate }) {
    if (headerValue(message.headers, 'reply-to')) return [];
    const place = locate.setting(['replyTo']);
    return [{ message: 'no Reply-To header: replies go to the From address, often a no-reply mailbox; set `replyTo` in the config to a mailbox someone reads', ...place }];
  },
};
