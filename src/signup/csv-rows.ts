import { createReadStream } from 'node:fs';

/**
 * The records of a CSV file (RFC 4180: `,` separated, `"` quoted with `""` inside, quoted fields
 * may hold line breaks; CRLF or LF; a leading BOM) streamed in batches, each with the line it
 * starts on. Written for `subscribers import`: csv-parse took most of a million-row import's
 * time, and a row without a quote (nearly all of an export) is one split here.
 */

export interface CsvRecord {
  fields: string[];
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export async function* csvRecords(file: string, batchSize = 1000): AsyncGenerator<CsvRecord[]> {
  let rest = '';
  let line = 1;
  let first = true;
  let batch: CsvRecord[] = [];
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = rest + chunk;
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    let at = 0;
    // The next quote of the chunk, searched again only once it is behind: a search per line
    // would scan the whole chunk for each line of a file without quotes.
    let quote = text.indexOf('"');
    for (;;) {
      const end = text.indexOf('\n', at);
      if (end < 0) break;
      if (quote >= 0 && quote < at) quote = text.indexOf('"', at);
      if (quote >= 0 && quote < end) {
        // A quoted field: parsed by hand, and it may run past this line.
        const parsed = quotedRecord(text, at, line);
        if (!parsed) break;
        if (parsed.fields.length > 1 || parsed.fields[0] !== '') batch.push({ fields: parsed.fields, line });
        line += parsed.lines;
        at = parsed.next;
      } else {
        const raw = text.charCodeAt(end - 1) === 13 ? text.slice(at, end - 1) : text.slice(at, end);
        if (raw !== '') batch.push({ fields: raw.split(','), line });
        line++;
        at = end + 1;
      }
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    rest = text.slice(at);
  }
  if (rest !== '') {
    const parsed = rest.includes('"') ? quotedRecord(`${rest}\n`, 0, line) : { fields: rest.replace(/\r$/, '').split(','), lines: 1, next: 0 };
    if (!parsed) throw new CsvSyntaxError('a quoted field is not closed before the end of the file', line);
    batch.push({ fields: parsed.fields, line });
  }
  if (batch.length) yield batch;
}

/** The record starting at `from`; null when it does not end within `text` (more is needed). */
function quotedRecord(text: string, from: number, line: number): { fields: string[]; lines: number; next: number } | null {
  const fields: string[] = [];
  let field = '';
  let i = from;
  let lines = 1;
  for (;;) {
    if (text[i] === '"') {
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) return null;
        const part = text.slice(i, close);
        for (let n = part.indexOf('\n'); n >= 0; n = part.indexOf('\n', n + 1)) lines++;
        field += part;
        if (text[close + 1] === '"') {
          field += '"';
          i = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
    }
    // Unquoted (the rest of a field after its quotes is taken as it is).
    let stop = i;
    while (stop < text.length && text[stop] !== ',' && text[stop] !== '\n') {
      if (text[stop] === '"') throw new CsvSyntaxError('a quote inside an unquoted field', line + lines - 1);
      stop++;
    }
    if (stop >= text.length) return null;
    field += text.slice(i, stop).replace(/\r$/, '');
    fields.push(field);
    field = '';
    if (text[stop] === '\n') return { fields, lines, next: stop + 1 };
    i = stop + 1;
  }
}
