import { Redis, type RedisOptions } from 'ioredis';
import { NewsletterError } from '../../errors.js';

/**
 * Connections to the Redis that holds the shared store and the queue. Every connection waits for
 * Redis to come back rather than failing a command (`maxRetriesPerRequest: null`, which BullMQ's
 * workers require anyway): a Redis restart mid-send pauses the send instead of losing outcomes.
 * Only the first connect is bounded, so a wrong URL is an error, not a hang.
 */

const FIRST_CONNECT_MS = 5000;

/** The URL as printed: the password masked. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@');
  }
}

export function checkRedisUrl(url: string, flag: string): string {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    throw new NewsletterError('USAGE', `${flag}: \`${maskRedisUrl(url)}\` is not a Redis URL`, { hint: 'expected redis://host:6379 (or rediss:// for TLS, redis://:password@host:6379/0)' });
  }
  return url;
}

export function redisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    // Reconnect for ever, backing off to 2 s between tries.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
}

/** How long a fail-fast connection (`serve`) waits for a command's answer before giving up. */
export const COMMAND_TIMEOUT_MS = 1000;

/**
 * A connected client; QUEUE_UNAVAILABLE when Redis cannot be reached at first. With `failFast`
 * (`serve`), a command made while Redis is away fails at once instead of waiting in a queue in
 * memory that grows with every request, and one that gets no answer fails after
 * COMMAND_TIMEOUT_MS; the client still reconnects in the background.
 */
export async function connectRedis(url: string, name: string, options: { failFast?: boolean | undefined } = {}): Promise<Redis> {
  const fast: RedisOptions = options.failFast ? { enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 0 } : {};
  const client = new Redis(url, { ...redisOptions(), connectionName: name, ...fast });
  // Errors while reconnecting are expected (Redis restarting); commands wait meanwhile.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${FIRST_CONNECT_MS / 1000} s`)), FIRST_CONNECT_MS);
      }),
    ]);
  } catch (error) {
    client.disconnect();
    throw new NewsletterError('QUEUE_UNAVAILABLE', `cannot reach Redis at ${maskRedisUrl(url)}: ${(error as Error).message}`, {
      hint: 'start redis-server (with --appendonly yes), or pass the right URL with --queue/--store or REDIS_URL',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  return client;
}
