import type { Redis } from 'ioredis';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import { erasedKey } from '../erased-address.js';
import type { ConsentRecord, RateLimiter, Subscriber, SubscriberStore } from '../types.js';

/**
 * Subscribers on Redis: one hash, `{prefix}:subscribers`, address → the subscriber as JSON (its
 * history inside). A renewal moves the current consent into the history in one script, so two
 * processes confirming at once cannot lose either. The rate-limit counters of `serve` live under
 * `{prefix}:limit:…` with their window as expiry, so every process and machine counts together.
 */

const PUT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
local record = cjson.decode(ARGV[2])
local history = {}
if old then
  local before = cjson.decode(old)
  if type(before.history) == 'table' then history = before.history end
  before.history = nil
  before.email = nil
  table.insert(history, before)
end
record.history = history
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
if old then return 1 end
return 0`;

/** A refused take counts nothing (as in the memory limiter), so one give undoes one allowed take. */
const TAKE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) then return n + 1 end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * One event back, while the window lasts (an expired key is gone, and stays gone). The last one
 * back removes the window, so the next take opens a new one, as in the memory limiter.
 */
const GIVE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 1 then redis.call('DECR', KEYS[1]) elseif n == 1 then redis.call('DEL', KEYS[1]) end
return n`;

function failure(action: string, error: unknown): NewsletterError {
  if (error instanceof NewsletterError) return error;
  return new NewsletterError('OUTPUT_WRITE', `cannot ${action} in Redis: ${(error as Error).message}`, { cause: error });
}

/** cjson writes an empty Lua table as `{}`: the history is a list whatever it wrote. */
function parseSubscriber(text: string): Subscriber {
  const parsed = JSON.parse(text) as Subscriber;
  return { ...parsed, fields: parsed.fields && !Array.isArray(parsed.fields) ? parsed.fields : {}, history: Array.isArray(parsed.history) ? parsed.history : [] };
}

export class RedisSubscriberStore implements SubscriberStore {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:subscribers`;
  }

  async put(record: ConsentRecord): Promise<'added' | 'renewed'> {
    const email = normalizeEmail(record.email);
    try {
      const renewed = (await this.redis.eval(PUT, 1, this.key, email, JSON.stringify({ ...record, email }))) as number;
      return renewed === 1 ? 'renewed' : 'added';
    } catch (error) {
      throw failure('record a subscriber', error);
    }
  }

  async addMissing(batches: AsyncIterable<ConsentRecord[]>): Promise<{ added: number; present: number }> {
    let added = 0;
    let present = 0;
    try {
      for await (const batch of batches) {
        if (!batch.length) continue;
        const pipeline = this.redis.pipeline();
        for (const record of batch) {
          const email = normalizeEmail(record.email);
          pipeline.hsetnx(this.key, email, JSON.stringify({ ...record, email, history: [] }));
        }
        for (const [error, reply] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          if (reply === 1) added++;
          else present++;
        }
      }
    } catch (error) {
      throw failure('import subscribers', error);
    }
    return { added, present };
  }

  async get(email: string): Promise<Subscriber | null> {
    const text = await this.redis.hget(this.key, normalizeEmail(email));
    return text === null ? null : parseSubscriber(text);
  }

  async remove(email: string): Promise<boolean> {
    try {
      return (await this.redis.hdel(this.key, normalizeEmail(email))) === 1;
    } catch (error) {
      throw failure('remove a subscriber', error);
    }
  }

  erase(email: string): Promise<boolean> {
    return this.remove(email);
  }

  async *iterate(): AsyncIterable<Subscriber> {
    let cursor = '0';
    do {
      const [next, page] = await this.redis.hscan(this.key, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < page.length; i += 2) yield parseSubscriber(page[i]!);
    } while (cursor !== '0');
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async take(key: string, max: number, windowMs: number): Promise<boolean> {
    const count = (await this.redis.eval(TAKE, 1, `${this.prefix}:limit:${key}`, windowMs, max)) as number;
    return count <= max;
  }

  async give(key: string): Promise<void> {
    await this.redis.eval(GIVE, 1, `${this.prefix}:limit:${key}`);
  }
}

/**
 * Everything the Redis store holds about an address, gone: the subscriber, the suppression
 * record (kept as its hash), and the address in every send's accepted sets and outcome lists.
 */
export async function eraseFromRedis(redis: Redis, prefix: string, keys: { set: string; why: string; subscribers: string }, email: string): Promise<boolean> {
  const address = normalizeEmail(email);
  const hashed = erasedKey(address);
  try {
    const [[, removed]] = (await redis
      .multi()
      .hdel(keys.subscribers, address)
      .sadd(keys.set, hashed)
      .hset(keys.why, hashed, JSON.stringify({ reason: 'erased', source: 'subscribers remove --erase', at: new Date().toISOString() }))
      .srem(keys.set, address)
      .hdel(keys.why, address)
      .exec()) as [[Error | null, number]];
    let cursor = '0';
    do {
      const [next, names] = await redis.scan(cursor, 'MATCH', `${prefix}:send:*`, 'COUNT', 1000);
      cursor = next;
      for (const name of names) {
        const type = await redis.type(name);
        if (type === 'set') await redis.srem(name, address);
        else if (type === 'list') {
          for (const entry of await redis.lrange(name, 0, -1)) if (entry.toLowerCase().includes(address)) await redis.lrem(name, 0, entry);
        }
      }
    } while (cursor !== '0');
    return removed === 1;
  } catch (error) {
    throw failure('erase an address', error);
  }
}
