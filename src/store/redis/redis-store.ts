import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import { AddressSet } from '../../send/hash-set.js';
import type { JournalRecord, OutcomeRecord } from '../../send/journal.js';
import { canStore } from '../files/suppression-lines.js';
import { normalizeEntry, parseEntryJson } from '../suppression-entry.js';
import type { Destination, IssueJournal, JournalKey, JournalState, Store, StoreLock, SuppressionEntry, SuppressionProblem, SuppressionStore } from '../types.js';
import { RedisBounceStore } from './bounces.js';
import { connectRedis, maskRedisUrl } from './connection.js';
import { DEFAULT_PREFIX, sendKeys, suppressionKeys, type SendKeys, type SuppressionKeys } from './keys.js';
import { erasedKey } from '../erased-address.js';
import { eraseFromRedis, RedisRateLimiter, RedisSubscriberStore } from './subscribers.js';

/**
 * The store on Redis (`--store`/`--queue redis://…`), shared by every machine of a send:
 *
 * - suppressions: a set of normalized addresses, and a hash of why each is there;
 * - the journal of a send: per destination kind, the set of accepted addresses (what a rerun and
 *   every worker skip), a list of the other outcomes and the run records, and counts per status.
 *   An acceptance is kept as its address only: a million of them take ~60 MB, where a record each
 *   would take three times that (the message ids are in the workers' logs);
 * - the send lock: a key with a 15 s expiry that its holder renews every 5 s, so a holder that
 *   died frees it within 15 s; compare-and-delete on release, so nobody frees another's lock.
 *
 * "Durable before it resolves" is Redis's AOF: with `appendfsync everysec` an acknowledged write
 * survives a crash of Redis except for its last second (a machine crash; a restart loses nothing).
 */

const LOCK_TTL_MS = 15_000;
const LOCK_RENEW_MS = 5_000;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]); redis.call('DEL', KEYS[2]); return 1 end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

const BACKUP = `local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('RENAME', key, key .. ':' .. ARGV[1]); n = n + 1 end
end
return n`;

interface LockContent {
  token: string;
  pid: number;
  host: string;
  startedAt: string;
}

function lockValue(content: LockContent): string {
  return JSON.stringify(content);
}

function describeHolder(text: string | null): string {
  try {
    const holder = JSON.parse(text ?? '') as LockContent;
    return `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}`;
  } catch {
    return 'unknown holder';
  }
}

function storeFailure(action: string, error: unknown): NewsletterError {
  if (error instanceof NewsletterError) return error;
  return new NewsletterError('OUTPUT_WRITE', `cannot ${action} in Redis: ${(error as Error).message}`, { cause: error, hint: 'check that Redis is running with maxmemory-policy noeviction and room to grow' });
}

/**
 * SADD, and the entry when it was not there (the first entry is kept, as in the files store); a
 * removal's time is forgotten. The reply is 1 when added.
 */
const ADD_SUPPRESSION = `if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]); redis.call('HDEL', KEYS[3], ARGV[1]); return 1
end
return 0`;

/** SREM, the entry dropped and the removal's time kept (an import compares it with the file's lines). */
const REMOVE_SUPPRESSION = `local removed = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1]); redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return removed`;

type WithSuppressionScripts = Redis & {
  newsletterAddSuppression(set: string, why: string, removed: string, email: string, entry: string): Promise<number>;
  newsletterRemoveSuppression(set: string, why: string, removed: string, email: string, at: string): Promise<number>;
};

const suppressionScripted = new WeakSet<Redis>();

function withSuppressionScripts(redis: Redis): WithSuppressionScripts {
  if (!suppressionScripted.has(redis)) {
    redis.defineCommand('newsletterAddSuppression', { numberOfKeys: 3, lua: ADD_SUPPRESSION });
    redis.defineCommand('newsletterRemoveSuppression', { numberOfKeys: 3, lua: REMOVE_SUPPRESSION });
    suppressionScripted.add(redis);
  }
  return redis as WithSuppressionScripts;
}

