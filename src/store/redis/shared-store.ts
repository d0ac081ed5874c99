import type { Store, SuppressionStore } from '../types.js';
import { RedisStore } from './redis-store.js';

/**
 * The Redis store as a project opens it (`send --store`/`--queue`, REDIS_URL): first the
 * project's own suppression list (`suppressions.txt`) is merged into the shared one, so moving a
 * newsletter onto Redis never sends to an address it had already suppressed. Additions only: a
 * line deleted from the file later does not resubscribe anyone in Redis (remove it there, or
 * through `serve`).
 */

const CHUNK = 1000;

export interface SharedStore extends RedisStore {
  /** Addresses of the files store's list that were not in Redis yet. */
  readonly imported: number;
}

export async function importSuppressions(from: SuppressionStore, to: RedisStore, source: string): Promise<number> {
  let imported = 0;
  let chunk: string[] = [];
  const why = JSON.stringify({ reason: 'imported', source, at: new Date().toISOString() });
  const flush = async () => {
    if (!chunk.length) return;
    const pipeline = to.redis.pipeline();
    for (const email of chunk) pipeline.sadd(to.suppressions.setKey, email).hsetnx(to.suppressions.whyKey, email, why);
    const replies = (await pipeline.exec()) ?? [];
    for (let i = 0; i < replies.length; i += 2) if (replies[i]![1] === 1) imported++;
    chunk = [];
  };
  for await (const email of from.iterate()) {
    chunk.push(email);
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  return imported;
}

export async function openSharedStore(url: string, files: Store, options: { prefix?: string | undefined; name?: string | undefined } = {}): Promise<SharedStore> {
  const store = await RedisStore.open({ url, prefix: options.prefix, name: options.name ?? 'newsletter' });
  try {
    const imported = await importSuppressions(files.suppressions, store, 'suppressions file');
    return Object.assign(store, { imported });
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    await files.close();
  }
}
