import { FileSuppressionStore } from '../files/suppressions.js';
import type { Store } from '../types.js';
import { RedisStore } from './redis-store.js';

/**
 * The Redis store as a project opens it (`send --store`/`--queue`, `serve --store`, REDIS_URL):
 * first the project's own suppression list (`suppressions.txt`) is brought into the shared one,
 * so moving a newsletter onto Redis never sends to an address it had already suppressed, and a
 * line added to the file by hand later still counts.
 *
 * One source of truth: Redis. The file is read as a log of changes, and Redis remembers how many
 * changes of each address it has taken from it (`…:suppressions:file-changes`). Only an address
 * with changes it has not seen yet is applied (added, or removed for a `-address` tombstone), so
 * a resubscribe made in Redis (`serve --store`, `suppressions remove`) is never undone by the old
 * line that is still in the file; a new line for that address is a new change and is applied.
 * When both sides know when their last change was made (lines this tool wrote carry the time),
 * the later one wins even on the first import.
 */

const CHUNK = 500;

/**
 * Per address (ARGV: email, changes in the file, 1/0 present in the file, the file's entry, its
 * time or ''): applied when the file holds changes Redis has not taken yet, unless Redis's own
 * last change of it is known to be later. Returns how many addresses it added.
 */
const IMPORT = `local added = 0
for i = 1, #ARGV - 1, 5 do
  local email, changes, present, entry, at = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local seen = tonumber(redis.call('HGET', KEYS[4], email) or '0')
  if changes > seen then
    local ours = ''
    if redis.call('SISMEMBER', KEYS[1], email) == 1 then
      local ok, why = pcall(cjson.decode, redis.call('HGET', KEYS[2], email) or '{}')
      if ok and type(why) == 'table' and type(why.at) == 'string' then ours = why.at end
    else
      ours = redis.call('HGET', KEYS[3], email) or ''
    end
    if at == '' or ours == '' or at > ours then
      if present == '1' then
        if redis.call('SADD', KEYS[1], email) == 1 then
          redis.call('HSET', KEYS[2], email, entry); redis.call('HDEL', KEYS[3], email); added = added + 1
        end
      elseif redis.call('SREM', KEYS[1], email) == 1 then
        redis.call('HDEL', KEYS[2], email); redis.call('HSET', KEYS[3], email, at ~= '' and at or ARGV[#ARGV])
      end
    end
  end
  if changes ~= seen then redis.call('HSET', KEYS[4], email, changes) end
end
return added`;

export interface SharedStore extends RedisStore {
  /** Addresses of the files store's list that were added to Redis now. */
  readonly imported: number;
}

/** Brings the file's changes that Redis has not taken yet into it; returns how many addresses were added. */
export async function importSuppressions(from: FileSuppressionStore, to: RedisStore): Promise<number> {
  const keys = to.suppressions.keys;
  const history = await from.history();
  to.suppressions.fileProblems = await from.problems();
  const now = new Date().toISOString();
  let imported = 0;
  let chunk: string[] = [];
  const flush = async () => {
    if (!chunk.length) return;
    // The last argument, read by the script for a removal without a time of its own.
    imported += Number(await to.redis.eval(IMPORT, 4, keys.set, keys.why, keys.removed, keys.fileChanges, ...chunk, now));
    chunk = [];
  };
  for (const [email, { present, changes, entry }] of history) {
    chunk.push(email, String(changes), present ? '1' : '0', JSON.stringify(entry), entry.at ?? '');
    if (chunk.length >= CHUNK * 5) await flush();
  }
  await flush();
  // Addresses whose lines were deleted from the file: forgotten, so a line written again later is new.
  let cursor = '0';
  do {
    const [next, page] = await to.redis.hscan(keys.fileChanges, cursor, 'COUNT', 1000);
    cursor = next;
    const gone: string[] = [];
    for (let i = 0; i < page.length; i += 2) if (!history.has(page[i]!)) gone.push(page[i]!);
    if (gone.length) await to.redis.hdel(keys.fileChanges, ...gone);
  } while (cursor !== '0');
  return imported;
}

export async function openSharedStore(url: string, files: Store, options: { prefix?: string | undefined; name?: string | undefined; failFast?: boolean | undefined } = {}): Promise<SharedStore> {
  const store = await RedisStore.open({ url, prefix: options.prefix, name: options.name ?? 'newsletter', failFast: options.failFast });
  try {
    const imported = files.suppressions instanceof FileSuppressionStore ? await importSuppressions(files.suppressions, store) : 0;
    return Object.assign(store, { imported });
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    await files.close();
  }
}
