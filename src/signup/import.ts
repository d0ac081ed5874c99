import path from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { checkRegularFile } from '../fs/read-regular-file.js';
import { normalizeEmail } from '../render/links.js';
import { addressProblem } from '../send/recipients.js';
import type { ConsentRecord, Store } from '../store/types.js';
import { truncateIp } from './client-ip.js';
import { csvRecords, CsvSyntaxError } from './csv-rows.js';

/**
 * `subscribers import FILE`: the CSV export of another service, into the store, keeping what it
 * knew of each consent (sign-up and confirmation times, the IP, the page) and marking the source.
 * The format is told by the header row (or `--format`):
 *
 *   mailchimp   `Email Address`, `First Name`, `Last Name`, `OPTIN_TIME`, `OPTIN_IP`,
 *               `CONFIRM_TIME`, `CONFIRM_IP`; its unsubscribed export (`UNSUB_TIME`) and cleaned
 *               export (`CLEAN_TIME`) go to the suppression list instead
 *   substack    `email`, `created_at`, `email_disabled` (disabled rows are skipped, and counted)
 *   buttondown  `email`, `creation_date`, `ip_address`, `referrer_url`, `subscriber_type`
 *               (`unsubscribed` → suppressed; `unactivated`, never confirmed → skipped)
 *   csv         any CSV with an `email` column; `name` and the config's `signup.fields` kept
 *
 * Addresses already subscribed are left as they are (an import never rewrites a consent). Rows
 * are streamed in batches: a million rows take flat memory (store/files/subscribers.ts).
 */

export type ImportFormat = 'mailchimp' | 'substack' | 'buttondown' | 'csv';

export interface ImportReport {
  format: ImportFormat;
  rows: number;
  added: number;
  /** Already subscribed: left unchanged. */
  present: number;
  /** Rows the export marks unsubscribed or bounced: added to the suppression list. */
  suppressed: number;
  /** Rows not imported, each counted by why; `examples` says where. */
  skipped: number;
  examples: { line: number; reason: string }[];
}

export interface ImportOptions {
  format?: ImportFormat | undefined;
  cwd: string;
  batchSize?: number | undefined;
}

type Row = string[];
type Decision = { kind: 'subscribe'; record: ConsentRecord } | { kind: 'suppress'; email: string; reason: string } | { kind: 'skip'; reason: string };

