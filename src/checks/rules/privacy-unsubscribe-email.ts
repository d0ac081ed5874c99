import type { Rule } from '../types.js';

export const privacyUnsubscribeEmail: Rule = {
  id: 'privacy/unsubscribe-email',
  description: 'the unsubscribe URL carries the address in clear (`{email}`): it leaks into logs and referrers, and spam filters score it',
  defaultSeverity: 'warn',
  check({ config, locate }) {
    if (!config.unsubscribeUrl.includes('{email}')) return [];
    return [
      {
        message: `\`unsubscribeUrl\` puts the address in clear in the URL (\`{email}\`): it ends up in server logs, proxies and referrers, and SpamAssassin scores it (GB_CUSTOM_HTM_URI, +1.0); \`{token}\` alone identifies the reader (the address is inside it, encrypted), so drop \`{email}\` or remove \`unsubscribeUrl\` to use \`{siteUrl}unsubscribe/{token}\``,
        ...locate.setting(['unsubscribeUrl']),
      },
    ];
  },
};
