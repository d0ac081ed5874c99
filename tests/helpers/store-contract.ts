import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.js';
import type { JournalRecord } from '../../src/send/journal.js';
import type { ConsentRecord, Destination, JournalKey, Store } from '../../src/store/types.js';

/**
 * The store contract: the same cases for every backend (files here, Redis in its own test file).
 * `open` gives a store on fresh, empty state; calling it again with the same `state` gives a
 * second store on the SAME state (another process, or the same one after a restart).
 * `makeStale` leaves a lock for `key` whose holder is gone (a crashed send).
 */

export interface StoreHarness {
  /** A fresh state name per test; stores opened with the same name share their state. */
  open(state: string): Promise<Store>;
  /**
   * The store as `send` and `serve` open it for a project whose suppression list is `file`
   * (files: that file; Redis: the shared store, which imports the file first). Every call is
   * another run of `send` or `serve` on the same state.
   */
  openProject(state: string, file: string): Promise<Store>;
  makeStale(state: string, key: JournalKey): Promise<void>;
  /** Everything the state holds, as text (every file's bytes; every key and value): erasure must leave nothing. */
  dump(state: string): Promise<string>;
}

const SMTP: Destination = { kind: 'smtp', id: 'smtp://user@mail.example.com:587' };
const OUTBOX: Destination = { kind: 'outbox', id: 'outbox/weekly-1' };

let counter = 0;
const fresh = () => `state-${process.pid}-${++counter}-${Date.now()}`;

function accepted(email: string, line: number, destination: Destination['kind']): JournalRecord {
  return { status: 'accepted', email, line, at: new Date().toISOString(), destination, messageId: `<${line}@example.com>`, response: '250 ok', attempts: 1 };
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const value of iterable) all.push(value);
  return all.sort();
}

function consent(email: string, extra: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    email,
    fields: { name: 'Ann Example' },
    signedUpAt: '2026-03-01T10:00:00.000Z',
    confirmedAt: '2026-03-01T10:05:00.000Z',
    page: 'https://news.example.com/issues/weekly-1/',
    consentText: 'I agree to receive The Northern Dispatch.',
    ip: '203.0.113.0/24',
    source: 'form',
    ...extra,
  };
}

async function* batches(records: ConsentRecord[], size = 2): AsyncIterable<ConsentRecord[]> {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
}

