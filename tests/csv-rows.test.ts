import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvRecords } from '../src/signup/csv-rows.js';

/** The CSV reader of `subscribers import` (RFC 4180), against records written out by hand. */

async function read(text: string, batch = 2): Promise<{ fields: string[]; line: number }[]> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'csv-rows-')), 'x.csv');
  await writeFile(file, text);
  const all = [];
  for await (const records of csvRecords(file, batch)) all.push(...records);
  return all;
}

describe('csvRecords', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF, a BOM, blank lines, no final newline', async () => {
    const records = await read('\uFEFFemail,note\r\na@example.com,"one, two"\r\n\r\nb@example.com,"say ""hi""\nsecond line"\nc@example.com,\n"d@example.com",last');
    expect(records).toEqual([
      { fields: ['email', 'note'], line: 1 },
      { fields: ['a@example.com', 'one, two'], line: 2 },
      { fields: ['b@example.com', 'say "hi"\nsecond line'], line: 4 },
      { fields: ['c@example.com', ''], line: 6 },
      { fields: ['d@example.com', 'last'], line: 7 },
    ]);
  });

  it('says where a quote is not closed', async () => {
    await expect(read('email\n"a@example.com\n')).rejects.toMatchObject({ line: 2 });
  });
});