/** A date as exports write it (`2024-03-01 10:00:00` is UTC in Mailchimp's); null when absent or unreadable. */
export function isoDate(value: string): string | null {
  const text = value.trim();
  if (!text) return null;
  // The shapes of the three exports, without a Date each (a million rows have two dates each).
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text)) return text;
  const plain = /^(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))[ T]([01]\d|2[0-3])(:[0-5]\d:[0-5]\d)$/.exec(text);
  if (plain) return `${plain[1]}T${plain[2]}${plain[3]}.000Z`;
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(text);
  const date = new Date(/^\d{4}-\d\d-\d\d \d/.test(text) ? `${text.replace(' ', 'T')}${hasZone ? '' : 'Z'}` : text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function detectFormat(columns: readonly string[]): ImportFormat | null {
  const has = (name: string) => columns.includes(name);
  if (has('Email Address')) return 'mailchimp';
  if (has('email') && (has('active_subscription') || has('email_disabled') || (has('created_at') && !has('creation_date')))) return 'substack';
  if (has('email') && (has('creation_date') || has('subscriber_type'))) return 'buttondown';
  if (has('email')) return 'csv';
  return null;
}

function decider(format: ImportFormat, config: Pick<ResolvedConfig, 'signup'>, columns: readonly string[]): (row: Row) => Decision {
  const keep = [...new Set(['name', ...config.signup.fields])];
  // Column positions found once; a missing column reads as ''.
  const positions = new Map(columns.map((name, i) => [name, i] as const));
  const column = (name: string) => {
    const at = positions.get(name);
    return at === undefined ? () => '' : (row: Row) => (row[at] ?? '').trim();
  };
  const lower = (row: Row, name: string) => (getters.get(name) ?? column(name))(row);
  const getters = new Map(columns.map((name) => [name, column(name)] as const));
  const kept = keep.filter((name) => positions.has(name));
  const ip = (value: string) => (value ? (config.signup.fullIp ? value : truncateIp(value)) : null);
  const base = (email: string, source: string): ConsentRecord => ({ email, fields: {}, signedUpAt: null, confirmedAt: null, page: null, consentText: null, ip: null, source });
  const fieldsOf = (row: Row) => {
    const fields: Record<string, string> = {};
    for (const name of kept) {
      const value = lower(row, name);
      if (value) fields[name] = value;
    }
    return fields;
  };
  switch (format) {
    case 'mailchimp':
      return (row) => {
        const email = lower(row, 'Email Address');
        if (lower(row, 'UNSUB_TIME')) return { kind: 'suppress', email, reason: 'unsubscribed' };
        if (lower(row, 'CLEAN_TIME')) return { kind: 'suppress', email, reason: 'bounced: cleaned by Mailchimp' };
        const name = [lower(row, 'First Name'), lower(row, 'Last Name')].filter(Boolean).join(' ');
        const fields: Record<string, string> = name && keep.includes('name') ? { name } : {};
        if (lower(row, 'First Name') && keep.includes('firstName')) fields.firstName = lower(row, 'First Name');
        if (lower(row, 'Last Name') && keep.includes('lastName')) fields.lastName = lower(row, 'Last Name');
        return {
          kind: 'subscribe',
          record: { ...base(email, 'import:mailchimp'), fields, signedUpAt: isoDate(lower(row, 'OPTIN_TIME')), confirmedAt: isoDate(lower(row, 'CONFIRM_TIME')), ip: ip(lower(row, 'CONFIRM_IP') || lower(row, 'OPTIN_IP')) },
        };
      };
    case 'substack':
      return (row) => {
        const email = lower(row, 'email');
        if (lower(row, 'email_disabled').toLowerCase() === 'true') return { kind: 'skip', reason: 'email_disabled is true' };
        return { kind: 'subscribe', record: { ...base(email, 'import:substack'), fields: fieldsOf(row), signedUpAt: isoDate(lower(row, 'created_at')) } };
      };
    case 'buttondown':
      return (row) => {
        const email = lower(row, 'email');
        const type = lower(row, 'subscriber_type').toLowerCase();
        if (type === 'unsubscribed') return { kind: 'suppress', email, reason: 'unsubscribed' };
        if (type === 'unactivated') return { kind: 'skip', reason: 'never confirmed (subscriber_type unactivated)' };
        return {
          kind: 'subscribe',
          record: { ...base(email, 'import:buttondown'), fields: fieldsOf(row), signedUpAt: isoDate(lower(row, 'creation_date')), ip: ip(lower(row, 'ip_address')), page: lower(row, 'referrer_url') || null },
        };
      };
    case 'csv':
      return (row) => ({ kind: 'subscribe', record: { ...base(lower(row, 'email'), 'import:csv'), fields: fieldsOf(row), signedUpAt: isoDate(lower(row, 'signed_up_at')), confirmedAt: isoDate(lower(row, 'confirmed_at')) } });
  }
}

export async function importSubscribers(file: string, store: Store, config: Pick<ResolvedConfig, 'signup'>, options: ImportOptions): Promise<ImportReport> {
  const absolute = path.resolve(options.cwd, file);
  const display = displayPath(absolute, options.cwd);
  const real = await checkRegularFile(absolute, { root: path.dirname(absolute), display, maxBytes: Infinity });
  if (real === null) throw new NewsletterError('LIST_INVALID', `\`${display}\` does not exist`, { file: display });
  const source: string = real;
  const batchSize = options.batchSize ?? 500;
  const report: ImportReport = { format: options.format ?? 'csv', rows: 0, added: 0, present: 0, suppressed: 0, skipped: 0, examples: [] };
  const skip = (line: number, reason: string) => {
    report.skipped++;
    if (report.examples.length < 10) report.examples.push({ line, reason });
  };
  let columns: string[] | null = null;
  let decide: ((row: Row) => Decision) | null = null;
  // Rows come from csvRecords, and consents go on to the store, in batches of `batchSize`.

  /** The header row: the format and the column positions; later rows are decided with them. */
  function readHeader(row: string[], line: number): void {
    columns = row.map((name) => name.trim());
    const format = options.format ?? detectFormat(columns);
    if (!format) {
      throw new NewsletterError('LIST_INVALID', 'no `email` or `Email Address` column in the header row', { file: display, line, hint: 'import reads the CSV exports of Mailchimp, Substack and Buttondown, or any CSV with an `email` column' });
    }
    report.format = format;
    decide = decider(format, config, columns);
  }

  /** A row: a consent to add, an address to suppress, or a skip (counted, with its line). */
  function classify(row: string[], line: number): Decision | null {
    report.rows++;
    const decision = decide!(row);
    if (decision.kind === 'skip') {
      skip(line, decision.reason);
      return null;
    }
    const problem = addressProblem(decision.kind === 'suppress' ? decision.email : decision.record.email);
    if (problem) {
      skip(line, problem);
      return null;
    }
    return decision;
  }

  async function* batches(): AsyncGenerator<ConsentRecord[]> {
    let batch: ConsentRecord[] = [];
    let suppress: Promise<unknown>[] = [];
    try {
      for await (const records of csvRecords(source, batchSize)) {
        for (const { fields, line } of records) {
          if (!columns) {
            readHeader(fields, line);
            continue;
          }
          const decision = classify(fields, line);
          if (decision?.kind === 'suppress') {
            report.suppressed++;
            suppress.push(store.suppressions.add(normalizeEmail(decision.email), { reason: decision.reason, source: `import:${report.format}` }));
          } else if (decision?.kind === 'subscribe') {
            batch.push(decision.record);
          }
        }
        // Once per batch of rows: suppressions written, consents handed on.
        await Promise.all(suppress);
        suppress = [];
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } catch (error) {
      if (error instanceof NewsletterError) throw error;
      const line = error instanceof CsvSyntaxError ? error.line : undefined;
      throw new NewsletterError('LIST_INVALID', `not a readable CSV: ${(error as Error).message}`, { file: display, line, cause: error });
    }
  }

  const { added, present } = await store.subscribers.addMissing(batches());
  if (!columns) throw new NewsletterError('LIST_INVALID', 'the file is empty (no header row)', { file: display });
  report.added = added;
  report.present = present;
  return report;
}
