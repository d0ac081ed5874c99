import type { SuppressionEntry, SuppressionReason } from './types.js';

/**
 * What a suppression says about itself, the same for every backend and every writer: `reason` is
 * one word (`unsubscribed`, `bounced`, `complained`, `manual`), `source` says who recorded it
 * (`serve`, `smtp-5xx`, `imap`, `ses`, `suppressions.txt`, …), and the rest is optional detail.
 * Entries written before these words existed (`bounced: 550 …` with the issue as source,
 * `imported`) are read into the same shape.
 */

export const SUPPRESSION_REASONS: readonly SuppressionReason[] = ['unsubscribed', 'bounced', 'complained', 'manual'];

const REASON_WORDS: [RegExp, SuppressionReason][] = [
  [/^unsubscri/i, 'unsubscribed'],
  [/^(hard[- ]?)?bounce/i, 'bounced'],
  [/^(complain|spam|abuse)/i, 'complained'],
  [/^(manual|imported|hand)/i, 'manual'],
];

const MAX_TEXT = 500;

function short(value: unknown, max = MAX_TEXT): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return String(value)
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
    .trim()
    .slice(0, max);
}

/**
 * The entry as stored: the reason made one of the words (a `bounced: 550 …` of older writers keeps
 * its text as the diagnostic), text fields on one line and bounded, `at` set from `now` when
 * missing (null: left out).
 */
export function normalizeEntry(entry: { readonly [K in keyof SuppressionEntry]?: unknown }, now: (() => Date) | null = () => new Date()): SuppressionEntry {
  const given = short(entry.reason, 200) ?? 'manual';
  const word = REASON_WORDS.find(([pattern]) => pattern.test(given))?.[1];
  const detail = word && given.includes(':') ? short(given.slice(given.indexOf(':') + 1)) : undefined;
  const result: SuppressionEntry = { reason: word ?? given.toLowerCase(), source: short(entry.source, 100) ?? 'unknown' };
  // Older writers: a bounce's source was the issue slug, an import's `suppressions file`.
  if (word === 'bounced' && /^bounced:/i.test(given) && entry.issue === undefined && result.source !== 'smtp-5xx') {
    result.issue = result.source;
    result.source = 'smtp-5xx';
  }
  if (/^imported$/i.test(given) && /suppressions (file|\.txt)/.test(result.source)) result.source = 'suppressions.txt';
  const issue = short(entry.issue, 200);
  const status = short(entry.status, 40) ?? (word === 'bounced' && detail ? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(detail)?.[1] : undefined);
  const diagnostic = short(entry.diagnostic) ?? detail;
  const note = short(entry.note);
  if (issue) result.issue = issue;
  if (status) result.status = status;
  if (diagnostic) result.diagnostic = diagnostic;
  if (note) result.note = note;
  const at = short(entry.at, 40);
  if (at && !Number.isNaN(Date.parse(at))) result.at = at;
  else if (now) result.at = now().toISOString();
  return result;
}

/** An entry as JSON text, or null when `text` is not one. */
export function parseEntryJson(text: string): SuppressionEntry | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
    // As stored: an entry without a time (a line written by hand) is not given one.
    return normalizeEntry(value as { [K in keyof SuppressionEntry]?: unknown }, null);
  } catch {
    return null;
  }
}

/** `bounced (imap, weekly-1, 5.1.1: 550 user unknown) since 2026-12-07T…`: one entry for people. */
export function describeEntry(entry: SuppressionEntry): string {
  const details = [entry.source, entry.issue, [entry.status, entry.diagnostic].filter(Boolean).join(': '), entry.note].filter(Boolean);
  return `${entry.reason} (${details.join(', ')})${entry.at ? ` since ${entry.at}` : ''}`;
}

/** A 5xx the SMTP server answered during a send: the entry, with the enhanced status when the reply has one. */
export function smtpBounceEntry(reply: string, issue: string): SuppressionEntry {
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1];
  return { reason: 'bounced', source: 'smtp-5xx', issue, ...(status ? { status } : {}), diagnostic: reply };
}
