import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSuppressionStore } from '../src/store/files/suppressions.js';

/** suppressions.txt as `serve` appends to it: group commits, hand edits, other writers. */

const entry = { reason: 'unsubscribed', source: 'test' };
const addresses = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));

async function fresh(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'newsletter-suppressions-')), 'lists', 'suppressions.txt');
}

describe('the files suppression store', () => {
  it('creates the folder and file on the first add', async () => {
    const file = await fresh();
    expect(await new FileSuppressionStore(file).add('ann@example.com', entry)).toBe(true);
    expect(await addresses(file)).toEqual(['ann@example.com']);
  });

  it('never joins its line to a hand-edited last line without a newline', async () => {
    const file = await fresh();
    const store = new FileSuppressionStore(file);
    await store.add('ann@example.com', entry);
    await appendFile(file, 'bob@example.com');
    await store.add('cleo@example.com', entry);
    expect(await addresses(file)).toEqual(['ann@example.com', 'bob@example.com', 'cleo@example.com']);
    expect(await store.has('bob@example.com')).toBe(true);
  });

  it('sees what another writer appended between its own writes', async () => {
    const file = await fresh();
    const ours = new FileSuppressionStore(file);
    const theirs = new FileSuppressionStore(file);
    await ours.add('ann@example.com', entry);
    await theirs.add('bob@example.com', entry);
    await ours.add('cleo@example.com', entry);
    for (const email of ['ann@example.com', 'bob@example.com', 'cleo@example.com']) expect(await ours.has(email), email).toBe(true);
    expect(await ours.remove('bob@example.com')).toBe(true);
    expect(await theirs.has('bob@example.com')).toBe(false);
  });

  it('writes 300 concurrent adds once each, and one of two adds of the same address', async () => {
    const file = await fresh();
    const store = new FileSuppressionStore(file);
    const emails = Array.from({ length: 300 }, (_, i) => `reader${i}@example.com`);
    const results = await Promise.all([...emails, 'reader7@example.com'].map((email) => store.add(email, entry)));
    expect(results.filter((added) => added)).toHaveLength(300);
    expect((await addresses(file)).sort()).toEqual([...emails].sort());
  });
});
