import { configKeyPlace, EXAMPLE_DOMAIN_RULE, placeholderAddresses } from '../config/example-domains.js';
import type { ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';

/**
 * No real send without a real address for the links (config/example-domains.ts). A send to SMTP
 * of a list is refused before anything is read or sent; a dry run, a `--test-to` message and the
 * outbox go ahead with a notice, as build and preview do. `checks.rules["links/example-domain"]`
 * set to `warn` or `off` is the project's own word that the addresses are meant (a staging list
 * on a test domain), and lets the send go with the notice.
 */
export async function refuseExampleAddresses(config: ResolvedConfig, send: { smtp: boolean; dryRun: boolean; testTo: boolean }, notice: (message: string) => void): Promise<void> {
  const found = placeholderAddresses(config);
  if (found.length === 0) return;
  const severity = config.checks.rules[EXAMPLE_DOMAIN_RULE] ?? 'error';
  const place = await configKeyPlace(config, found[0]!.key);
  const where = `${place.file}${place.line ? `:${place.line}` : ''}`;
  const problems = found.map((f) => f.problem).join('; ');
  if (send.smtp && !send.dryRun && !send.testTo && severity === 'error') {
    throw new NewsletterError('SEND_CONFIG', `refusing to send to SMTP: ${problems}: ${found[0]!.consequence}`, {
      ...place,
      hint: `set ${found.map((f) => `\`${f.key}\``).join(', ')} in ${place.file}${config.paths.config ? '' : ' (there is none yet: create it)'} to addresses of your own (\`siteUrl\`: where \`newsletter publish\` and \`newsletter serve\` are reached); nothing was sent`,
    });
  }
  if (severity !== 'off') notice(`${where}: ${problems}: fine for a try, but a send of a list to SMTP is refused until they are your own`);
}
