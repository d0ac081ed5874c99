import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSuppressionStore } from '../src/store/files/suppressions.js';
import { readSuppressionLine } from '../src/store/files/suppression-lines.js';
import { FIXTURES } from './helpers/cli.js';
import { sendProject } from './helpers/send-project.js';

/**
 * suppressions.txt as people write it (issue 19.6): every line suppresses the address it holds,
 * or is reported with its line; and every entry keeps why, who and when (issue 21.4).
 */

const HERE = path.join(FIXTURES, 'suppressions');

async function storeOf(fixture: string): Promise<{ store: FileSuppressionStore; file: string }> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'newsletter-suppressions-file-')), 'suppressions.txt');
  await copyFile(path.join(HERE, fixture), file);
  return { store: new FileSuppressionStore(file, 'suppressions.txt'), file };
}

describe('hand-written suppressions.txt', () => {
  it('suppresses the address of every line as people write it, and reports nothing', async () => {
    const { store } = await storeOf('hand-written.txt');
    const set = await store.load();
    for (const name of ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal']) expect(set.has(`${name}@example.com`), name).toBe(true);
    expect(set.size).toBe(8);
    expect(await store.problems()).toEqual([]);
    // A bare line is a manual suppression from the file; its comment is kept as the note.
    expect(await store.get('ann@example.com')).toEqual({ reason: 'manual', source: 'suppressions.txt', note: 'asked by phone' });
    expect(await store.get('dan@example.com')).toMatchObject({ reason: 'manual', source: 'suppressions.txt' });
  });

  it('reports each line that suppresses nothing with its line number and the text, and keeps the rest', async () => {
    const { store } = await storeOf('unreadable.txt');
    const problems = await store.problems();
    expect(problems.map((p) => [p.file, p.line])).toEqual([
      ['suppressions.txt', 2],
      ['suppressions.txt', 3],
      ['suppressions.txt', 4],
      ['suppressions.txt', 5],
    ]);
    expect(problems[0]!.message).toContain('`not an address at all`');
    expect(problems[2]!.message).toContain('unclosed');
    expect(await store.has('ann@example.com')).toBe(true);
    expect(await store.has('zoe@example.com')).toBe(true);
  });

  it('numbers a problem appended by hand after the store has read the file', async () => {
    const { store, file } = await storeOf('hand-written.txt');
    expect(await store.problems()).toEqual([]);
    const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
    await writeFile(file, 'Ivy <ivy@example.com\n', { flag: 'a' });
    expect((await store.problems()).map((p) => p.line)).toEqual([lines + 1]);
  });

  it('reads the lines older versions wrote into the same entries', async () => {
    const { store } = await storeOf('legacy.txt');
    expect(await store.get('old@example.com')).toBeNull();
    expect(await store.get('dead@example.com')).toEqual({
      reason: 'bounced',
      source: 'smtp-5xx',
      issue: 'weekly-1',
      status: '5.1.1',
      diagnostic: '550 5.1.1 user unknown',
      at: '2026-01-06T10:00:00.000Z',
    });
  });

  it('writes each change with its entry, and an address any line would misread so that it reads back as itself', async () => {
    const { store, file } = await storeOf('hand-written.txt');
    const entry = { reason: 'complained', source: 'ses', issue: 'weekly-2', diagnostic: 'abuse report', at: '2026-12-01T08:00:00.000Z' };
    expect(await store.add('Zed@Example.com', entry)).toBe(true);
    expect(await store.add('"odd # one"@example.com', { reason: 'unsubscribed', source: 'serve' })).toBe(true);
    const again = new FileSuppressionStore(file);
    expect(await again.get('zed@example.com')).toEqual(entry);
    expect(await again.has('"odd # one"@example.com')).toBe(true);
    expect(await again.problems()).toEqual([]);
    expect(await again.remove('zed@example.com', 'serve')).toBe(true);
    expect(await new FileSuppressionStore(file).get('zed@example.com')).toBeNull();
  });

  it('reads one line the same way whatever else is on it', () => {
    expect(readSuppressionLine('-Ann@Example.com # resubscribed by phone')).toEqual({ kind: 'change', op: 'remove', emails: ['ann@example.com'], note: 'resubscribed by phone' });
    expect(readSuppressionLine('ann@example.com, bob@example.com')).toEqual({ kind: 'change', op: 'add', emails: ['ann@example.com', 'bob@example.com'], note: null });
    expect(readSuppressionLine('"Ann A" <ann@example.com>, Bob <bob@example.com>;')).toMatchObject({ kind: 'change', emails: ['ann@example.com', 'bob@example.com'] });
    expect(readSuppressionLine('a#b@example.com')).toMatchObject({ kind: 'problem' });
    expect(readSuppressionLine('MAILTO:Ann%40example.com?subject=stop')).toMatchObject({ kind: 'change', emails: ['ann@example.com'] });
  });
});

describe('send with an unreadable suppression line', () => {
  it('stops before sending anything, naming the file and line', async () => {
    const project = await sendProject();
    await copyFile(path.join(HERE, 'unreadable.txt'), path.join(project.dir, 'suppressions.txt'));
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/suppressions\.txt:2\b.*`not an address at all`/);
    expect(run.stderr).toContain('suppressions.txt:5');
    const written = await readdir(path.join(project.dir, 'outbox')).catch(() => []);
    expect(written).toEqual([]);
  });

  it('skips every hand-written address and sends to the others', async () => {
    const project = await sendProject();
    await writeFile(path.join(project.dir, 'subscribers.csv'), 'email,name,city\nann@example.com,Ann,Bristol\ndan@example.com,Dan,York\nhal@example.com,Hal,Leeds\nnew@example.com,New,Hull\n');
    await copyFile(path.join(HERE, 'hand-written.txt'), path.join(project.dir, 'suppressions.txt'));
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const records = await project.journal();
    const byStatus = (status: string) => records.filter((r) => r.status === status).map((r) => r.email);
    expect(byStatus('skipped-suppressed')).toEqual(['ann@example.com', 'dan@example.com', 'hal@example.com']);
    expect(byStatus('accepted')).toEqual(['new@example.com']);
  });
});
