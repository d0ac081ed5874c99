import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NewsletterError } from '../src/errors.js';
import { AddressSet } from '../src/send/hash-set.js';
import { readJsonItems } from '../src/send/json-list.js';
import { openList, type ListEntry } from '../src/send/recipients.js';
import { backoffDelay, classifyFailure } from '../src/send/retry.js';

async function tempFile(name: string, content: string | Buffer): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-list-'));
  await writeFile(path.join(dir, name), content);
  return { dir, file: path.join(dir, name) };
}

async function entries(name: string, content: string | Buffer): Promise<ListEntry[]> {
  const { dir } = await tempFile(name, content);
  const list = await openList(name, dir);
  const out: ListEntry[] = [];
  for await (const entry of list.entries()) out.push(entry);
  return out;
}

describe('subscriber lists', () => {
  it('numbers CSV rows by the line they start on, across quoted line breaks (LF and CRLF), BOM and blank lines', async () => {
    const csv = Buffer.from('\ufeffemail,name\r\na@example.com,"two\r\nlines"\r\n\r\nb@example.com,ok\r\n"c@example.com","x\ny\nz"\nd@example.com,last', 'utf8');
    const rows = await entries('list.csv', csv);
    expect(rows.map((r) => [r.line, r.kind === 'recipient' ? r.recipient.email : r.email])).toEqual([
      [2, 'a@example.com'],
      [5, 'b@example.com'],
      [6, 'c@example.com'],
      [9, 'd@example.com'],
    ]);
    expect(rows[0]).toMatchObject({ kind: 'recipient', recipient: { name: 'two\r\nlines' } });
  });

  it('requires an email column and names the file and line', async () => {
    const { dir } = await tempFile('bad.csv', 'mail,name\nx@example.com,y\n');
    const error = (await openList('bad.csv', dir).catch((e: unknown) => e)) as NewsletterError;
    expect(error.code).toBe('LIST_INVALID');
    expect(error.location).toBe('bad.csv:1');
    expect(error.message).toContain('no `email` column');
  });

  it('streams JSON arrays whose entries cross read chunks, with strings holding braces and escapes', async () => {
    const items = Array.from({ length: 6000 }, (_, i) => JSON.stringify({ email: `u${i}@example.com`, note: `} ] { [ \\" "quoted" ${'x'.repeat(i % 50)}` }));
    const { file } = await tempFile('big.json', `[\n${items.join(',\n')}\n]\n`);
    let count = 0;
    for await (const batch of readJsonItems(file)) for (const item of batch) {
      expect(item.error).toBeUndefined();
      expect((item.value as { email: string }).email).toBe(`u${count}@example.com`);
      expect(item.line).toBe(count + 2);
      count++;
    }
    expect(count).toBe(6000);
  });

  it('reports a JSON entry that is not valid, and a list that never closes', async () => {
    const rows = await entries('list.json', '[\n{"email": "a@example.com"},\n{"email": bad},\n{"email": "c@example.com"}\n');
    expect(rows.map((r) => [r.kind, r.line])).toEqual([
      ['recipient', 2],
      ['invalid', 3],
      ['recipient', 4],
      ['invalid', 5],
    ]);
    expect((rows[3] as { reason: string }).reason).toContain('closing `]`');
  });
});

describe('AddressSet', () => {
  it('dedupes case-insensitively after trimming, and grows', () => {
    const set = new AddressSet(4);
    for (let i = 0; i < 5000; i++) expect(set.add(`User${i}@Example.com`)).toBe(true);
    expect(set.add('  user42@example.COM ')).toBe(false);
    expect(set.has('user4999@example.com')).toBe(true);
    expect(set.has('user5000@example.com')).toBe(false);
    expect(set.size).toBe(5000);
  });
});

describe('failure classification', () => {
  it.each([
    [{ code: 'EENVELOPE', responseCode: 451, response: '451 4.7.1 later', command: 'RCPT TO' }, 'temporary', false],
    [{ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 unknown', command: 'RCPT TO' }, 'permanent', true],
    [{ code: 'EMESSAGE', responseCode: 554, response: '554 5.7.1 spam', command: 'DATA' }, 'permanent', false],
    [{ code: 'EMESSAGE', responseCode: 552, response: '552 5.2.2 mailbox full', command: 'DATA' }, 'permanent', true],
    [{ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'temporary', false],
    [{ code: 'ETIMEDOUT', message: 'Timeout' }, 'temporary', false],
    [{ code: 'EAUTH', responseCode: 535, response: '535 bad credentials' }, 'fatal', false],
  ])('%j → %s', (error, kind, bounce) => {
    expect(classifyFailure(error)).toMatchObject({ kind, bounce });
  });

  it('backs off exponentially, capped, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 1000, 5000, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(2000);
  });
});