export class RedisSuppressionStore implements SuppressionStore {
  readonly keys: SuppressionKeys;
  /** Lines of the project's suppressions.txt that suppress nothing, found when it was imported (shared-store.ts). */
  fileProblems: SuppressionProblem[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.keys = suppressionKeys(prefix);
  }

  get setKey(): string {
    return this.keys.set;
  }

  get whyKey(): string {
    return this.keys.why;
  }

  async add(email: string, entry: SuppressionEntry): Promise<boolean> {
    const address = normalizeEmail(email);
    if (!canStore(address)) throw new NewsletterError('USAGE', `not an address: ${JSON.stringify(email)}`);
    try {
      const added = await withSuppressionScripts(this.redis).newsletterAddSuppression(this.keys.set, this.keys.why, this.keys.removed, address, JSON.stringify(normalizeEntry(entry)));
      return added === 1;
    } catch (error) {
      throw storeFailure('record a suppression', error);
    }
  }

  async remove(email: string): Promise<boolean> {
    const address = normalizeEmail(email);
    try {
      return (await withSuppressionScripts(this.redis).newsletterRemoveSuppression(this.keys.set, this.keys.why, this.keys.removed, address, new Date().toISOString())) === 1;
    } catch (error) {
      throw storeFailure('remove a suppression', error);
    }
  }

  async has(email: string): Promise<boolean> {
    const address = normalizeEmail(email);
    // An erased address is a member by its hash (store/erased-address.ts).
    const [[, plain], [, hashed]] = (await this.redis.multi().sismember(this.keys.set, address).sismember(this.keys.set, erasedKey(address)).exec()) as [[Error | null, number], [Error | null, number]];
    return plain === 1 || hashed === 1;
  }

  async reason(email: string): Promise<string | null> {
    if (!(await this.has(email))) return null;
    const why = await this.redis.hget(this.keys.why, normalizeEmail(email));
    try {
      return why ? String((JSON.parse(why) as { reason?: unknown }).reason ?? '') : '';
    } catch {
      return '';
    }
  }

  async erase(email: string): Promise<void> {
    await eraseFromRedis(this.redis, this.prefix, { ...this.keys, subscribers: `${this.prefix}:subscribers` }, email);
  }

  async get(email: string): Promise<SuppressionEntry | null> {
    const address = normalizeEmail(email);
    const [[, member], [, why]] = (await this.redis.multi().sismember(this.keys.set, address).hget(this.keys.why, address).exec()) as [[null, number], [null, string | null]];
    if (member !== 1) return null;
    return entryOf(why);
  }

  async load(): Promise<AddressSet> {
    const set = new AddressSet();
    for await (const email of this.iterate()) set.add(email);
    return set;
  }

  async *iterate(): AsyncIterable<string> {
    // SSCAN in pages: flat memory on both sides, and Redis is never blocked for long.
    let cursor = '0';
    do {
      const [next, page] = await this.redis.sscan(this.keys.set, cursor, 'COUNT', 1000);
      cursor = next;
      yield* page;
    } while (cursor !== '0');
  }

  async *entries(): AsyncIterable<{ email: string; entry: SuppressionEntry }> {
    let cursor = '0';
    do {
      const [next, page] = await this.redis.sscan(this.keys.set, cursor, 'COUNT', 1000);
      cursor = next;
      const whys = page.length ? await this.redis.hmget(this.keys.why, ...page) : [];
      for (let i = 0; i < page.length; i++) yield { email: page[i]!, entry: entryOf(whys[i] ?? null) };
    } while (cursor !== '0');
  }

  async problems(): Promise<SuppressionProblem[]> {
    return [...this.fileProblems];
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }
}

/** An entry as stored in the hash; addresses added without one (by hand, `SADD`) read as manual. */
function entryOf(text: string | null): SuppressionEntry {
  return (text ? parseEntryJson(text) : null) ?? { reason: 'manual', source: 'redis' };
}

