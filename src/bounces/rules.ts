import type { Store } from '../store/types.js';
import type { BounceEvent } from './match.js';

/**
 * What an event does to the store (the rules of docs/bounces.md):
 *
 * - a hard bounce suppresses the address at once (`bounced`);
 * - a complaint suppresses it at once (`complained`);
 * - a soft bounce counts the issue; `softBounceLimit` distinct issues that soft-bounced, with no
 *   delivery in between, suppress it (`bounced`, with the last status);
 * - a delivery (a DSN's `Action: delivered`, a provider's delivery event) starts the count over.
 *
 * Every step is idempotent per (address, issue), so a report read twice changes nothing more.
 * Events with an issue are tallied for `status`.
 */

export interface BounceRules {
  softBounceLimit: number;
}

export type EventOutcome = 'suppressed' | 'already-suppressed' | 'counted' | 'reset';

export async function applyBounceEvent(store: Store, listId: string, event: BounceEvent, rules: BounceRules, now = new Date()): Promise<EventOutcome> {
  const at = now.toISOString();
  if (event.kind === 'delivered') {
    await store.bounces.delivered(event.email);
    return 'reset';
  }
  if (event.issue) await store.bounces.tally({ listId, issueSlug: event.issue }, event.kind, event.email);
  const entry = {
    source: event.source,
    ...(event.issue ? { issue: event.issue } : {}),
    ...(event.status ? { status: event.status } : {}),
    ...(event.diagnostic ? { diagnostic: event.diagnostic.slice(0, 500) } : {}),
    at,
  };
  if (event.kind === 'complaint') return (await store.suppressions.add(event.email, { reason: 'complained', ...entry })) ? 'suppressed' : 'already-suppressed';
  if (event.kind === 'hard') return (await store.suppressions.add(event.email, { reason: 'bounced', ...entry })) ? 'suppressed' : 'already-suppressed';
  // A soft bounce with no issue known counts once per day: the reports of one issue come within hours.
  const count = await store.bounces.softBounce(event.email, event.issue ?? `?${at.slice(0, 10)}`);
  if (count < rules.softBounceLimit) return 'counted';
  const diagnostic = `${count} consecutive issues soft-bounced${event.diagnostic ? `; last: ${event.diagnostic.slice(0, 400)}` : ''}`;
  return (await store.suppressions.add(event.email, { reason: 'bounced', ...entry, diagnostic })) ? 'suppressed' : 'already-suppressed';
}
