import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NewsletterError } from '../src/errors.js';
import { RedisStore } from '../src/store/redis/redis-store.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { runStoreContract } from './helpers/store-contract.js';
import { openSharedStore } from '../src/store/redis/shared-store.js';
import { openFilesStore } from '../src/store/files/index.js';

/** The Redis backend of the store contract (src/store/types.ts) against a real redis-server. */

let redis: TestRedis;
let prefixes = 0;
beforeAll(async () => {
  redis = await startRedis();
}, 20_000);
afterAll(async () => {
  await redis?.stop();
});

async function open(): Promise<RedisStore> {
  return RedisStore.open({ url: redis.url, prefix: `contract${++prefixes}` });
}

describe('RedisStore', () => {
  it('suppressions: add and remove are idempotent, any spelling matches, load and iterate see every address', async () => {
    const store = await open();
    try {
      expect(await store.suppressions.add(' Ann@Example.com ', { reason: 'unsubscribed', source: 'serve' })).toBe(true);
      expect(await store.suppressions.add('ann@example.com', { reason: 'unsubscribed', source: 'serve' })).toBe(false);
      expect(await store.suppressions.has('ANN@example.com')).toBe(true);
      for (let i = 0; i < 2500; i++) await store.suppressions.add(`r${i}@example.com`, { reason: 'imported', source: 'test' });
      const all: string[] = [];
      for await (const email of store.suppressions.iterate()) all.push(email);
      expect(all.length).toBe(2501);
      expect(all).toContain('ann@example.com');
      const set = await store.suppressions.load();
      expect(set.size).toBe(2501);
      expect(set.has('R17@example.com')).toBe(true);
      expect(await store.suppressions.remove('ann@EXAMPLE.com')).toBe(true);
      expect(await store.suppressions.remove('ann@example.com')).toBe(false);
      expect(await store.suppressions.has('ann@example.com')).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('journal: acceptances count per destination kind; other outcomes are kept as records', async () => {
    const store = await open();
    try {
      const journal = await store.journal({ listId: 'list', issueSlug: 'weekly-1' });
      await journal.append({ status: 'run', at: 'now', pid: 1, transport: 'outbox (outbox/weekly-1/)', list: 'l.csv' });
      await journal.append({ status: 'accepted', email: 'Ann@example.com', line: 2, at: 'now' });
      await journal.append({ status: 'run', at: 'now', pid: 1, transport: 'smtp://relay:587', list: 'l.csv' });
      await journal.append({ status: 'accepted', email: 'bob@example.com', line: 3, at: 'now' });
      await journal.append({ status: 'failed-permanent', email: 'eve@example.com', line: 4, at: 'now', reason: '550 no' });
      const smtp = await journal.read({ kind: 'smtp', id: 'smtp://relay:587' });
      expect([smtp.accepted.has('bob@example.com'), smtp.accepted.has('ann@example.com'), smtp.accepted.size, smtp.outboxCopies, smtp.tornTail]).toEqual([true, false, 1, 1, false]);
      const outbox = await journal.read({ kind: 'outbox', id: 'outbox' });
      expect(outbox.accepted.has('ANN@example.com')).toBe(true);
      const { records } = await journal.records(0);
      expect(records).toEqual([{ status: 'failed-permanent', email: 'eve@example.com', line: 4, at: 'now', reason: '550 no' }]);
      // Another issue of the same list has a journal of its own.
      const other = await (await store.journal({ listId: 'list', issueSlug: 'weekly-2' })).read({ kind: 'smtp', id: 'x' });
      expect(other.accepted.size).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("a worker's record-and-check: the script (acceptances) and the pipeline (everything else) answer alike, counts reach the worker's total, and a restarted Redis reloads the script", async () => {
    const store = await open();
    try {
      const journal = await store.journal({ listId: 'list', issueSlug: 'weekly-1' });
      await store.suppressions.add('gone@example.com', { reason: 'unsubscribed', source: 'serve' });
      await store.suppressions.add('both@example.com', { reason: 'unsubscribed', source: 'serve' });
      await store.redis.sadd(journal.keys.accepted('smtp'), 'done@example.com', 'both@example.com');
      // Which path each call took: the pipeline path calls pipeline(), the script's does not.
      const pipelines = vi.spyOn(store.redis, 'pipeline');
      const paths: string[] = [];
      const call = async (...args: Parameters<typeof journal.recordAndCheck>) => {
        const before = pipelines.mock.calls.length;
        const answer = await journal.recordAndCheck(...args);
        paths.push(pipelines.mock.calls.length > before ? 'pipeline' : 'script');
        return answer;
      };
      const accepted = (email: string) => ({ status: 'accepted' as const, email, line: 2, at: 'now', destination: 'smtp' as const });
      const failed = { status: 'failed-permanent' as const, email: 'eve@example.com', line: 4, at: 'now', destination: 'smtp' as const, reason: '550 no' };
      expect(await call(null, 'Gone@Example.com', 'w1')).toEqual({ suppressed: true, accepted: false, waitMs: 0 });
      expect(await call(accepted('Ann@Example.com'), 'ANN@example.com', 'w1')).toEqual({ suppressed: false, accepted: true, waitMs: 0 });
      // Counts are due (none flushed yet): the pipeline, which adds them.
      expect(await call(accepted('bob@example.com'), 'done@example.com', 'w1')).toEqual({ suppressed: false, accepted: true, waitMs: 0 });
      expect(await call(failed, 'gone@example.com', 'w1')).toEqual({ suppressed: true, accepted: false, waitMs: 0 });
      expect(await call(null, 'both@example.com', 'w1')).toEqual({ suppressed: true, accepted: true, waitMs: 0 });
      expect(await call(null, 'new@example.com', 'w1')).toEqual({ suppressed: false, accepted: false, waitMs: 0 });
      // Redis restarted: its script cache is empty, and the next call loads the script again.
      await redis.restart();
      expect(await call(accepted('cy@example.com'), 'cy@example.com', 'w1')).toEqual({ suppressed: false, accepted: true, waitMs: 0 });
      // The end of a batch: the last record, and every acceptance added to the worker's count.
      await call(accepted('dee@example.com'), null, 'w1');
      expect(paths).toEqual(['script', 'script', 'pipeline', 'pipeline', 'script', 'script', 'script', 'pipeline']);
      expect((await store.redis.smembers(journal.keys.accepted('smtp'))).sort()).toEqual(['ann@example.com', 'bob@example.com', 'both@example.com', 'cy@example.com', 'dee@example.com', 'done@example.com']);
      expect(await store.redis.hgetall(journal.keys.workers)).toEqual({ 'w1|sent': '4', 'w1|failed': '1' });
      expect((await journal.records(0)).records).toEqual([failed]);

      // A send to the outbox: the script records and checks that kind's set, not the SMTP one.
      await journal.append({ status: 'run', at: 'now', pid: 1, transport: 'outbox (outbox/weekly-1/)', list: 'l.csv' });
      const outboxCopy = { status: 'accepted' as const, email: 'fay@example.com', line: 5, at: 'now' };
      expect(await call(outboxCopy, 'done@example.com', null)).toEqual({ suppressed: false, accepted: false, waitMs: 0 });
      expect(await call(null, 'fay@example.com', null)).toEqual({ suppressed: false, accepted: true, waitMs: 0 });
      expect(paths.slice(-2)).toEqual(['script', 'script']);
      expect(await store.redis.smembers(journal.keys.accepted('outbox'))).toEqual(['fay@example.com']);
    } finally {
      await store.close();
    }
  }, 20_000);

  it('lock: one holder at a time, across connections; a holder that died is taken over and named', async () => {
    // Two connections to the same store, as two machines would have.
    const a = await open();
    const b2 = await RedisStore.open({ url: redis.url, prefix: a.prefix });
    try {
      const key = { listId: 'list', issueSlug: 'weekly-1' };
      const held = await a.lock(key);
      expect(held.takenOverFrom).toBeNull();
      const refused = await b2.lock(key).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(NewsletterError);
      expect((refused as NewsletterError).code).toBe('SEND_LOCKED');
      expect((refused as NewsletterError).message).toMatch(new RegExp(`pid ${process.pid} on `));
      await held.release();
      const next = await b2.lock(key);
      expect(next.takenOverFrom).toBeNull();
      // The holder dies: its key expires (deleted here rather than waiting 15 s) and nobody released.
      await b2.redis.del(b2.keys(key).lock);
      const takeover = await a.lock(key);
      expect(takeover.takenOverFrom).toMatch(new RegExp(`^pid ${process.pid} on .*, started `));
      await takeover.release();
      // A release that comes late (its lock already taken over) does not free the new holder's lock.
      const latest = await b2.lock(key);
      await next.release();
      expect((await a.lock(key).catch((error: NewsletterError) => error.code)) as unknown).toBe('SEND_LOCKED');
      await latest.release();
    } finally {
      await a.close();
      await b2.close();
    }
  });

  it('an unreachable Redis is a QUEUE_UNAVAILABLE error naming the URL, not a hang', async () => {
    const error = await RedisStore.open({ url: 'redis://:secret@127.0.0.1:1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NewsletterError);
    expect((error as NewsletterError).code).toBe('QUEUE_UNAVAILABLE');
    expect((error as NewsletterError).message).toMatch(/^cannot reach Redis at redis:\/\/:\*\*\*\*@127\.0\.0\.1:1: /);
  });
});

runStoreContract('redis', {
  // One Redis for the file; a state is a key prefix, so stores opened with the same one share it.
  open: (state) => RedisStore.open({ url: redis.url, prefix: `contract:${state}` }),
  // As send --store and serve --store open it: suppressions.txt imported into the shared list first.
  openProject: (state, file) => openSharedStore(redis.url, openFilesStore({ journalDir: path.join(path.dirname(file), 'sends'), suppressions: file }), { prefix: `contract:${state}` }),
  async dump(state) {
    const store = await RedisStore.open({ url: redis.url, prefix: `contract:${state}` });
    try {
      const texts: string[] = [];
      for (const name of await store.redis.keys(`contract:${state}:*`)) {
        const type = await store.redis.type(name);
        const value =
          type === 'string' ? [await store.redis.get(name)] : type === 'set' ? await store.redis.smembers(name) : type === 'hash' ? Object.entries(await store.redis.hgetall(name)).flat() : type === 'list' ? await store.redis.lrange(name, 0, -1) : [`(${type})`];
        texts.push(name, ...value.map(String));
      }
      return texts.join('\n');
    } finally {
      await store.close();
    }
  },
  async makeStale(state, key) {
    // What a holder that died leaves: its holder record, its expiring lock key already gone.
    const store = await RedisStore.open({ url: redis.url, prefix: `contract:${state}` });
    await store.redis.set(store.keys(key).lastHolder, JSON.stringify({ token: 'crashed', pid: 4_194_305, host: 'gone.example', startedAt: '2026-01-01T00:00:00.000Z' }));
    await store.close();
  },
});