/** What a worker learns in the same round trip as it records an outcome. */
export interface NextCheck {
  suppressed: boolean;
  accepted: boolean;
  /** How long to wait for the message's place in the send's rate (0 without one). */
  waitMs: number;
}

/** `--rate`: the send's schedule key and the interval between two messages. */
export interface RateSlot {
  key: string;
  intervalMs: number;
}

const COUNT_FLUSH_MS = 1000;

/** The next free start time of the schedule: returns how long to wait for it, and books it. */
const RATE_SLOT = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nextAt)
redis.call('SET', KEYS[1], tostring(at + tonumber(ARGV[1])), 'PX', 60000)
return at - now`;

/**
 * A worker's usual call (an acceptance or nothing to record, the next address to check, no rate,
 * no counts due): the three commands in one script. The answer is 2 × suppressed + accepted.
 * ioredis spends less than half the client CPU on one script call as on a pipeline of the three
 * commands (bench/record-check.js: 35 against 81 µs a call, some 4% of a worker's CPU a message),
 * and a send makes this call once per message on every worker.
 */
export const RECORD_AND_CHECK = `if ARGV[1] ~= '' then redis.call('SADD', KEYS[1], ARGV[1]) end
return redis.call('SISMEMBER', KEYS[2], ARGV[2]) * 2 + redis.call('SISMEMBER', KEYS[3], ARGV[2])`;

type WithRecordAndCheck = Redis & { newsletterRecordAndCheck(recordSet: string, suppressions: string, checkSet: string, recorded: string, next: string): Promise<number> };

const scripted = new WeakSet<Redis>();

/** ioredis sends EVALSHA, and EVAL on a connection that has not loaded it (a restarted Redis). */
function withScript(redis: Redis): WithRecordAndCheck {
  if (!scripted.has(redis)) {
    redis.defineCommand('newsletterRecordAndCheck', { numberOfKeys: 3, lua: RECORD_AND_CHECK });
    scripted.add(redis);
  }
  return redis as WithRecordAndCheck;
}

export class RedisJournal implements IssueJournal {
  /** The destination kind acceptances count for: the last run record says (smtp by default). */
  private kind: Destination['kind'] = 'smtp';

  /** As shown in a send's plan: the Redis and the journal's keys. */
  readonly location: string;

  constructor(
    private readonly redis: Redis,
    readonly keys: SendKeys,
    private readonly suppressionSet: string,
    display: string,
  ) {
    this.location = `${display} ${keys.records.replace(/:records$/, ':*')}`;
  }

  async read(destination: Destination): Promise<JournalState> {
    const accepted = new AddressSet();
    let cursor = '0';
    const key = this.keys.accepted(destination.kind);
    do {
      const [next, page] = await this.redis.sscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      for (const email of page) accepted.add(email);
    } while (cursor !== '0');
    const outboxCopies = await this.redis.scard(this.keys.accepted('outbox'));
    // Redis writes a record whole or not at all: there is no torn tail.
    return { accepted, outboxCopies, tornTail: false };
  }

  async append(record: JournalRecord): Promise<void> {
    if (record.status === 'run') this.kind = record.destination?.kind ?? (/^outbox\b/.test(record.transport) ? 'outbox' : 'smtp');
    await this.recordAndCheck(record, null, null);
  }

  /** A worker's acceptances not yet added to its counter (flushed every second and at batch end). */
  private unsentCounts = new Map<string, number>();
  /** Never flushed: the first counts are due at once, whatever the process's uptime (performance.now() starts near 0 in a fresh worker thread). */
  private lastCountFlush = Number.NEGATIVE_INFINITY;

  /**
   * Records an outcome (or nothing) and checks the next address against the suppressions and the
   * accepted set, in one round trip (RECORD_AND_CHECK for the usual case, else a pipeline): a
   * worker calls it after each server reply. With `rate`, the same round trip reserves the next
   * message's place in the send's global schedule. `worker` adds to that worker's counters. An
   * acceptance is one SADD: the counts of acceptances are the accepted set's size, and a worker's
   * own count is added once a second.
   */
  async recordAndCheck(record: JournalRecord | null, next: string | null, worker: string | null, rate: RateSlot | null = null): Promise<NextCheck | null> {
    // Counts due (once a second) go in the pipeline below.
    if (next !== null && !rate && !this.countsDue() && (record === null || record.status === 'accepted')) {
      const recordSet = this.keys.accepted(record?.destination ?? this.kind);
      let answer: number;
      try {
        answer = await withScript(this.redis).newsletterRecordAndCheck(recordSet, this.suppressionSet, this.keys.accepted(this.kind), record ? normalizeEmail(record.email) : '', normalizeEmail(next));
      } catch (error) {
        throw storeFailure('write the send journal', error);
      }
      // Counted once recorded: a failed call is made again with the same record (the slot's end).
      if (record && worker) this.countAcceptance(worker);
      return { suppressed: answer >= 2, accepted: answer % 2 === 1, waitMs: 0 };
    }
    // A pipeline, not MULTI: the commands need no atomicity (each is idempotent or a counter), and
    // MULTI/EXEC would add two commands to every message.
    const pipeline = this.redis.pipeline();
    if (record) {
      if (record.status === 'accepted') {
        pipeline.sadd(this.keys.accepted(record.destination ?? this.kind), normalizeEmail(record.email));
        if (worker) this.countAcceptance(worker);
      } else {
        pipeline.rpush(this.keys.records, JSON.stringify(record));
        if (record.status !== 'run') pipeline.hincrby(this.keys.counts, record.status, 1);
        if (worker && record.status.startsWith('failed')) pipeline.hincrby(this.keys.workers, `${worker}|failed`, 1);
        // Unsubscribed after the plan was made: part of the run's total, so counted for `status`.
        if (worker && record.status === 'skipped-suppressed') pipeline.hincrby(this.keys.run, 'suppressedLate', 1);
      }
    }
    // At a batch's end (no next address) whatever is counted goes now.
    if (this.unsentCounts.size && (next === null || this.countsDue())) this.flushCounts(pipeline);
    const address = next === null ? null : normalizeEmail(next);
    if (address !== null) {
      pipeline.sismember(this.suppressionSet, address).sismember(this.keys.accepted(this.kind), address);
      if (rate) pipeline.eval(RATE_SLOT, 1, rate.key, rate.intervalMs);
    }
    if (pipeline.length === 0) return null;
    let replies: [Error | null, unknown][];
    try {
      replies = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    } catch (error) {
      throw storeFailure('write the send journal', error);
    }
    const failed = replies.find(([error]) => error);
    if (failed) throw storeFailure('write the send journal', failed[0]);
    if (address === null) return null;
    const at = replies.length - (rate ? 3 : 2);
    return { suppressed: replies[at]![1] === 1, accepted: replies[at + 1]![1] === 1, waitMs: rate ? Number(replies[at + 2]![1]) : 0 };
  }

  private countAcceptance(worker: string): void {
    this.unsentCounts.set(worker, (this.unsentCounts.get(worker) ?? 0) + 1);
  }

  /** Acceptances counted and the last flush a second ago or more. */
  private countsDue(): boolean {
    return this.unsentCounts.size > 0 && performance.now() - this.lastCountFlush > COUNT_FLUSH_MS;
  }

  private flushCounts(pipeline: ReturnType<Redis['pipeline']>): void {
    for (const [worker, n] of this.unsentCounts) pipeline.hincrby(this.keys.workers, `${worker}|sent`, n);
    this.unsentCounts.clear();
    this.lastCountFlush = performance.now();
  }

  /** Outcome records other than acceptances from position `start` on, and the position after them. */
  async records(start: number): Promise<{ records: OutcomeRecord[]; next: number }> {
    const texts = await this.redis.lrange(this.keys.records, start, -1);
    const records = texts.map((text) => JSON.parse(text) as JournalRecord).filter((record): record is OutcomeRecord => record.status !== 'run');
    return { records, next: start + texts.length };
  }

  /** `send --restart`: the journal's keys renamed to `…:backup-<time>` (returned), so the send starts empty. */
  async restart(): Promise<string | null> {
    const suffix = `backup-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const names = [this.keys.accepted('smtp'), this.keys.accepted('outbox'), this.keys.records, this.keys.counts, this.keys.workers];
    const moved = Number(await this.redis.eval(BACKUP, names.length, ...names, suffix));
    return moved ? `${this.keys.records.replace(/:records$/, '')}:*:${suffix}` : null;
  }

  async close(): Promise<void> {}
}

