import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import type { BounceStore, BounceTallies, JournalKey, SentIssue, TallyKind } from '../types.js';
import { listIdOf, sendKeys } from './keys.js';

/**
 * The bounce state on Redis (the contract is in store/types.ts), every key under
 * `{prefix}:bounces:`: a claim is a SET NX with the claim's TTL; an address's soft bounces a set of
 * issue slugs (deleted by a delivery); an issue's tallies a set of addresses per kind, so an
 * address counts once however often it is reported. The issues sent and their recipients are the
 * send journals' accepted sets (redis-store.ts), scanned.
 */

/** An address's soft bounces are forgotten after a year without another one. */
const SOFT_TTL_S = 366 * 24 * 3600;
const KINDS: readonly TallyKind[] = ['hard', 'soft', 'complaint'];

function failure(action: string, error: unknown): NewsletterError {
  return new NewsletterError('OUTPUT_WRITE', `cannot ${action} in Redis: ${(error as Error).message}`, { cause: error });
}

/** A glob pattern (SCAN MATCH) matching `text` literally. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export class RedisBounceStore implements BounceStore {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.base = `${prefix}:bounces`;
  }

  private tallyKey(key: JournalKey, kind: TallyKind): string {
    return `${this.base}:tally:${listIdOf(key)}:${key.issueSlug}:${kind}`;
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const digest = createHash('sha256').update(id).digest('hex').slice(0, 40);
    try {
      return (await this.redis.set(`${this.base}:claim:${digest}`, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
    } catch (error) {
      throw failure('record a claim', error);
    }
  }

  async softBounce(email: string, issue: string): Promise<string[]> {
    const key = `${this.base}:soft:${normalizeEmail(email)}`;
    try {
      const replies = (await this.redis.multi().sadd(key, issue).expire(key, SOFT_TTL_S).smembers(key).exec()) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed) throw failed[0];
      return replies[2]![1] as string[];
    } catch (error) {
      throw failure('count a soft bounce', error);
    }
  }

  async delivered(email: string): Promise<void> {
    try {
      await this.redis.del(`${this.base}:soft:${normalizeEmail(email)}`);
    } catch (error) {
      throw failure('record a delivery', error);
    }
  }

  async tally(key: JournalKey, kind: TallyKind, email: string): Promise<void> {
    try {
      await this.redis.sadd(this.tallyKey(key, kind), normalizeEmail(email));
    } catch (error) {
      throw failure('count a bounce', error);
    }
  }

  async tallies(key: JournalKey): Promise<BounceTallies> {
    const pipeline = this.redis.pipeline();
    for (const kind of KINDS) pipeline.scard(this.tallyKey(key, kind));
    const replies = (await pipeline.exec()) ?? [];
    const counts = replies.map(([error, value]) => {
      if (error) throw failure('read the bounce counts', error);
      return Number(value);
    });
    return { hard: counts[0] ?? 0, soft: counts[1] ?? 0, complaint: counts[2] ?? 0 };
  }

  async sentIssues(listId: string): Promise<SentIssue[]> {
    const head = `${this.prefix}:send:${listIdOf({ listId, issueSlug: '' })}:`;
    const tail = ':accepted:smtp';
    const slugs = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${globLiteral(head)}*${tail}`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) slugs.add(key.slice(head.length, -tail.length));
    } while (cursor !== '0');
    // When each was first sent: its first record (a run record; acceptances are not in the list).
    const pipeline = this.redis.pipeline();
    for (const slug of slugs) pipeline.lindex(sendKeys(this.prefix, { listId, issueSlug: slug }).records, 0);
    const firsts = (await pipeline.exec()) ?? [];
    return [...slugs].map((slug, i) => {
      let at: string | null = null;
      try {
        const record = JSON.parse(String(firsts[i]?.[1] ?? 'null')) as { at?: unknown } | null;
        at = typeof record?.at === 'string' ? record.at : null;
      } catch {
        at = null;
      }
      return { slug, firstSentAt: at };
    });
  }

  async *sentTo(key: JournalKey): AsyncIterable<string> {
    const set = sendKeys(this.prefix, key).accepted('smtp');
    let cursor = '0';
    do {
      const [next, page] = await this.redis.sscan(set, cursor, 'COUNT', 1000);
      cursor = next;
      yield* page;
    } while (cursor !== '0');
  }
}
