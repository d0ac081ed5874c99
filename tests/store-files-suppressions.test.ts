import { appendFile, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
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

describe('the files suppression store with other writers (several `serve` processes)', () => {
  it('reads only what the others appended, never the whole file again, and sees all of it', async () => {
    const file = await fresh();
    const ours = new FileSuppressionStore(file);
    const theirs = new FileSuppressionStore(file);
    await theirs.add('first@example.com', entry);
    expect(await ours.has('first@example.com')).toBe(true);
    const fullReads = vi.spyOn(ours as unknown as { read(): Promise<unknown> }, 'read');
    for (let i = 0; i < 50; i++) {
      await theirs.add(`theirs${i}@example.com`, entry);
      await ours.add(`ours${i}@example.com`, entry);
    }
    await theirs.remove('theirs7@example.com');
    expect(await ours.has('theirs49@example.com')).toBe(true);
    expect(await ours.has('theirs7@example.com')).toBe(false);
    expect(await ours.remove('ours3@example.com')).toBe(true);
    expect(await theirs.has('ours3@example.com')).toBe(false);
    expect(fullReads).not.toHaveBeenCalled();
    const inFile: string[] = [];
    for await (const email of ours.iterate()) inFile.push(email);
    expect(inFile).toHaveLength(1 + 50 + 50 - 2);
    for (const email of inFile) expect(await ours.has(email), email).toBe(true);
    expect(fullReads).not.toHaveBeenCalled();
  });

  it('reads the whole file again after a hand edit that is not an append', async () => {
    const file = await fresh();
    const store = new FileSuppressionStore(file);
    await store.add('ann@example.com', entry);
    await store.add('bob@example.com', entry);
    // The same length, in place: only the mtime tells.
    const text = await readFile(file, 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(file, text.replace('bob@example.com', 'cat@example.com'));
    expect(await store.has('bob@example.com')).toBe(false);
    expect(await store.has('cat@example.com')).toBe(true);
    // Shorter (a line deleted by hand).
    await writeFile(file, 'cat@example.com\n');
    expect(await store.has('ann@example.com')).toBe(false);
    // Another file in its place, longer than before.
    const replacement = `${file}.new`;
    await writeFile(replacement, 'dan@example.com\neve@example.com\nfay@example.com\n');
    await rename(replacement, file);
    expect(await store.has('cat@example.com')).toBe(false);
    expect(await store.has('fay@example.com')).toBe(true);
  });

  it('takes in a hand-appended line without a newline once it stays so, and the line once finished', async () => {
    const file = await fresh();
    const store = new FileSuppressionStore(file);
    await store.add('ann@example.com', entry);
    await appendFile(file, 'bob@example.co');
    // At first it may be another process's write, seen half done.
    expect(await store.has('bob@example.co')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await store.has('bob@example.co')).toBe(true);
    await appendFile(file, 'm\n');
    expect(await store.has('bob@example.com')).toBe(true);
    expect(await store.has('bob@example.co')).toBe(false);
  });

  it('sees an edit in place that makes the file longer (an editor saving, cp over it)', async () => {
    const file = await fresh();
    const store = new FileSuppressionStore(file);
    await store.add('ann@example.com', entry);
    await store.add('bob@example.com', entry);
    expect(await store.has('ann@example.com')).toBe(true);
    const text = await readFile(file, 'utf8');
    // Same inode, truncated and rewritten: a line on top, ann commented out.
    await writeFile(file, `zed@example.com\n${text.replace('\nann@example.com\n', '\n# ann@example.com\n')}`);
    expect(await store.has('zed@example.com')).toBe(true);
    expect(await store.has('ann@example.com')).toBe(false);
    expect(await store.has('bob@example.com')).toBe(true);
  });

  it('sees a file emptied and then appended to past its old length by someone else', async () => {
    const file = await fresh();
    const ours = new FileSuppressionStore(file);
    await ours.add('old@example.com', entry);
    expect(await ours.has('old@example.com')).toBe(true);
    await writeFile(file, '');
    const theirs = new FileSuppressionStore(file);
    for (let i = 0; i < 5; i++) await theirs.add(`n${i}@example.com`, entry);
    expect(await ours.has('old@example.com')).toBe(false);
    expect(await ours.has('n0@example.com')).toBe(true);
    await ours.add('mine@example.com', entry);
    expect(await theirs.has('mine@example.com')).toBe(true);
    expect(await theirs.has('old@example.com')).toBe(false);
  });
});
