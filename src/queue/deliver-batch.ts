import type { Recipient } from '../config/defaults.js';
import type { OutcomeRecord } from '../send/journal.js';
import { backoffDelay, classifyFailure, sleep } from '../send/retry.js';
import type { Deliverer } from '../send/transport.js';
import type { RateSlot, RedisJournal } from '../store/redis/redis-store.js';
import { recipientOf, type BatchData, type BatchRow, type RestoredSend } from './payload.js';

/**
 * One batch on a worker: `concurrency` slots, each taking the next row, checking it against the
 * suppressions and the accepted set, delivering it with the local send's retry rules (4xx: retry
 * with backoff; 5xx: record, and suppress a bounced address), then recording the outcome. The
 * record of one message and the check of the slot's next one go in a single round trip
 * right after the server's reply, so at most `concurrency` messages are accepted-but-unrecorded:
 * the bound on duplicates if the worker is killed.
 *
 * A failure without any SMTP reply (refused, dropped, timed out) or failed authentication is the
 * worker's problem, not the recipient's: nothing is recorded for it, the batch stops and goes
 * back to the queue (its attempts untouched), and the worker backs off (worker.ts).
 */

export interface BatchOptions {
  rows: BatchRow[];
  /** Copies the coordinator rendered, by row index (BatchData.copies). */
  copies?: BatchData['copies'];
  restored: RestoredSend;
  journal: RedisJournal;
  deliverer: Deliverer;
  concurrency: number;
  worker: string;
  /** Aborted by SIGTERM: finish the messages in flight, take no new ones. */
  signal: AbortSignal;
  /** The send's global schedule (`--rate`), booked in the same round trip as each check. */
  rate: RateSlot | null;
  onBounce: (email: string, reason: string) => Promise<void>;
  onRetry: (email: string, line: number, attempt: number, delayMs: number, reason: string) => void;
}

export interface BatchOutcome {
  sent: number;
  failed: number;
  skipped: number;
  /** Rows not finished: why the batch goes back to the queue, or null when every row is done. */
  handBack: { kind: 'unreachable' | 'refused' | 'stopping'; reason: string } | null;
}

type Delivery = { record: OutcomeRecord } | { handBack: NonNullable<BatchOutcome['handBack']> };

async function deliverOne(options: BatchOptions, recipient: Recipient, line: number): Promise<Delivery> {
  const { rules } = options.restored.payload;
  const message = await options.restored.template.build(recipient);
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await options.deliverer.deliver(message, { email: recipient.email, line });
      return { record: { status: 'accepted', email: recipient.email, line, at: new Date().toISOString(), destination: 'smtp', messageId: message.messageId, response, attempts: attempt } };
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.kind === 'fatal') return { handBack: { kind: 'refused', reason: failure.reason } };
      if (failure.kind === 'temporary' && typeof (error as { responseCode?: unknown }).responseCode !== 'number') {
        return { handBack: { kind: 'unreachable', reason: failure.reason } };
      }
      const outOfTries = failure.kind === 'permanent' || attempt > rules.retries;
      if (!outOfTries) {
        const delayMs = backoffDelay(attempt, rules.retryDelayMs, rules.maxRetryDelayMs);
        options.onRetry(recipient.email, line, attempt, delayMs, failure.reason);
        if (await sleep(delayMs, options.signal)) continue;
        // Stopping while waiting to retry: no outcome, so whoever takes the batch sends it.
        return { handBack: { kind: 'stopping', reason: 'stopping' } };
      }
      if (failure.kind === 'permanent' && failure.bounce) await options.onBounce(recipient.email, failure.reason);
      const status = failure.kind === 'permanent' ? 'failed-permanent' : 'failed-temporary';
      return { record: { status, email: recipient.email, line, at: new Date().toISOString(), destination: 'smtp', messageId: message.messageId, reason: failure.reason, attempts: attempt } };
    }
  }
}

export async function deliverBatch(options: BatchOptions): Promise<BatchOutcome> {
  const { rows, journal, worker } = options;
  const { rowFields } = options.restored.payload;
  const outcome: BatchOutcome = { sent: 0, failed: 0, skipped: 0, handBack: null };
  let next = 0;
  const halted = () => outcome.handBack !== null || options.signal.aborted;

  const slot = async () => {
    let pending: OutcomeRecord | null = null;
    try {
      while (!halted() && next < rows.length) {
        const index = next++;
        const row = rows[index]!;
        const recipient = recipientOf(row, rowFields);
        const check = (await journal.recordAndCheck(pending, recipient.email, worker, options.rate))!;
        pending = null;
        if (check.accepted) {
          outcome.skipped++;
          continue;
        }
        if (check.suppressed) {
          outcome.skipped++;
          pending = { status: 'skipped-suppressed', email: recipient.email, line: row[0], at: new Date().toISOString(), destination: 'smtp', reason: 'on the suppression list (added while the send ran)' };
          continue;
        }
        const copy = options.copies?.[index];
        if (copy) options.restored.copies.set(recipient, copy);
        if (check.waitMs > 0 && !(await sleep(check.waitMs, options.signal))) break;
        const delivery = await deliverOne(options, recipient, row[0]);
        if ('handBack' in delivery) {
          outcome.handBack ??= delivery.handBack;
          continue;
        }
        pending = delivery.record;
        if (delivery.record.status === 'accepted') outcome.sent++;
        else outcome.failed++;
      }
    } finally {
      // The last record, and this worker's pending counts.
      await journal.recordAndCheck(pending, null, worker);
    }
  };

  // Every slot ends (its in-flight message recorded) before an error is passed on.
  const ends = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(options.concurrency, rows.length)) }, slot));
  const failure = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
  if (failure) throw failure.reason;
  if (!outcome.handBack && outcome.sent + outcome.failed + outcome.skipped < rows.length) outcome.handBack = { kind: 'stopping', reason: 'the worker is stopping' };
  return outcome;
}
