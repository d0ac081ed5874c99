import { DEFAULTS } from '../config/defaults.js';
import { addressProblem } from '../send/recipients.js';
import type { SentIssue, Store } from '../store/types.js';
import type { BounceEvent } from './match.js';
import { readAgainAfter } from './read-again.js';

/**
 * What an event does to the store (the rules of docs/bounces.md):
 *
 * - a hard bounce suppresses the address at once (`bounced`);
 * - a complaint suppresses it at once (`complained`);
 * - a soft bounce counts the issue; `softBounceLimit` consecutive issues that soft-bounced
 *   suppress it (`bounced`, with the last status). Consecutive in the order the issues were sent
 *   (IssueOrder): an issue sent in between that did not bounce was a delivery, and breaks the run;
 * - a delivery report (a DSN's `Action: delivered`, a provider's delivery event) starts over;
 * - an unsubscribe request (mailto) suppresses the address (`unsubscribed`), as the link does.
 *
 * Every step is idempotent per (address, issue), so a report read twice changes nothing more.
 * Events with an issue are tallied for `status`.
 */

export interface BounceRules {
  softBounceLimit: number;
  /** The order issues were sent in; without it, distinct soft-bounced issues count as consecutive. */
  order?: IssueOrder | undefined;
}

/**
 * The issues in the order they were first sent (their journals' first run records), read when
 * first needed and again after `maxAgeMs` (a `serve` running for weeks sees the new issues).
 */
export class IssueOrder {
  private readonly rankMap: () => Promise<Map<string, number>>;

  constructor(load: () => Promise<SentIssue[]>, maxAgeMs: number = DEFAULTS.bounces.issuesMaxAgeMs) {
    this.rankMap = readAgainAfter(
      () =>
        load().then((issues) => {
          const sorted = [...issues].sort((a, b) => (a.firstSentAt ?? '\uffff').localeCompare(b.firstSentAt ?? '\uffff') || a.slug.localeCompare(b.slug));
          return new Map(sorted.map((issue, i) => [issue.slug, i]));
        }),
      maxAgeMs,
    );
  }

  /**
   * How many of `issues` (an address's soft-bounced issues) form a run of consecutive sends
   * ending at the latest of them. Issues with no journal (a bounce whose issue was not known)
   * count on top, as the order cannot say where they fall.
   */
  async consecutive(issues: readonly string[]): Promise<number> {
    const ranks = await this.rankMap();
    const known = issues.map((issue) => ranks.get(issue)).filter((rank): rank is number => rank !== undefined);
    known.sort((a, b) => a - b);
    let run = known.length ? 1 : 0;
    for (let i = known.length - 1; i > 0 && known[i]! - known[i - 1]! === 1; i--) run++;
    return run + (issues.length - known.length);
  }
}

export type EventOutcome = 'suppressed' | 'already-suppressed' | 'counted' | 'reset' | 'not-an-address';

/**
 * An event's address as the store may take it: one address, as the subscriber list checks them.
 * Not `sha256:…` (what an erasure leaves, which `suppressions remove` could not lift) nor a
 * leading `-` (a removal in suppressions.txt): a report's text is whoever sent it.
 */
export function eventAddressProblem(email: string): string | null {
  return addressProblem(email) ?? (/^[-+]|^sha256:/i.test(email) ? `\`${email.slice(0, 80)}\` is not a reader's address` : null);
}

export async function applyBounceEvent(store: Store, listId: string, event: BounceEvent, rules: BounceRules, now = new Date()): Promise<EventOutcome> {
  if (eventAddressProblem(event.email)) return 'not-an-address';
  const at = now.toISOString();
  if (event.kind === 'delivered') {
    await store.bounces.delivered(event.email);
    return 'reset';
  }
  if (event.kind === 'unsubscribe') {
    // As the unsubscribe link does (serve), with where the request came from.
    const added = await store.suppressions.add(event.email, { reason: 'unsubscribed', source: event.source, ...(event.issue ? { issue: event.issue } : {}), at });
    return added ? 'suppressed' : 'already-suppressed';
  }
  // The tally and the suppression are independent writes: made at once, they share the syncs.
  const tally = event.issue ? store.bounces.tally({ listId, issueSlug: event.issue }, event.kind, event.email) : Promise.resolve();
  const entry = {
    source: event.source,
    ...(event.issue ? { issue: event.issue } : {}),
    ...(event.status ? { status: event.status } : {}),
    ...(event.diagnostic ? { diagnostic: event.diagnostic.slice(0, 500) } : {}),
    at,
  };
  if (event.kind === 'complaint' || event.kind === 'hard') {
    const [added] = await Promise.all([store.suppressions.add(event.email, { reason: event.kind === 'complaint' ? 'complained' : 'bounced', ...entry }), tally]);
    return added ? 'suppressed' : 'already-suppressed';
  }
  // A soft bounce with no issue known counts once per day: the reports of one issue come within hours.
  const [issues] = await Promise.all([store.bounces.softBounce(event.email, event.issue ?? `?${at.slice(0, 10)}`), tally]);
  const count = rules.order ? await rules.order.consecutive(issues) : issues.length;
  if (count < rules.softBounceLimit) return 'counted';
  const diagnostic = `${count} consecutive issues soft-bounced${event.diagnostic ? `; last: ${event.diagnostic.slice(0, 400)}` : ''}`;
  return (await store.suppressions.add(event.email, { reason: 'bounced', ...entry, diagnostic })) ? 'suppressed' : 'already-suppressed';
}
