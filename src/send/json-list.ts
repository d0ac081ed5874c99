import { createReadStream } from 'node:fs';

/**
 * Streams the objects of a JSON subscriber list without holding the file: either a top-level
 * array of objects or JSON lines (one object per line). The scanner only finds where each
 * top-level object starts and ends (strings and escapes respected); each object is then parsed
 * with JSON.parse on its own. Yields, per chunk read, the parsed values (or parse errors) with
 * their first lines: batches, so a million entries do not cost a million promises.
 */

export interface JsonItem {
  line: number;
  value?: unknown;
  error?: string;
}

export async function* readJsonItems(file: string): AsyncGenerator<JsonItem[]> {
  let line = 1;
  let mode: 'start' | 'array' | 'lines' | 'done' = 'start';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let item: string[] = [];
  let itemLine = 0;

  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  for await (const chunk of stream as AsyncIterable<string>) {
    const batch: JsonItem[] = [];
    let start = depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 34) {
        if (depth === 0) batch.push({ line, error: 'expected an object, found a string' });
        inString = true;
        continue;
      }
      if (c === 123 || c === 91) {
        if (mode === 'start') {
          mode = c === 91 ? 'array' : 'lines';
          if (c === 91) continue;
        }
        if (depth === 0) {
          start = i;
          itemLine = line;
          item = [];
        }
        depth++;
        continue;
      }
      if (c === 125 || c === 93) {
        if (depth === 0) {
          if (c === 93 && mode === 'array') mode = 'done';
          else batch.push({ line, error: `unexpected \`${String.fromCharCode(c)}\`` });
          continue;
        }
        depth--;
        if (depth === 0) {
          item.push(chunk.slice(start, i + 1));
          start = -1;
          const text = item.join('');
          item = [];
          try {
            batch.push({ line: itemLine, value: JSON.parse(text) });
          } catch (error) {
            batch.push({ line: itemLine, error: `not valid JSON: ${(error as Error).message}` });
          }
        }
        continue;
      }
      if (depth === 0 && c !== 44 && c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) {
        batch.push({ line, error: `unexpected \`${chunk[i]}\` between list entries` });
        // Skip to the end of this line so one bad token is reported once.
        const next = chunk.indexOf('\n', i);
        if (next < 0) break;
        i = next - 1;
      }
    }
    if (depth > 0) item.push(chunk.slice(start));
    if (batch.length) yield batch;
  }
  if (depth > 0) yield [{ line: itemLine, error: 'the file ends inside this entry' }];
  else if (mode === 'array') yield [{ line, error: 'the file ends before the closing `]` of the list' }];
}
