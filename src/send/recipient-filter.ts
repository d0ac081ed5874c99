import type { Recipient } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { AddressSet } from './hash-set.js';
import type { OutcomeStatus } from './journal.js';
import type { ListEntry } from './recipients.js';
import type { SuppressionStore } from '../store/types.js';

/**
 * Decides per list row: send, skip (invalid, duplicate, suppressed: each reported with its line),
 * or already sent by an earlier run (the journal has it as accepted). The dedupe set is the only
 * structure that grows with the list, and it holds 8 bytes per address.
 */

export type Decision =
  | { kind: 'send'; line: number; recipient: Recipient }
  | { kind: 'skip'; status: Extract<OutcomeStatus, `skipped-${string}`>; line: number; email: string; reason: string }
  | { kind: 'already-sent'; line: number; email: string };

export interface FilterInput {
  suppressed: AddressSet;
  accepted: AddressSet;
  /** Fields the templates print; a JSON row without one of them is an error (strict mode). */
  requiredFields: readonly string[];
  listDisplay: string;
}

export class RecipientFilter {
  private readonly seen = new AddressSet();

  constructor(private readonly input: FilterInput) {}

  decide(entry: ListEntry): Decision {
    if (entry.kind === 'invalid') return { kind: 'skip', status: 'skipped-invalid', line: entry.line, email: entry.email, reason: entry.reason };
    const { recipient, line } = entry;
    for (const field of this.input.requiredFields) {
      if (!(field in recipient)) {
        throw new NewsletterError('LIST_INVALID', `this entry has no \`${field}\`, which the templates use (\`recipient.${field}\`)`, {
          file: this.input.listDisplay,
          line,
          hint: 'give every entry the field (an empty string is fine) or remove it from the templates',
        });
      }
    }
    const email = recipient.email;
    if (!this.seen.add(email)) return { kind: 'skip', status: 'skipped-duplicate', line, email, reason: 'duplicate address (sent once, to its first row)' };
    if (this.input.suppressed.has(email)) return { kind: 'skip', status: 'skipped-suppressed', line, email, reason: 'on the suppression list' };
    if (this.input.accepted.has(email)) return { kind: 'already-sent', line, email };
    return { kind: 'send', line, recipient };
  }
}

export interface SkipExample {
  line: number;
  email: string;
  reason: string;
}

export interface ListCounts {
  rows: number;
  toSend: number;
  alreadySent: number;
  invalid: number;
  duplicate: number;
  suppressed: number;
  /** CSV rows sent with trailing fields left out, read as empty values. */
  padded: number;
  /** The suppressed rows by the reason of their suppression (`unsubscribed`, `bounced`, …). */
  suppressedBy: Record<string, number>;
  /** The first skipped rows, for the report (all of them are in the journal). */
  examples: SkipExample[];
}

export const MAX_EXAMPLES = 20;

export function emptyCounts(): ListCounts {
  return { rows: 0, toSend: 0, alreadySent: 0, invalid: 0, duplicate: 0, suppressed: 0, padded: 0, suppressedBy: {}, examples: [] };
}

/** Counts one row; a suppressed address is also added to `suppressedSeen`, for its reason (suppressedReasons). */
export function countDecision(counts: ListCounts, decision: Decision, suppressedSeen?: AddressSet): void {
  counts.rows++;
  if (decision.kind === 'send') counts.toSend++;
  else if (decision.kind === 'already-sent') counts.alreadySent++;
  else {
    if (decision.status === 'skipped-invalid') counts.invalid++;
    else if (decision.status === 'skipped-duplicate') counts.duplicate++;
    else {
      counts.suppressed++;
      suppressedSeen?.add(decision.email);
    }
    if (counts.examples.length < MAX_EXAMPLES) counts.examples.push({ line: decision.line, email: decision.email, reason: decision.reason });
  }
}

/**
 * The suppressed rows of a list by reason: one pass over the store's entries, counting those of
 * the addresses the list had (`seen`). A row whose entry cannot be found counts as `manual`.
 */
export async function suppressedReasons(store: SuppressionStore, seen: AddressSet): Promise<Record<string, number>> {
  const by: Record<string, number> = {};
  if (seen.size === 0) return by;
  let found = 0;
  for await (const { email, entry } of store.entries()) {
    if (!seen.has(email)) continue;
    by[entry.reason] = (by[entry.reason] ?? 0) + 1;
    found++;
  }
  if (found < seen.size) by.manual = (by.manual ?? 0) + seen.size - found;
  return by;
}
