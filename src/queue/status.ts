import { Queue } from 'bullmq';
import { DEFAULT_PREFIX, listIdOf } from '../store/redis/keys.js';
import { RedisStore } from '../store/redis/redis-store.js';
import type { JournalKey } from '../store/types.js';
import { bullConnection, QUEUE_NAME } from './queue-names.js';

/**
 * `newsletter status ISSUE --queue …`: what the shared journal and the queue say about a send,
 * while it runs and after. Read-only: it takes no lock and can run anywhere.
 */

export interface WorkerStatus {
  name: string;
  sent: number;
  failed: number;
  batches: number;
  lastSeen: string | null;
  /** Connected to the queue now (a BullMQ worker connection of this name is open in Redis). */
  live: boolean;
}

export interface QueueStatus {
  issueSlug: string;
  /** `none` (never queued), `running` (batches pending), `stopped` (the list was not all queued: rerun `send`), `done`. */
  state: 'none' | 'running' | 'stopped' | 'done';
  /** Every address accepted for this issue, over all runs. */
  sentTotal: number;
  /** Outcome counts over all runs, by status (`failed-permanent`, `skipped-duplicate`, …). */
  outcomes: Record<string, number>;
  run: {
    total: number;
    sent: number;
    failed: number;
    /** Recipients of the current run without an outcome yet. */
    pending: number;
    startedAt: string | null;
    finishedAt: string | null;
    streamed: boolean;
    failedBatches: number;
    lastBatchError: string | null;
  } | null;
  batches: { pending: number; waiting: number; active: number; delayed: number };
  workers: WorkerStatus[];
  /** Workers connected to the queue now, whichever issue they send; null when Redis does not list its clients (CLIENT LIST refused). */
  liveWorkers: number | null;
}

export interface StatusRequest {
  queue: string;
  prefix?: string | undefined;
  key: JournalKey;
}

export async function queueStatus(request: StatusRequest): Promise<QueueStatus> {
  const prefix = request.prefix ?? DEFAULT_PREFIX;
  const store = await RedisStore.open({ url: request.queue, prefix, name: 'newsletter-status' });
  const queue = new Queue(QUEUE_NAME, { connection: bullConnection(request.queue), prefix });
  queue.on('error', () => undefined);
  try {
    const key = { listId: listIdOf(request.key), issueSlug: request.key.issueSlug };
    const keys = store.keys(key);
    const [[, sentTotal], [, counts], [, run], [, workers], [, pendingIds]] = (await store.redis
      .multi()
      .scard(keys.accepted('smtp'))
      .hgetall(keys.counts)
      .hgetall(keys.run)
      .hgetall(keys.workers)
      .smembers(keys.pending)
      .exec()) as [[null, number], [null, Record<string, string>], [null, Record<string, string>], [null, Record<string, string>], [null, string[]]];
    const live = await liveWorkerNames(queue);
    const batches = { pending: pendingIds.length, waiting: 0, active: 0, delayed: 0 };
    // Pending is bounded by the list size over 500; states are read for at most the first 200.
    for (const id of pendingIds.slice(0, 200)) {
      const state = await queue.getJobState(id);
      if (state === 'active') batches.active++;
      else if (state === 'delayed') batches.delayed++;
      else if (state === 'waiting' || state === 'prioritized') batches.waiting++;
    }
    const outcomes: Record<string, number> = {};
    // Acceptances are counted by the accepted set itself.
    if (sentTotal) outcomes.accepted = sentTotal;
    for (const [status, n] of Object.entries(counts)) if (status !== 'accepted') outcomes[status] = Number(n);
    const failedAll = (outcomes['failed-permanent'] ?? 0) + (outcomes['failed-temporary'] ?? 0);
    const byWorker = new Map<string, WorkerStatus>();
    for (const [field, value] of Object.entries(workers)) {
      const cut = field.lastIndexOf('|');
      const name = field.slice(0, cut);
      const worker = byWorker.get(name) ?? { name, sent: 0, failed: 0, batches: 0, lastSeen: null, live: live?.has(name) ?? false };
      const what = field.slice(cut + 1);
      if (what === 'seen') worker.lastSeen = value;
      else if (what === 'sent' || what === 'failed' || what === 'batches') worker[what] = Number(value);
      byWorker.set(name, worker);
    }
    let runStatus: QueueStatus['run'] = null;
    if (run.total !== undefined) {
      const total = Number(run.total);
      const sent = sentTotal - Number(run.acceptedAtStart ?? 0);
      const failed = failedAll - Number(run.failedAtStart ?? 0);
      runStatus = {
        total,
        sent,
        failed,
        pending: Math.max(0, total - sent - failed - Number(run.suppressedLate ?? 0)),
        startedAt: run.startedAt ?? null,
        finishedAt: run.finishedAt ?? null,
        streamed: run.streamed === '1',
        failedBatches: Number(run.failedBatches ?? 0),
        lastBatchError: run.lastBatchError ?? null,
      };
    }
    const state: QueueStatus['state'] =
      runStatus === null && sentTotal === 0 ? 'none' : batches.pending > 0 ? 'running' : runStatus !== null && !runStatus.streamed ? 'stopped' : 'done';
    // A live worker that has not taken a batch of this issue yet is listed too.
    for (const name of live ?? []) if (!byWorker.has(name)) byWorker.set(name, { name, sent: 0, failed: 0, batches: 0, lastSeen: null, live: true });
    const workerList = [...byWorker.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { issueSlug: key.issueSlug, state, sentTotal, outcomes, run: runStatus, batches, workers: workerList, liveWorkers: live ? live.size : null };
  } finally {
    await queue.close().catch(() => undefined);
    await store.close();
  }
}

/**
 * The names of the workers connected to the queue now: BullMQ names each worker's connection
 * `<prefix>:<queue>:w:<name>` (CLIENT SETNAME), and CLIENT LIST shows the open ones, so a worker
 * that was killed drops out at once. Null when the Redis refuses CLIENT LIST (some hosted ones).
 */
export async function liveWorkerNames(queue: Queue): Promise<Set<string> | null> {
  const clients = await queue.getWorkers();
  // BullMQ's answer when the Redis refuses CLIENT LIST.
  if (clients.some((client) => client.name === 'GCP does not support client list')) return null;
  const names = new Set<string>();
  for (const client of clients) {
    // BullMQ puts the queue's name in `name` and the connection's own name in `rawname`.
    const name = client.rawname ?? '';
    const cut = name.indexOf(':w:');
    // An unnamed BullMQ worker (not started by `newsletter worker`) still counts, by its address.
    names.add(cut >= 0 ? name.slice(cut + 3) : `unnamed ${client.addr ?? ''}`.trim());
  }
  return names;
}
