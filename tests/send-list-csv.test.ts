import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NewsletterError } from '../src/errors.js';
import { detectDelimiter, openList, parseDelimiter, type ListEntry, type ListOptions } from '../src/send/recipients.js';
import { sendProject } from './helpers/send-project.js';

/** CSV lists as spreadsheets and mailing tools export them: capitalised headers, `;` or tabs, short rows. */

async function read(content: string, options: ListOptions = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-csv-'));
  await writeFile(path.join(dir, 'list.csv'), content);
  const list = await openList('list.csv', dir, options);
  const rows: ListEntry[] = [];
  for await (const entry of list.entries()) rows.push(entry);
  return { list, rows };
}

const recipients = (rows: ListEntry[]) => rows.map((r) => (r.kind === 'recipient' ? r.recipient : { invalid: r.reason }));

describe('CSV subscriber lists', () => {
  it('finds the email column whatever its case (`Email`, `EMAIL`, `E-mail`), and names it `email`', async () => {
    for (const header of ['Email', 'EMAIL', 'E-mail']) {
      const { list, rows } = await read(`Name,${header}\nAnn,ann@example.com\n`);
      expect(list.columns).toEqual(['Name', 'email']);
      expect(recipients(rows)).toEqual([{ Name: 'Ann', email: 'ann@example.com' }]);
    }
  });

  it('detects `;` and tab separators from the header row; quoted separators do not count', async () => {
    const semicolon = await read('email;name;"city, region"\nann@example.com;Ann;"Bristol, UK"\nbob@example.com;"Bob; Jr";Leeds\n');
    expect(semicolon.list.delimiter).toBe(';');
    expect(recipients(semicolon.rows)).toEqual([
      { email: 'ann@example.com', name: 'Ann', 'city, region': 'Bristol, UK' },
      { email: 'bob@example.com', name: 'Bob; Jr', 'city, region': 'Leeds' },
    ]);
    const tab = await read('\ufeffemail\tname\nann@example.com\tAnn, the first\n');
    expect(tab.list.delimiter).toBe('\t');
    expect(recipients(tab.rows)).toEqual([{ email: 'ann@example.com', name: 'Ann, the first' }]);
    expect(detectDelimiter('email,name')).toBe(',');
    expect(detectDelimiter('"a;b;c",email')).toBe(',');
    expect(detectDelimiter('email')).toBe(',');
  });

  it('--delimiter overrides the detection', async () => {
    const { list, rows } = await read('email;name,with comma\nann@example.com;Ann\n', { delimiter: ';' });
    expect(list.columns).toEqual(['email', 'name,with comma']);
    expect(recipients(rows)).toEqual([{ email: 'ann@example.com', 'name,with comma': 'Ann' }]);
    expect(parseDelimiter('tab')).toBe('\t');
    expect(parseDelimiter('semicolon')).toBe(';');
    expect(() => parseDelimiter('|')).toThrow(NewsletterError);
  });

  it('a header read as one column says to try --delimiter', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-csv-'));
    await writeFile(path.join(dir, 'list.csv'), 'mail|name\nann@example.com|Ann\n');
    const forced = await openList('list.csv', dir, { delimiter: ';' }).catch((e: unknown) => e);
    expect(forced).toMatchObject({ code: 'LIST_INVALID', line: 1 });
    await writeFile(path.join(dir, 'list.csv'), 'email,name\nann@example.com,Ann\n');
    const wrong = (await openList('list.csv', dir, { delimiter: ';' }).catch((e: unknown) => e)) as NewsletterError;
    expect(wrong.message).toBe('the list has no `email` column (columns: `email,name`)');
    expect(wrong.hint).toMatch(/--delimiter/);
  });

  it('missing trailing fields are empty values, marked; extra fields are still an invalid row', async () => {
    const { rows } = await read('email,name,city\nann@example.com,Ann\nbob@example.com\ncat@example.com,Cat,York,extra\n');
    expect(rows[0]).toEqual({ kind: 'recipient', line: 2, recipient: { email: 'ann@example.com', name: 'Ann', city: '' }, padded: 1 });
    expect(rows[1]).toEqual({ kind: 'recipient', line: 3, recipient: { email: 'bob@example.com', name: '', city: '' }, padded: 2 });
    expect(rows[2]).toMatchObject({ kind: 'invalid', line: 4, reason: 'expected 3 fields, found 4' });
  });

  it('send --dry-run over a semicolon list with an `Email` header and short rows: all sendable, the short rows counted', async () => {
    const project = await sendProject();
    await writeFile(path.join(project.dir, 'europe.csv'), 'Email;name;city\nann@example.com;Ann;Bristol\nbob@example.com;Bob\ncat@example.com\n');
    const run = await project.run(['weekly-1', '--list', 'europe.csv', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/europe\.csv: 3 rows → 3 to send \(0 invalid/);
    expect(run.stdout).toMatch(/^ +2 of them with trailing fields left out, read as empty values$/m);
    const forced = await project.run(['weekly-1', '--list', 'europe.csv', '--dry-run', '--delimiter', ',']);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/^europe\.csv:1: the list has no `email` column/);
  });
});
