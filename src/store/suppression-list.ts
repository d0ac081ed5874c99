import { NewsletterError } from '../errors.js';
import { normalizeEmail } from '../render/links.js';
import { didYouMean } from '../suggest.js';
import { SUPPRESSION_REASONS } from './suppression-entry.js';
import type { Store, SuppressionEntry } from './types.js';

/**
 * `newsletter suppressions`: the suppression list of a store as records people read (or a
 * dashboard parses), filtered by reason and time, and one address lifted with what it was.
 */

export interface SuppressionRecord extends SuppressionEntry {
  email: string;
}

export interface ListSuppressionsOptions {
  /** Only this reason (`unsubscribed`, `bounced`, `complained`, `manual`, …). */
  reason?: string | undefined;
  /** Only entries recorded at or after this time; entries without a time are left out. */
  since?: Date | undefined;
}

/** Parses `--since`: an ISO date or time, or a age such as `7d`, `12h`, `30m`. */
/** What `--reason` may ask for: the four words, and `erased` (the hash an erasure leaves). */
const LISTED_REASONS: readonly string[] = [...SUPPRESSION_REASONS, 'erased'];

/** `--reason`: a reason suppressions are kept under, or a USAGE error that suggests one. */
export function parseReason(value: string): string {
  const reason = value.trim().toLowerCase();
  if (LISTED_REASONS.includes(reason)) return reason;
  throw new NewsletterError('USAGE', `--reason: expected ${LISTED_REASONS.join(', ')}, got \`${value}\`${didYouMean(reason, LISTED_REASONS, 3)}`);
}

export function parseSince(value: string, now: Date = new Date()): Date {
  const age = /^(\d+)\s*([dhm])$/i.exec(value.trim());
  if (age) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[age[2]!.toLowerCase() as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(age[1]) * unit);
  }
  const time = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value.trim()) || Number.isNaN(time)) {
    throw new NewsletterError('USAGE', `--since: expected a date such as 2026-12-01, a time such as 2026-12-01T09:00:00Z, or an age such as 7d, got \`${value}\``);
  }
  return new Date(time);
}

/** Every suppression that matches, newest first (those without a time last, by address). */
export async function listSuppressions(store: Store, options: ListSuppressionsOptions = {}): Promise<SuppressionRecord[]> {
  const reason = options.reason?.trim().toLowerCase();
  const since = options.since?.getTime();
  const records: SuppressionRecord[] = [];
  for await (const { email, entry } of store.suppressions.entries()) {
    if (reason && entry.reason !== reason) continue;
    if (since !== undefined && !(entry.at && Date.parse(entry.at) >= since)) continue;
    records.push({ email, ...entry });
  }
  return records.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? '') || a.email.localeCompare(b.email));
}

/** Lifts one suppression: its entry as it was, or null when the address was not suppressed. */
export async function liftSuppression(store: Store, email: string, source = 'cli'): Promise<SuppressionRecord | null> {
  const address = normalizeEmail(email);
  const entry = await store.suppressions.get(address);
  if (!entry) return null;
  await store.suppressions.remove(address, source);
  return { email: address, ...entry };
}
