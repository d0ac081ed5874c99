import type { Recipient } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import type { JournalRecord, OutcomeRecord } from './journal.js';
import type { MessageTemplate } from './message-template.js';
import { backoffDelay, classifyFailure, RateLimiter, sleep } from './retry.js';
import type { Deliverer } from './transport.js';

/**
 * The workers: `concurrency` of them, each taking one recipient at a time from the shared source,
 * building its message, delivering it (retrying temporary failures with backoff) and waiting for
 * the outcome to be journaled before taking the next. So at any moment at most `concurrency`
 * messages are accepted-but-not-yet-journaled: the bound on duplicates after a crash.
 */

export interface Job {
  line: number;
  recipient: Recipient;
}

export interface FailedRecipient {
  email: string;
  line: number;
  status: 'failed-permanent' | 'failed-temporary';
  reason: string;
  attempts: number;
}

export type DispatchEvent =
  | { type: 'outcome'; record: OutcomeRecord }
  | { type: 'retry'; email: string; line: number; attempt: number; delayMs: number; reason: string };

export interface DispatchOptions {
  concurrency: number;
  rate: number | null;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  template: MessageTemplate;
  deliverer: Deliverer;
  /** Resolves once the record is durable; null for test sends, which are not journaled. */
  record: ((record: JournalRecord) => Promise<void>) | null;
  onBounce: (email: string, reason: string) => Promise<void>;
  onEvent: (event: DispatchEvent) => void;
  signal?: AbortSignal | undefined;
}

export interface DispatchResult {
  sent: number;
  /** Accepted by the destination, but the journal could not record it. */
  unrecorded: number;
  /** The first MAX_FAILED_KEPT failures; failedCount counts all. */
  failed: FailedRecipient[];
  failedCount: number;
  /** Why sending stopped before the end of the list, if it did. */
  stopped: NewsletterError | null;
  interrupted: boolean;
}

const MAX_FAILED_KEPT = 100;

/** Consecutive recipients failing for lack of a server before the send gives up (rerun resumes). */
function breakerLimit(concurrency: number): number {
  return Math.max(10, concurrency * 2);
}

export async function dispatch(jobs: AsyncIterator<Job>, options: DispatchOptions): Promise<DispatchResult> {
  const result: DispatchResult = { sent: 0, unrecorded: 0, failed: [], failedCount: 0, stopped: null, interrupted: false };
  const limiter = options.rate ? new RateLimiter(options.rate) : null;
  let consecutiveFailures = 0;
  const halted = () => result.stopped !== null || options.signal?.aborted === true;

  const finish = async (record: OutcomeRecord) => {
    if (options.record) await options.record(record);
    options.onEvent({ type: 'outcome', record });
  };

  const deliverOne = async (job: Job) => {
    const { recipient, line } = job;
    const message = await options.template.build(recipient);
    for (let attempt = 1; ; attempt++) {
      let response: string;
      try {
        response = await options.deliverer.deliver(message, { email: recipient.email, line });
      } catch (error) {
        const failure = classifyFailure(error);
        if (failure.kind === 'fatal') {
          result.stopped ??= new NewsletterError('SEND_CONFIG', `the server refused the send: ${failure.reason}`, { cause: error, hint: failure.hint });
          return;
        }
        const outOfTries = failure.kind === 'permanent' || attempt > options.retries;
        if (!outOfTries && !halted()) {
          const delayMs = backoffDelay(attempt, options.retryDelayMs, options.maxRetryDelayMs);
          options.onEvent({ type: 'retry', email: recipient.email, line, attempt, delayMs, reason: failure.reason });
          if (await sleep(delayMs, options.signal)) continue;
        }
        if (!outOfTries) {
          // Interrupted while waiting to retry: no outcome, so the next run sends it.
          result.interrupted = true;
          return;
        }
        const status = failure.kind === 'permanent' ? 'failed-permanent' : 'failed-temporary';
        if (++result.failedCount <= MAX_FAILED_KEPT) result.failed.push({ email: recipient.email, line, status, reason: failure.reason, attempts: attempt });
        if (failure.kind === 'permanent' && failure.bounce) await options.onBounce(recipient.email, failure.reason);
        await finish({ status, email: recipient.email, line, at: new Date().toISOString(), messageId: message.messageId, reason: failure.reason, attempts: attempt });
        if (failure.kind === 'temporary' && ++consecutiveFailures >= breakerLimit(options.concurrency)) {
          result.stopped ??= new NewsletterError('SEND_FAILED', `stopped after ${consecutiveFailures} recipients in a row failed: ${failure.reason}`, {
            hint: 'the recipients not tried yet have no journal record; run the same command again to resume',
          });
        }
        return;
      }
      // Delivered: from here on a failure is the journal's, never a reason to send it again.
      consecutiveFailures = 0;
      result.sent++;
      try {
        await finish({ status: 'accepted', email: recipient.email, line, at: new Date().toISOString(), messageId: message.messageId, response, attempts: attempt });
      } catch (error) {
        result.unrecorded++;
        throw error;
      }
      return;
    }
  };

  const worker = async () => {
    try {
      while (!halted()) {
        const next = await jobs.next();
        if (next.done) return;
        if (limiter && !(await limiter.take(options.signal))) {
          result.interrupted = true;
          return;
        }
        await deliverOne(next.value);
      }
      if (options.signal?.aborted) result.interrupted = true;
    } catch (error) {
      // A list error or a journal that cannot be written stops every worker; in-flight
      // deliveries finish first, so their outcomes are still recorded.
      result.stopped ??= error instanceof NewsletterError ? error : new NewsletterError('INTERNAL', (error as Error).message, { cause: error });
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return result;
}