export function runStoreContract(name: string, harness: StoreHarness): void {
  const key: JournalKey = { listId: 'list.example.com', issueSlug: 'weekly-1' };

  describe(`store contract: ${name}`, () => {
    describe('subscribers', () => {
      it('put keeps the proof of consent; a second consent renews and keeps the first in the history', async () => {
        const state = fresh();
        const store = await harness.open(state);
        try {
          expect(await store.subscribers.get('ann@example.com')).toBeNull();
          expect(await store.subscribers.put(consent('Ann@Example.com'))).toBe('added');
          const again = await harness.open(state);
          try {
            const first = await again.subscribers.get('ANN@example.com');
            expect(first).toEqual({ ...consent('ann@example.com'), history: [] });
          } finally {
            await again.close();
          }
          expect(await store.subscribers.put(consent('ann@example.com', { confirmedAt: '2026-05-01T00:00:00.000Z', fields: {} }))).toBe('renewed');
          const renewed = await store.subscribers.get('ann@example.com');
          expect(renewed?.confirmedAt).toBe('2026-05-01T00:00:00.000Z');
          expect(renewed?.fields).toEqual({});
          const { email: _email, ...firstConsent } = consent('ann@example.com');
          expect(renewed?.history).toEqual([firstConsent]);
        } finally {
          await store.close();
        }
      });

      it('addMissing adds only addresses not there; iterate sees each subscriber once; remove removes', async () => {
        const store = await harness.open(fresh());
        try {
          await store.subscribers.put(consent('ann@example.com'));
          const result = await store.subscribers.addMissing(batches([consent('ANN@example.com', { source: 'import:mailchimp' }), consent('bob@example.com', { source: 'import:mailchimp', confirmedAt: null }), consent('cy@example.com', { source: 'import:substack' }), consent('bob@example.com', { source: 'import:substack' })]));
          expect(result).toEqual({ added: 2, present: 2 });
          const all: Record<string, string> = {};
          for await (const subscriber of store.subscribers.iterate()) {
            expect(all[subscriber.email]).toBeUndefined();
            all[subscriber.email] = subscriber.source;
          }
          expect(all).toEqual({ 'ann@example.com': 'form', 'bob@example.com': 'import:mailchimp', 'cy@example.com': 'import:substack' });
          expect(await store.subscribers.remove('BOB@example.com')).toBe(true);
          expect(await store.subscribers.remove('bob@example.com')).toBe(false);
          expect(await store.subscribers.get('bob@example.com')).toBeNull();
        } finally {
          await store.close();
        }
      });

      it('a store sees what another store on the same state added, renewed and erased since it last looked', async () => {
        const state = fresh();
        const [a, b] = await Promise.all([harness.open(state), harness.open(state)]);
        try {
          await b.subscribers.put(consent('old@example.com'));
          expect(await a.subscribers.get('new@example.com')).toBeNull();
          expect(await a.subscribers.get('old@example.com')).not.toBeNull();
          await b.subscribers.put(consent('new@example.com'));
          expect((await a.subscribers.get('new@example.com'))?.email).toBe('new@example.com');
          expect(await a.subscribers.put(consent('new@example.com', { source: 'cli' }))).toBe('renewed');
          await b.erase('new@example.com');
          expect(await a.subscribers.get('new@example.com')).toBeNull();
          expect(await a.subscribers.put(consent('new@example.com'))).toBe('added');
          expect(await b.subscribers.get('old@example.com')).not.toBeNull();
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      });

      it('concurrent puts of different addresses all land', async () => {
        const state = fresh();
        const stores = await Promise.all([harness.open(state), harness.open(state)]);
        try {
          await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.subscribers.put(consent(`p${i}@example.com`))));
          let count = 0;
          for await (const _ of stores[0]!.subscribers.iterate()) count++;
          expect(count).toBe(40);
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      });

      it('erase leaves no trace of the address in the state, keeps it suppressed, and touches no one else', async () => {
        const state = fresh();
        const store = await harness.open(state);
        try {
          await store.subscribers.put(consent('ann@example.com'));
          await store.subscribers.put(consent('ann@example.com', { source: 'cli' }));
          await store.subscribers.put(consent('bob@example.com'));
          await store.subscribers.put(consent('xann@example.com'));
          await store.suppressions.add('ann@example.com', { reason: 'unsubscribed', source: 'serve' });
          await store.suppressions.add('eve@example.com', { reason: 'unsubscribed', source: 'serve' });
          const journal = await store.journal(key);
          await journal.append(accepted('ann@example.com', 2, 'smtp'));
          await journal.append(accepted('bob@example.com', 3, 'smtp'));
          await journal.close();
          expect((await harness.dump(state)).toLowerCase()).toContain('ann@example.com');

          expect(await store.erase('Ann@Example.com')).toBe(true);
          const dump = (await harness.dump(state)).toLowerCase();
          expect(dump.match(/(?<![a-z0-9._%+-])ann@example\.com/g)).toBeNull();
          expect(dump).toContain('bob@example.com');
          expect(dump).toContain('xann@example.com');
          expect(await store.subscribers.get('ann@example.com')).toBeNull();
          expect(await store.subscribers.get('bob@example.com')).not.toBeNull();
          expect(await store.subscribers.get('xann@example.com')).not.toBeNull();
          // Still suppressed, for a send's filter too, while no one else is.
          const again = await harness.open(state);
          try {
            expect(await again.suppressions.has('ANN@example.com')).toBe(true);
            const set = await again.suppressions.load();
            expect(set.has('ann@example.com')).toBe(true);
            expect(set.has('eve@example.com')).toBe(true);
            expect(set.has('bob@example.com')).toBe(false);
            expect(set.has('xann@example.com')).toBe(false);
            expect((await again.journal(key).then((j) => j.read(SMTP))).accepted.has('bob@example.com')).toBe(true);
          } finally {
            await again.close();
          }
        } finally {
          await store.close();
        }
      });
    });

    describe('rate limits', () => {
      it('take allows max events per window, counted across stores on the same state when shared', async () => {
        const store = await harness.open(fresh());
        try {
          const answers = [];
          for (let i = 0; i < 5; i++) answers.push(await store.limits.take('ip:203.0.113.0', 3, 60_000));
          expect(answers).toEqual([true, true, true, false, false]);
          expect(await store.limits.take('ip:198.51.100.0', 3, 60_000)).toBe(true);
          expect(await store.limits.take('short', 1, 50)).toBe(true);
          expect(await store.limits.take('short', 1, 50)).toBe(false);
          await new Promise((resolve) => setTimeout(resolve, 120));
          expect(await store.limits.take('short', 1, 50)).toBe(true);
        } finally {
          await store.close();
        }
      });

      it('give hands back one event of an open window, never more than were taken, and nothing of an expired one', async () => {
        const store = await harness.open(fresh());
        try {
          expect(await store.limits.take('mail:a', 1, 60_000)).toBe(true);
          expect(await store.limits.take('mail:a', 1, 60_000)).toBe(false);
          await store.limits.give('mail:a');
          expect(await store.limits.take('mail:a', 1, 60_000)).toBe(true);
          expect(await store.limits.take('mail:a', 1, 60_000)).toBe(false);
          // Given back twice after one take: the window holds 0, not -1 (one more take is allowed, not two).
          expect(await store.limits.take('mail:b', 1, 60_000)).toBe(true);
          await store.limits.give('mail:b');
          await store.limits.give('mail:b');
          expect(await store.limits.take('mail:b', 1, 60_000)).toBe(true);
          expect(await store.limits.take('mail:b', 1, 60_000)).toBe(false);
          // A key never taken, or whose window ended, stays absent: the next take opens a fresh window.
          await store.limits.give('mail:never');
          expect(await store.limits.take('mail:never', 1, 60_000)).toBe(true);
          expect(await store.limits.take('mail:c', 1, 50)).toBe(true);
          await new Promise((resolve) => setTimeout(resolve, 120));
          await store.limits.give('mail:c');
          expect(await store.limits.take('mail:c', 1, 50)).toBe(true);
          expect(await store.limits.take('mail:c', 1, 50)).toBe(false);
        } finally {
          await store.close();
        }
      });
    });

    describe('suppressions', () => {
      it('add, has, remove are idempotent and compare normalized addresses', async () => {
        const store = await harness.open(fresh());
        try {
          const s = store.suppressions;
          expect(await s.has('Ana@Example.com')).toBe(false);
          expect(await s.add('Ana@Example.com', { reason: 'unsubscribed', source: 'serve' })).toBe(true);
          expect(await s.add(' ana@example.com ', { reason: 'unsubscribed', source: 'serve' })).toBe(false);
          expect(await s.has('ANA@example.com')).toBe(true);
          expect(await s.has('bob@example.com')).toBe(false);
          expect(await s.remove('ana@EXAMPLE.com')).toBe(true);
          expect(await s.remove('ana@example.com')).toBe(false);
          expect(await s.has('ana@example.com')).toBe(false);
          expect(await s.add('ana@example.com', { reason: 'bounced: 550 no such user', source: 'weekly-1' })).toBe(true);
          expect(await s.has('ana@example.com')).toBe(true);
        } finally {
          await store.close();
        }
      });

      it('load and iterate see every address once, after removals', async () => {
        const store = await harness.open(fresh());
        try {
          const s = store.suppressions;
          for (const email of ['a@example.com', 'b@example.com', 'c@example.com', '-dash@example.com']) await s.add(email, { reason: 'imported', source: 'test' });
          await s.remove('b@example.com');
          await s.add('A@example.com', { reason: 'imported', source: 'test' });
          const set = await s.load();
          expect(set.size).toBe(3);
          expect(set.has('a@example.com') && set.has('c@example.com') && set.has('-dash@example.com')).toBe(true);
          expect(set.has('b@example.com')).toBe(false);
          expect(await collect(s.iterate())).toEqual(['-dash@example.com', 'a@example.com', 'c@example.com']);
        } finally {
          await store.close();
        }
      });

      it('concurrent adds of one address report true exactly once', async () => {
        const store = await harness.open(fresh());
        try {
          const results = await Promise.all(Array.from({ length: 8 }, () => store.suppressions.add('same@example.com', { reason: 'unsubscribed', source: 'serve' })));
          expect(results.filter(Boolean)).toHaveLength(1);
        } finally {
          await store.close();
        }
      });

      it('keeps each entry (reason, source, issue, status, diagnostic, time) and reads it back while the address is suppressed', async () => {
        const state = fresh();
        const store = await harness.open(state);
        try {
          const s = store.suppressions;
          const bounce = { reason: 'bounced', source: 'imap', issue: 'weekly-1', status: '5.1.1', diagnostic: '550 5.1.1 <ann@example.com>: user unknown' };
          expect(await s.add('Ann@Example.com', bounce)).toBe(true);
          expect(await s.add('cleo@example.com', { reason: 'complained', source: 'ses', issue: 'weekly-1' })).toBe(true);
          // Older writers' words are read as the agreed ones.
          expect(await s.add('dan@example.com', { reason: 'bounced: 550 5.2.1 mailbox disabled', source: 'weekly-2' })).toBe(true);
          // The first entry stays: a second add changes nothing.
          expect(await s.add('ann@example.com', { reason: 'unsubscribed', source: 'serve' })).toBe(false);
          const again = await harness.open(state);
          try {
            const ann = await again.suppressions.get('ANN@example.com');
            expect(ann).toMatchObject(bounce);
            expect(Date.parse(ann!.at!)).toBeGreaterThan(Date.now() - 60_000);
            expect(await again.suppressions.get('cleo@example.com')).toMatchObject({ reason: 'complained', source: 'ses', issue: 'weekly-1' });
            expect(await again.suppressions.get('dan@example.com')).toMatchObject({ reason: 'bounced', source: 'smtp-5xx', issue: 'weekly-2', status: '5.2.1', diagnostic: '550 5.2.1 mailbox disabled' });
            expect(await again.suppressions.get('nobody@example.com')).toBeNull();
            const listed = new Map<string, string>();
            for await (const { email, entry } of again.suppressions.entries()) listed.set(email, entry.reason);
            expect(Object.fromEntries(listed)).toEqual({ 'ann@example.com': 'bounced', 'cleo@example.com': 'complained', 'dan@example.com': 'bounced' });
            expect(await again.suppressions.remove('cleo@example.com', 'serve')).toBe(true);
            expect(await again.suppressions.get('cleo@example.com')).toBeNull();
          } finally {
            await again.close();
          }
        } finally {
          await store.close();
        }
      });

      it('one source of truth: a resubscribe, and a later unsubscribe, win over older lines of suppressions.txt', async () => {
        const state = fresh();
        const file = path.join(await mkdtemp(path.join(tmpdir(), 'newsletter-contract-file-')), 'suppressions.txt');
        await writeFile(file, 'ann@example.com\nbob@example.com # asked by phone\n');
        const run = async <T>(what: (store: Store) => Promise<T>): Promise<T> => {
          const store = await harness.openProject(state, file);
          try {
            return await what(store);
          } finally {
            await store.close();
          }
        };
        // The first send: both lines suppress, as hand edits always did.
        expect(await run((s) => s.suppressions.has('ann@example.com'))).toBe(true);
        expect(await run((s) => s.suppressions.get('bob@example.com'))).toMatchObject({ reason: 'manual', source: 'suppressions.txt', note: 'asked by phone' });
        // Ann resubscribes through serve.
        expect(await run((s) => s.suppressions.remove('ann@example.com', 'serve'))).toBe(true);
        // The next send (and the one after) must not suppress her again from the old line.
        expect(await run((s) => s.suppressions.has('ann@example.com'))).toBe(false);
        expect(await run(async (s) => (await s.suppressions.load()).has('ann@example.com'))).toBe(false);
        // She unsubscribes again, then resubscribes again: each time the latest change holds.
        expect(await run((s) => s.suppressions.add('ann@example.com', { reason: 'unsubscribed', source: 'serve' }))).toBe(true);
        expect(await run((s) => s.suppressions.get('ann@example.com'))).toMatchObject({ reason: 'unsubscribed', source: 'serve' });
        expect(await run((s) => s.suppressions.remove('ann@example.com', 'serve'))).toBe(true);
        expect(await run((s) => s.suppressions.has('ann@example.com'))).toBe(false);
        // A line written into the file after that is a new change: it suppresses her.
        await appendFile(file, 'ann@example.com # called again\n');
        expect(await run((s) => s.suppressions.get('ann@example.com'))).toMatchObject({ reason: 'manual', note: 'called again' });
        expect(await run((s) => s.suppressions.has('bob@example.com'))).toBe(true);
      });

      it('changes are durable: a second store on the same state sees them', async () => {
        const state = fresh();
        const first = await harness.open(state);
        await first.suppressions.add('gone@example.com', { reason: 'unsubscribed', source: 'serve' });
        await first.suppressions.add('back@example.com', { reason: 'unsubscribed', source: 'serve' });
        await first.suppressions.remove('back@example.com');
        await first.close();
        const second = await harness.open(state);
        try {
          expect(await second.suppressions.has('gone@example.com')).toBe(true);
          expect(await second.suppressions.has('back@example.com')).toBe(false);
          // A change through one store is seen by another one already open (another process).
          const third = await harness.open(state);
          await third.suppressions.add('late@example.com', { reason: 'unsubscribed', source: 'serve' });
          await third.close();
          expect(await second.suppressions.has('late@example.com')).toBe(true);
        } finally {
          await second.close();
        }
      });
    });

    describe('journal', () => {
      it('an empty journal has nothing accepted', async () => {
        const store = await harness.open(fresh());
        try {
          const journal = await store.journal(key);
          const state = await journal.read(SMTP);
          expect(state.accepted.size).toBe(0);
          expect(state.outboxCopies).toBe(0);
          expect(state.tornTail).toBe(false);
          await journal.close();
        } finally {
          await store.close();
        }
      });

      it('appended records are read back per destination kind, and survive a reopen', async () => {
        const state = fresh();
        const store = await harness.open(state);
        const journal = await store.journal(key);
        await journal.append({ status: 'run', at: new Date().toISOString(), pid: process.pid, transport: 'outbox (outbox/weekly-1/)', list: 'list.csv', destination: OUTBOX });
        await Promise.all([accepted('a@example.com', 2, 'outbox'), accepted('b@example.com', 3, 'outbox')].map((r) => journal.append(r)));
        await journal.append({ status: 'run', at: new Date().toISOString(), pid: process.pid, transport: SMTP.id, list: 'list.csv', destination: SMTP });
        await journal.append(accepted('A@example.com', 2, 'smtp'));
        await journal.append({ status: 'failed-permanent', email: 'c@example.com', line: 4, at: new Date().toISOString(), destination: 'smtp', reason: '550 no such user', attempts: 1 });
        await journal.close();
        await store.close();

        const again = await harness.open(state);
        try {
          const reopened = await again.journal(key);
          const smtp = await reopened.read(SMTP);
          expect(smtp.accepted.size).toBe(1);
          expect(smtp.accepted.has('a@example.com')).toBe(true);
          expect(smtp.accepted.has('c@example.com')).toBe(false);
          expect(smtp.outboxCopies).toBe(2);
          const outbox = await reopened.read(OUTBOX);
          expect(outbox.accepted.size).toBe(2);
          expect(outbox.accepted.has('b@example.com')).toBe(true);
          // Another issue has its own journal.
          const other = await again.journal({ ...key, issueSlug: 'weekly-2' });
          expect((await other.read(SMTP)).accepted.size).toBe(0);
          await other.close();
          await reopened.close();
        } finally {
          await again.close();
        }
      });

      it('many concurrent appends all land', async () => {
        const state = fresh();
        const store = await harness.open(state);
        const journal = await store.journal(key);
        await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append(accepted(`r${i}@example.com`, i + 2, 'smtp'))));
        await journal.close();
        const read = await (await store.journal(key)).read(SMTP);
        expect(read.accepted.size).toBe(200);
        await store.close();
      });

      it('restart keeps the old journal as a backup and starts empty', async () => {
        const store = await harness.open(fresh());
        try {
          const journal = await store.journal(key);
          await journal.append(accepted('a@example.com', 2, 'smtp'));
          expect(journal.restart).toBeTypeOf('function');
          const backup = await journal.restart!();
          expect(backup).toBeTruthy();
          const after = await store.journal(key);
          expect((await after.read(SMTP)).accepted.size).toBe(0);
          await after.close();
        } finally {
          await store.close();
        }
      });
    });

    describe('lock', () => {
      it('is exclusive: a second taker gets SEND_LOCKED until it is released', async () => {
        const state = fresh();
        const one = await harness.open(state);
        const two = await harness.open(state);
        try {
          const lock = await one.lock(key);
          expect(lock.takenOverFrom).toBeNull();
          const second = await two.lock(key).then(
            () => 'taken',
            (error: unknown) => (isNewsletterError(error) ? error.code : String(error)),
          );
          expect(second).toBe('SEND_LOCKED');
          // Another issue is not blocked.
          const other = await two.lock({ ...key, issueSlug: 'weekly-2' });
          await other.release();
          await lock.release();
          await lock.release();
          const next = await two.lock(key);
          await next.release();
        } finally {
          await one.close();
          await two.close();
        }
      });

      it('concurrent takers: exactly one wins', async () => {
        const state = fresh();
        const stores = await Promise.all(Array.from({ length: 4 }, () => harness.open(state)));
        try {
          const results = await Promise.allSettled(stores.map((s) => s.lock(key)));
          const won = results.filter((r) => r.status === 'fulfilled');
          expect(won).toHaveLength(1);
          for (const r of results) if (r.status === 'rejected') expect(isNewsletterError(r.reason) && r.reason.code).toBe('SEND_LOCKED');
          await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<Store['lock']>>>).value.release();
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      });

      it('a stale lock (its holder is gone) is taken over, and the taker is told from whom', async () => {
        const state = fresh();
        await harness.makeStale(state, key);
        const stores = await Promise.all(Array.from({ length: 3 }, () => harness.open(state)));
        try {
          const results = await Promise.allSettled(stores.map((s) => s.lock(key)));
          const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<Store['lock']>>> => r.status === 'fulfilled');
          expect(won).toHaveLength(1);
          expect(won[0]!.value.takenOverFrom).toBeTruthy();
          await won[0]!.value.release();
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      });
    });

    describe('bounces', () => {
      it('claims a report once, across stores on the same state, and again after its TTL', async () => {
        const state = fresh();
        const [a, b] = [await harness.open(state), await harness.open(state)];
        try {
          const results = await Promise.all([a, b, a, b].map((store) => store.bounces.claim('imap:report-1', 60_000)));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await a.bounces.claim('imap:report-2', 60_000)).toBe(true);
          expect(await a.bounces.claim('short-lived', 1)).toBe(true);
          await new Promise((resolve) => setTimeout(resolve, 30));
          expect(await b.bounces.claim('short-lived', 1)).toBe(true);
        } finally {
          await a.close();
          await b.close();
        }
      });

      it('counts soft bounces per distinct issue until a delivery starts the count over', async () => {
        const state = fresh();
        const [a, b] = [await harness.open(state), await harness.open(state)];
        try {
          expect(await a.bounces.softBounce('Dee@Example.com', 'weekly-1')).toHaveLength(1);
          // The same issue reported again (by another process) is still one issue.
          expect(await b.bounces.softBounce('dee@example.com', 'weekly-1')).toHaveLength(1);
          expect((await b.bounces.softBounce('dee@example.com', 'weekly-2')).sort()).toEqual(['weekly-1', 'weekly-2']);
          expect(await a.bounces.softBounce('other@example.com', 'weekly-2')).toHaveLength(1);
          await a.bounces.delivered('DEE@example.com');
          expect(await b.bounces.softBounce('dee@example.com', 'weekly-3')).toHaveLength(1);
          expect(await a.bounces.softBounce('dee@example.com', 'weekly-4')).toHaveLength(2);
          expect(await a.bounces.softBounce('dee@example.com', 'weekly-5')).toHaveLength(3);
        } finally {
          await a.close();
          await b.close();
        }
      });

      it('tallies each address once per issue and kind', async () => {
        const state = fresh();
        const [a, b] = [await harness.open(state), await harness.open(state)];
        try {
          await a.bounces.tally(key, 'hard', 'ann@example.com');
          await b.bounces.tally(key, 'hard', 'ANN@example.com');
          await b.bounces.tally(key, 'hard', 'bob@example.com');
          await a.bounces.tally(key, 'complaint', 'cy@example.com');
          await a.bounces.tally(key, 'soft', 'dee@example.com');
          await a.bounces.tally({ ...key, issueSlug: 'weekly-2' }, 'soft', 'eve@example.com');
          expect(await a.bounces.tallies(key)).toEqual({ hard: 2, soft: 1, complaint: 1 });
          expect(await b.bounces.tallies(key)).toEqual({ hard: 2, soft: 1, complaint: 1 });
          expect(await b.bounces.tallies({ ...key, issueSlug: 'weekly-2' })).toEqual({ hard: 0, soft: 1, complaint: 0 });
          expect(await b.bounces.tallies({ ...key, issueSlug: 'never-sent' })).toEqual({ hard: 0, soft: 0, complaint: 0 });
        } finally {
          await a.close();
          await b.close();
        }
      });

      it('lists the issues sent and the addresses each accepted (real sends only)', async () => {
        const store = await harness.open(fresh());
        try {
          const journal = await store.journal(key);
          await journal.append({ status: 'run', at: new Date().toISOString(), pid: 1, transport: 'outbox', list: 'list.csv', destination: OUTBOX });
          await journal.append(accepted('copy@example.com', 1, 'outbox'));
          await journal.append({ status: 'run', at: new Date().toISOString(), pid: 1, transport: 'smtp', list: 'list.csv', destination: SMTP });
          await journal.append(accepted('ann@example.com', 2, 'smtp'));
          await journal.append(accepted('bob@example.com', 3, 'smtp'));
          await journal.append({ status: 'failed-permanent', email: 'gone@example.com', line: 4, at: new Date().toISOString(), destination: 'smtp', reason: '550' });
          await journal.close();
          const other = await store.journal({ ...key, issueSlug: 'weekly-2' });
          await other.append({ status: 'run', at: new Date().toISOString(), pid: 1, transport: 'smtp', list: 'list.csv', destination: SMTP });
          await other.append(accepted('cy@example.com', 1, 'smtp'));
          await other.close();
          const issues = (await store.bounces.sentIssues(key.listId)).sort((a, b) => a.slug.localeCompare(b.slug));
          expect(issues.map((issue) => issue.slug)).toEqual(['weekly-1', 'weekly-2']);
          // When each was first sent: the first record's time (weekly-1's first run).
          expect(issues.every((issue) => typeof issue.firstSentAt === 'string' && !Number.isNaN(Date.parse(issue.firstSentAt)))).toBe(true);
          expect(await collect(store.bounces.sentTo(key))).toEqual(['ann@example.com', 'bob@example.com']);
          expect(await collect(store.bounces.sentTo({ ...key, issueSlug: 'weekly-2' }))).toEqual(['cy@example.com']);
        } finally {
          await store.close();
        }
      });
    });
  });
}
