import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import { z } from 'zod';
import type { Recipient } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { checkRegularFile } from '../fs/read-regular-file.js';
import { readJsonItems } from './json-list.js';

/**
 * Subscriber lists, read as a stream: CSV with a header row (an `email` column, every other column
 * becomes `recipient.<column>`) or JSON (an array of objects, or one object per line). Each row
 * comes out as a recipient or as an invalid entry with its line number; nothing is kept.
 */

export type ListEntry =
  | { kind: 'recipient'; line: number; recipient: Recipient }
  | { kind: 'invalid'; line: number; email: string; reason: string };

export interface SubscriberList {
  file: string;
  /** As shown in messages (relative to the working directory). */
  display: string;
  format: 'csv' | 'json';
  /** CSV header; null for JSON, whose rows may differ. */
  columns: string[] | null;
  /** The rows in order, a batch at a time (one promise per batch, not per row). */
  batches(): AsyncGenerator<ListEntry[]>;
  entries(): AsyncGenerator<ListEntry>;
}

async function* flatten(batches: AsyncGenerator<ListEntry[]>): AsyncGenerator<ListEntry> {
  for await (const batch of batches) yield* batch;
}

const EMAIL = z.regexes.email;
const MAX_EMAIL_LENGTH = 254;

/** Why an address cannot be sent to, or null when it can. */
export function addressProblem(email: string): string | null {
  if (!email) return 'no email address';
  if (/[\r\n]/.test(email)) return 'the address contains a line break';
  if (email.length > MAX_EMAIL_LENGTH) return `the address is longer than ${MAX_EMAIL_LENGTH} characters`;
  if (!EMAIL.test(email)) return `\`${email}\` is not a valid email address`;
  return null;
}

/** Checks a recipient whose fields are already strings; the address is trimmed in place. */
function checked(recipient: Recipient, line: number): ListEntry {
  recipient.email = String(recipient.email ?? '').trim();
  const problem = addressProblem(recipient.email);
  if (problem) return { kind: 'invalid', line, email: recipient.email, reason: problem };
  return { kind: 'recipient', line, recipient };
}

/** A JSON entry as a recipient: every value a string. */
function jsonEntry(fields: Record<string, unknown>, line: number): ListEntry {
  const recipient: Recipient = { email: '' };
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === null || value === undefined) recipient[key] = '';
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') recipient[key] = String(value);
    else return { kind: 'invalid', line, email: String(fields.email ?? ''), reason: `field \`${key}\` must be a string, number or boolean` };
  }
  return checked(recipient, line);
}

function csvParser(file: string) {
  // Blank lines come through as records (skip_empty_lines off) so that every line is counted.
  return createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: false, relax_quotes: false, record_delimiter: ['\r\n', '\n'] }),
  );
}

/** Line feeds inside a record's fields (quoted line breaks): lines the record spans beyond its first. */
function feedsIn(record: string[]): number {
  let n = 0;
  for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

function isBlank(record: string[]): boolean {
  return record.length === 1 && record[0]!.trim() === '';
}

async function readCsvHeader(file: string, display: string): Promise<{ columns: string[]; line: number }> {
  const parser = csvParser(file);
  try {
    let line = 1;
    for await (const record of parser as AsyncIterable<string[]>) {
      if (isBlank(record)) {
        line++;
        continue;
      }
      const columns = record.map((name) => name.trim());
      if (!columns.includes('email')) {
        throw new NewsletterError('LIST_INVALID', `the list has no \`email\` column (columns: ${columns.map((c) => `\`${c}\``).join(', ')})`, {
          file: display,
          line,
          hint: 'the first row names the columns; one of them must be `email`',
        });
      }
      const duplicate = columns.find((name, i) => columns.indexOf(name) !== i);
      if (duplicate !== undefined) throw new NewsletterError('LIST_INVALID', `column \`${duplicate}\` appears twice in the header`, { file: display, line });
      return { columns, line: line + feedsIn(record) };
    }
  } catch (error) {
    if (error instanceof NewsletterError) throw error;
    throw new NewsletterError('LIST_INVALID', `not a readable CSV file: ${(error as Error).message}`, { file: display, cause: error });
  } finally {
    parser.destroy();
  }
  throw new NewsletterError('LIST_INVALID', 'the list is empty (expected a header row with an `email` column)', { file: display });
}

const BATCH = 1000;

/** Parsed CSV records, a batch at a time: the parser is read from events, paused while a batch waits. */
async function* csvRecords(file: string): AsyncGenerator<string[][]> {
  const parser = csvParser(file);
  let queue: string[][] = [];
  let done = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  parser.on('data', (record: string[]) => {
    queue.push(record);
    if (queue.length >= BATCH) parser.pause();
    notify();
  });
  parser.on('end', () => {
    done = true;
    notify();
  });
  parser.on('error', (error) => {
    failure = error;
    notify();
  });
  try {
    for (;;) {
      if (queue.length) {
        const records = queue;
        queue = [];
        parser.resume();
        yield records;
        continue;
      }
      if (failure) throw failure;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    parser.destroy();
  }
}

async function* csvBatches(file: string, display: string, columns: string[], headerLine: number): AsyncGenerator<ListEntry[]> {
  let line = 1;
  const emailAt = columns.indexOf('email');
  try {
    for await (const records of csvRecords(file)) {
      const batch: ListEntry[] = [];
      for (const record of records) {
        const first = line;
        line += 1 + feedsIn(record);
        if (first <= headerLine || isBlank(record)) continue;
        if (record.length !== columns.length) {
          batch.push({ kind: 'invalid', line: first, email: (record[emailAt] ?? '').trim(), reason: `expected ${columns.length} fields, found ${record.length}` });
          continue;
        }
        const recipient: Recipient = { email: '' };
        for (let i = 0; i < columns.length; i++) recipient[columns[i]!] = record[i]!;
        batch.push(checked(recipient, first));
      }
      if (batch.length) yield batch;
    }
  } catch (error) {
    throw new NewsletterError('LIST_INVALID', `CSV error: ${(error as Error).message}`, { file: display, line, cause: error });
  }
}

async function* jsonBatches(file: string): AsyncGenerator<ListEntry[]> {
  for await (const items of readJsonItems(file)) {
    yield items.map((item): ListEntry => {
      if (item.error !== undefined) return { kind: 'invalid', line: item.line, email: '', reason: item.error };
      if (!item.value || typeof item.value !== 'object' || Array.isArray(item.value)) {
        return { kind: 'invalid', line: item.line, email: '', reason: 'expected an object with an `email` key' };
      }
      return jsonEntry(item.value as Record<string, unknown>, item.line);
    });
  }
}

export async function openList(file: string, cwd: string): Promise<SubscriberList> {
  const absolute = path.resolve(cwd, file);
  const display = path.relative(cwd, absolute) || absolute;
  // Streamed, so no size limit; but a regular file inside its folder, like every input.
  const real = await checkRegularFile(absolute, { root: path.dirname(absolute), display, maxBytes: Infinity });
  if (real === null) {
    throw new NewsletterError('LIST_INVALID', `subscriber list \`${display}\` does not exist`, { file: display, hint: 'pass a CSV (with an `email` column) or JSON file with --list' });
  }
  if (/\.(json|jsonl|ndjson)$/i.test(absolute)) {
    return { file: absolute, display, format: 'json', columns: null, batches: () => jsonBatches(real), entries: () => flatten(jsonBatches(real)) };
  }
  const { columns, line } = await readCsvHeader(real, display);
  const batches = () => csvBatches(real, display, columns, line);
  return { file: absolute, display, format: 'csv', columns, batches, entries: () => flatten(batches()) };
}
