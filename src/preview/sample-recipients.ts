import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { Recipient } from '../config/defaults.js';
import { displayPath } from '../content/load-article.js';
import { NewsletterError } from '../errors.js';

/**
 * The first rows of a subscriber list, for the preview's recipient picker. Only the head of the
 * file is read: a list of a million rows must not delay the preview, and 50 copies are plenty to
 * check how names and custom fields fill in.
 */

export const PICKER_ROWS = 50;

function toRecipient(row: Record<string, unknown>): Recipient | null {
  const email = typeof row.email === 'string' ? row.email.trim() : '';
  if (!email) return null;
  const recipient: Recipient = { email };
  for (const [key, value] of Object.entries(row)) {
    if (key === 'email') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') recipient[key] = value;
  }
  return recipient;
}

async function headOfCsv(file: string, shown: string, limit: number): Promise<Record<string, unknown>[]> {
  const stream = createReadStream(file);
  const parser = stream.pipe(parse({ columns: true, bom: true, trim: true, skip_empty_lines: true, to: limit, relax_column_count: true }));
  const rows: Record<string, unknown>[] = [];
  try {
    for await (const row of parser) rows.push(row as Record<string, unknown>);
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new NewsletterError('LIST_INVALID', `cannot read list: ${(error as Error).message}`, { file: shown, line, cause: error });
  } finally {
    stream.destroy();
  }
  return rows;
}

async function headOfJson(file: string, shown: string, limit: number): Promise<Record<string, unknown>[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new NewsletterError('LIST_INVALID', `not valid JSON: ${(error as Error).message}`, { file: shown, cause: error });
  }
  if (!Array.isArray(raw)) {
    throw new NewsletterError('LIST_INVALID', 'a JSON list must be an array of objects with an `email` key', { file: shown });
  }
  return raw.slice(0, limit).filter((row): row is Record<string, unknown> => Boolean(row) && typeof row === 'object');
}

/** Reads up to `limit` recipients from a CSV (with an `email` column) or a JSON array. */
export async function readSampleRecipients(file: string, cwd: string, limit = PICKER_ROWS): Promise<Recipient[]> {
  const absolute = path.resolve(cwd, file);
  const shown = displayPath(absolute, cwd);
  try {
    if (!(await stat(absolute)).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the list file does not exist' : code === 'EISDIR' ? 'the list is a folder, not a file' : `cannot read the list: ${(error as Error).message}`;
    throw new NewsletterError('LIST_INVALID', reason, { file: shown, hint: 'give --list a CSV file with an `email` column, or a JSON array of objects with an `email` key' });
  }
  const rows = absolute.toLowerCase().endsWith('.json') ? await headOfJson(absolute, shown, limit) : await headOfCsv(absolute, shown, limit);
  if (rows.length && !rows.some((row) => 'email' in row)) {
    throw new NewsletterError('LIST_INVALID', 'the list has no `email` column', { file: shown, line: 1, hint: 'the first line of a CSV names the columns; one must be `email`' });
  }
  return rows.map(toRecipient).filter((recipient): recipient is Recipient => recipient !== null);
}
