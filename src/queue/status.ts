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
      const worker = byWorker.get(name) ?? { name, sent: 0, failed: 0, batches: 0, lastSeen: null };
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
    return { issueSlug: key.issueSlug, state, sentTotal, outcomes, run: runStatus, batches, workers: [...byWorker.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  } finally {
    await queue.close().catch(() => undefined);
    await store.close();
  }
}
