import type { RedisOptions } from 'bullmq';

/** The BullMQ queue every send's batches go through; its keys sit under the store's prefix. */
export const QUEUE_NAME = 'batches';

/** Job options of a batch: retried on errors of our own (Redis refusing a write, a bug), kept nowhere once done. */
export const BATCH_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  // Finished batches leave Redis at once: their rows are the list, and the journal has the outcomes.
  removeOnComplete: true,
  removeOnFail: true,
} as const;

/** BullMQ's connections: commands wait for a restarting Redis (workers require it), reconnecting for ever. */
export function bullConnection(url: string): RedisOptions {
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 100, 2000) };
}
