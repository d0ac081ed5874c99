import type { ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { normalizeEmail } from '../render/links.js';
import { addressProblem } from '../send/recipients.js';
import type { Store } from '../store/types.js';

/**
 * `subscribers add|remove`: one address at a time, by hand. An address added by hand has no
 * proof of consent but the word of whoever ran the command: its source says `cli`.
 */

export async function addSubscriber(store: Store, config: Pick<ResolvedConfig, 'signup'>, email: string, fields: Record<string, string>): Promise<'added' | 'renewed'> {
  const problem = addressProblem(email.trim());
  if (problem) throw new NewsletterError('USAGE', problem);
  for (const name of Object.keys(fields)) {
    if (name !== 'name' && !config.signup.fields.includes(name)) {
      throw new NewsletterError('USAGE', `--field \`${name}\`: not one of the fields the config names (signup.fields: ${config.signup.fields.join(', ') || 'none'}; \`name\` is always allowed)`);
    }
  }
  const now = new Date().toISOString();
  return store.subscribers.put({ email: normalizeEmail(email), fields, signedUpAt: now, confirmedAt: now, page: null, consentText: null, ip: null, source: 'cli' });
}

/** `erase`: the GDPR erasure (Store.erase); otherwise the subscriber only (its consent stays in the files' history). */
export async function removeSubscriber(store: Store, email: string, erase: boolean): Promise<boolean> {
  const address = normalizeEmail(email);
  if (!address) throw new NewsletterError('USAGE', 'no address given');
  if (erase) {
    if (!store.suppressions.erase) throw new NewsletterError('USAGE', 'this suppression store cannot erase an address');
    return store.erase(address);
  }
  return store.subscribers.remove(address);
}
