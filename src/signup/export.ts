import type { ResolvedConfig } from '../config/defaults.js';
import type { Store, Subscriber } from '../store/types.js';

/**
 * `subscribers export` (and `list`): every subscriber with the proof of consent and whether the
 * address is suppressed now (`status`: subscribed, or unsubscribed when an unsubscribe, bounce
 * or complaint stops sends to it). CSV with a header row, or JSON (an array, written as it is
 * read, so a million subscribers never sit in memory as one string).
 *
 * Values in CSV are data, not formulas: a cell a spreadsheet would run (`=`, `+`, `-`, `@`, tab,
 * CR first) gets a leading `'`, so a name typed into the public form cannot become a formula.
 */

export interface ExportedSubscriber extends Subscriber {
  status: 'subscribed' | 'unsubscribed';
}

export async function* subscribersWithStatus(store: Store): AsyncGenerator<ExportedSubscriber> {
  const suppressed = await store.suppressions.load();
  for await (const subscriber of store.subscribers.iterate()) yield { ...subscriber, status: suppressed.has(subscriber.email) ? 'unsubscribed' : 'subscribed' };
}

export function csvCell(value: string | null | undefined): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function write(out: NodeJS.WritableStream, text: string): Promise<void> | void {
  if (!out.write(text)) return new Promise((resolve) => out.once('drain', resolve));
}

export async function exportSubscribers(store: Store, config: Pick<ResolvedConfig, 'signup'>, out: NodeJS.WritableStream, format: 'csv' | 'json'): Promise<number> {
  let count = 0;
  if (format === 'json') {
    await write(out, '[');
    for await (const subscriber of subscribersWithStatus(store)) {
      await write(out, `${count++ ? ',' : ''}\n${JSON.stringify(subscriber)}`);
    }
    await write(out, count ? '\n]\n' : ']\n');
    return count;
  }
  const fields = [...new Set(['name', ...config.signup.fields])];
  await write(out, `${['email', ...fields, 'status', 'signed_up_at', 'confirmed_at', 'page', 'consent_text', 'ip', 'source', 'earlier_consents'].join(',')}\r\n`);
  for await (const s of subscribersWithStatus(store)) {
    const cells = [s.email, ...fields.map((field) => s.fields[field] ?? ''), s.status, s.signedUpAt, s.confirmedAt, s.page, s.consentText, s.ip, s.source, String(s.history.length)];
    await write(out, `${cells.map(csvCell).join(',')}\r\n`);
    count++;
  }
  return count;
}