export interface RedisStoreOptions {
  url: string;
  prefix?: string | undefined;
  /** Shown as the connection's client name (`CLIENT LIST`). */
  name?: string | undefined;
  /**
   * Fail a command at once while Redis cannot be reached (and after COMMAND_TIMEOUT_MS), rather
   * than queue it until Redis is back: `serve` answers 503 instead of holding the request.
   */
  failFast?: boolean | undefined;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly suppressions: RedisSuppressionStore;
  readonly bounces: RedisBounceStore;
  readonly subscribers: RedisSubscriberStore;
  readonly limits: RedisRateLimiter;
  readonly display: string;

  private constructor(
    readonly redis: Redis,
    readonly prefix: string,
    url: string,
  ) {
    this.suppressions = new RedisSuppressionStore(redis, prefix);
    this.bounces = new RedisBounceStore(redis, prefix);
    this.subscribers = new RedisSubscriberStore(redis, prefix);
    this.limits = new RedisRateLimiter(redis, prefix);
    this.display = maskRedisUrl(url);
  }

  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const redis = await connectRedis(options.url, options.name ?? 'newsletter-store', { failFast: options.failFast });
    return new RedisStore(redis, options.prefix ?? DEFAULT_PREFIX, options.url);
  }

  erase(email: string): Promise<boolean> {
    return eraseFromRedis(this.redis, this.prefix, { set: this.suppressions.setKey, why: this.suppressions.whyKey, subscribers: this.subscribers.key }, email);
  }

  keys(key: JournalKey): SendKeys {
    return sendKeys(this.prefix, key);
  }

  async journal(key: JournalKey): Promise<RedisJournal> {
    return new RedisJournal(this.redis, this.keys(key), this.suppressions.setKey, this.display);
  }

  async lock(key: JournalKey): Promise<StoreLock> {
    const keys = this.keys(key);
    const content: LockContent = { token: randomBytes(12).toString('hex'), pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    const value = lockValue(content);
    const taken = await this.redis.set(keys.lock, value, 'PX', LOCK_TTL_MS, 'NX');
    if (taken !== 'OK') {
      const [holder, ttl] = await Promise.all([this.redis.get(keys.lock), this.redis.pttl(keys.lock)]);
      throw new NewsletterError('SEND_LOCKED', `another send of this issue is running (${describeHolder(holder)})`, {
        hint: `wait for it to finish; if it is gone, its lock in Redis (${keys.lock}) expires within ${Math.max(1, Math.ceil(ttl / 1000))} s`,
      });
    }
    // A holder record left behind means the last holder died without releasing.
    const previous = await this.redis.getset(keys.lastHolder, value);
    const takenOverFrom = previous ? describeHolder(previous) : null;
    let released = false;
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, keys.lock, value, LOCK_TTL_MS).catch(() => undefined);
    }, LOCK_RENEW_MS);
    renew.unref();
    return {
      takenOverFrom,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        await this.redis.eval(RELEASE, 2, keys.lock, keys.lastHolder, value);
      },
    };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
