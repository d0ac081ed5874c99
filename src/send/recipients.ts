import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import { z } from 'zod';
import type { Recipient } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { checkRegularFile } from '../fs/read-regular-file.js';
import { readJsonItems } from './json-list.js';

/**
 * Subscriber lists, read as a stream: CSV with a header row (an `email` column, every other column
 * becomes `recipient.<column>`) or JSON (an array of objects, or one object per line). Each row
 * comes out as a recipient or as an invalid entry with its line number; nothing is kept.
 */

export type ListEntry =
  /** `padded`: trailing fields the row left out, read as empty values (counted in the send's summary). */
  | { kind: 'recipient'; line: number; recipient: Recipient; padded?: number }
  | { kind: 'invalid'; line: number; email: string; reason: string };

export interface SubscriberList {
  file: string;
  /** As shown in messages (relative to the working directory). */
  display: string;
  format: 'csv' | 'json';
  /** CSV header; null for JSON, whose rows may differ. The address column is always named `email`. */
  columns: string[] | null;
  /** The CSV field separator, as detected or given; null for JSON. */
  delimiter: CsvDelimiter | null;
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

export type CsvDelimiter = ',' | ';' | '\t';

/** What `--delimiter` accepts: the character itself, or a name for the ones a shell mangles. */
export function parseDelimiter(value: string): CsvDelimiter {
  const named: Record<string, CsvDelimiter> = { ',': ',', comma: ',', ';': ';', semicolon: ';', '\t': '\t', '\\t': '\t', tab: '\t' };
  const delimiter = named[value.toLowerCase()];
  if (!delimiter) throw new NewsletterError('USAGE', `--delimiter: expected \`,\`, \`;\` or \`tab\`, got \`${value}\``);
  return delimiter;
}

/**
 * The separator of the header row: the one of `,` `;` tab that occurs most outside quotes (a comma
 * on a tie). Spreadsheets in much of Europe export `;`, since `,` is their decimal mark.
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === ',' || char === ';' || char === '\t')) counts[char]++;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[','] && counts['\t'] > counts[';']) return '\t';
  return ',';
}

/** The first non-blank line of the file (within its first 64 KB), without a byte-order mark. */
async function firstLine(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    return text.split(/\r?\n/).find((line) => line.trim() !== '') ?? '';
  } finally {
    await handle.close();
  }
}

function csvParser(file: string, delimiter: CsvDelimiter) {
  // Blank lines come through as records (skip_empty_lines off) so that every line is counted.
  return createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(
    parse({ bom: true, delimiter, relax_column_count: true, skip_empty_lines: false, relax_quotes: false, record_delimiter: ['\r\n', '\n'] }),
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

async function readCsvHeader(file: string, display: string, delimiter: CsvDelimiter): Promise<{ columns: string[]; line: number }> {
  const parser = csvParser(file, delimiter);
  try {
    let line = 1;
    for await (const record of parser as AsyncIterable<string[]>) {
      if (isBlank(record)) {
        line++;
        continue;
      }
      const columns = record.map((name) => name.trim());
      // `Email`, `EMAIL`, `E-mail`: spreadsheets and mailing tools capitalise headers. The column
      // is `email` from here on, as templates name it (`recipient.email`).
      const emailAt = columns.findIndex((name) => /^e-?mail$/i.test(name));
      if (emailAt < 0) {
        const shown = columns.map((c) => `\`${c}\``).join(', ');
        const oneColumn = columns.length === 1 && /[,;\t]/.test(columns[0]!);
        throw new NewsletterError('LIST_INVALID', `the list has no \`email\` column (columns: ${shown})`, {
          file: display,
          line,
          hint: oneColumn
            ? `the header was read as one column: is the list separated by another character? pass it with --delimiter (\`,\`, \`;\` or \`tab\`)`
            : 'the first row names the columns; one of them must be `email` (in any case)',
        });
      }
      columns[emailAt] = 'email';
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
async function* csvRecords(file: string, delimiter: CsvDelimiter): AsyncGenerator<string[][]> {
  const parser = csvParser(file, delimiter);
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

async function* csvBatches(file: string, display: string, columns: string[], headerLine: number, delimiter: CsvDelimiter): AsyncGenerator<ListEntry[]> {
  let line = 1;
  const emailAt = columns.indexOf('email');
  try {
    for await (const records of csvRecords(file, delimiter)) {
      const batch: ListEntry[] = [];
      for (const record of records) {
        const first = line;
        line += 1 + feedsIn(record);
        if (first <= headerLine || isBlank(record)) continue;
        // More fields than columns cannot be placed; fewer are trailing fields left out (spreadsheets
        // drop empty cells at the end of a row): empty values, like an empty cell.
        if (record.length > columns.length) {
          batch.push({ kind: 'invalid', line: first, email: (record[emailAt] ?? '').trim(), reason: `expected ${columns.length} fields, found ${record.length}` });
          continue;
        }
        const recipient: Recipient = { email: '' };
        for (let i = 0; i < columns.length; i++) recipient[columns[i]!] = record[i] ?? '';
        const entry = checked(recipient, first);
        if (entry.kind === 'recipient' && record.length < columns.length) entry.padded = columns.length - record.length;
        batch.push(entry);
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

export interface ListOptions {
  /** The CSV separator; detected from the header row when absent. */
  delimiter?: CsvDelimiter | undefined;
}

export async function openList(file: string, cwd: string, options: ListOptions = {}): Promise<SubscriberList> {
  const absolute = path.resolve(cwd, file);
  const display = displayPath(absolute, cwd);
  // Streamed, so no size limit; but a regular file inside its folder, like every input.
  const real = await checkRegularFile(absolute, { root: path.dirname(absolute), display, maxBytes: Infinity });
  if (real === null) {
    throw new NewsletterError('LIST_INVALID', `subscriber list \`${display}\` does not exist`, { file: display, hint: 'pass a CSV (with an `email` column) or JSON file with --list' });
  }
  if (/\.(json|jsonl|ndjson)$/i.test(absolute)) {
    return { file: absolute, display, format: 'json', columns: null, delimiter: null, batches: () => jsonBatches(real), entries: () => flatten(jsonBatches(real)) };
  }
  let delimiter = options.delimiter;
  if (!delimiter) {
    try {
      delimiter = detectDelimiter(await firstLine(real));
    } catch (error) {
      throw new NewsletterError('LIST_INVALID', `cannot read the subscriber list: ${(error as Error).message}`, { file: display, cause: error });
    }
  }
  const { columns, line } = await readCsvHeader(real, display, delimiter);
  const batches = () => csvBatches(real, display, columns, line, delimiter);
  return { file: absolute, display, format: 'csv', columns, delimiter, batches, entries: () => flatten(batches()) };
}
