import { headerValue } from '../mime.js';
import type { Problem, Rule } from '../types.js';

export const complianceListUnsubscribe: Rule = {
  id: 'compliance/list-unsubscribe',
  description: 'the message lacks an https `List-Unsubscribe` header or `List-Unsubscribe-Post: List-Unsubscribe=One-Click`',
  defaultSeverity: 'error',
  check({ message, locate }) {
    const problems: Problem[] = [];
    const place = locate.setting(['unsubscribeUrl']);
    const list = headerValue(message.headers, 'list-unsubscribe');
    if (!list) {
      problems.push({ message: 'the message has no List-Unsubscribe header: Gmail and Yahoo require one-click unsubscribe from bulk senders; set `unsubscribeUrl` in the config', ...place });
    } else if (!/<https:\/\/[^>]+>/i.test(list)) {
      problems.push({ message: `List-Unsubscribe has no https URL (\`${list}\`): one-click unsubscribe needs one; set an https \`unsubscribeUrl\``, ...place });
    }
    const post = headerValue(message.headers, 'list-unsubscribe-post');
    if (post?.replace(/\s+/g, '') !== 'List-Unsubscribe=One-Click') {
      problems.push({ message: `the message has ${post ? `\`List-Unsubscribe-Post: ${post}\`` : 'no List-Unsubscribe-Post header'}: one-click unsubscribe (RFC 8058) needs \`List-Unsubscribe-Post: List-Unsubscribe=One-Click\``, ...place });
    }
    return problems;
  },
};
