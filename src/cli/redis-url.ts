import { NewsletterError } from '../errors.js';
import { checkRedisUrl } from '../store/redis/connection.js';

/** The Redis of `--queue`/`--store`, else REDIS_URL (environment or .env). */
export function redisUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv, flagName: string): string {
  const url = flag ?? env.REDIS_URL;
  if (!url) throw new NewsletterError('USAGE', `no Redis to use: pass ${flagName} redis://host:6379 or set REDIS_URL`);
  return checkRedisUrl(url, flag ? flagName : 'REDIS_URL');
}
