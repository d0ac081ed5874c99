import { hostname } from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import nodemailer from 'nodemailer';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { backoffDelay, sleep } from '../send/retry.js';
import { createDeliverer, maskSmtpUrl, smtpChoice, smtpConnection, type Deliverer } from '../send/transport.js';
import { DEFAULT_PREFIX } from '../store/redis/keys.js';
import { RedisStore, type RedisJournal } from '../store/redis/redis-store.js';
import { deliverBatch, type BatchOutcome } from './deliver-batch.js';
import { parsePayload, restoreSend, type BatchData, type RestoredSend } from './payload.js';
import { smtpBounceEntry } from '../store/suppression-entry.js';
import { BATCH_JOB_OPTIONS, bullConnection, QUEUE_NAME } from './queue-names.js';

/**
 * `newsletter worker`: takes batches from the queue one at a time and sends each through its own
 * nodemailer pool (deliver-batch.ts). What BullMQ gives: a batch is locked to the worker that
 * took it, the lock renewed while it works; a worker that dies (kill -9) stops renewing, and
 * another worker's stalled check puts the batch back in the queue, where the next taker skips
 * the rows already recorded. What this adds: the send's payload fetched once per send, the SMTP
 * back-off (batches handed back untouched while the server is unreachable), the global rate, and
 * SIGTERM handling: the messages in flight finish and are recorded, the rest goes back.
 */

export interface WorkerOptions {
  redisUrl: string;
  prefix?: string | undefined;
  smtpUrl: string;
  secret: string;
  /** Messages in flight (and SMTP connections) of this worker. */
  concurrency?: number | undefined;
  /** Shown in logs and `status`; default `host:pid`. */
  name?: string | undefined;
  /** How long a batch stays locked to a worker that stopped renewing (BullMQ lockDuration). */
  lockMs?: number | undefined;
  log: (line: string) => void;
  cwd: string;
}

export interface RunningWorker {
  name: string;
  /** Finishes the messages in flight, hands the rest of the batch back, closes everything. */
  stop(): Promise<void>;
}

const HAND_BACK_DELAY_MS = 100;

interface SendContext {
  restored: RestoredSend;
  deliverer: Deliverer;
  journal: RedisJournal;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const concurrency = options.concurrency ?? DEFAULTS.send.concurrency;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const smtp = smtpChoice(options.smtpUrl);
  const store = await RedisStore.open({ url: options.redisUrl, prefix, name: `newsletter-worker ${name}` });
  const stopping = new AbortController();
  const sends = new Map<string, Promise<SendContext>>();
  let backingOff: Promise<void> | null = null;

  const contextFor = (data: BatchData): Promise<SendContext> => {
    const id = `${data.listId}\n${data.issueSlug}\n${data.payload}`;
    let context = sends.get(id);
    if (!context) {
      context = (async () => {
        const journalKey = { listId: data.listId, issueSlug: data.issueSlug };
        const journal = await store.journal(journalKey);
        const text = await store.redis.get(`${journal.keys.payload}:${data.payload}`);
        if (text === null) throw new NewsletterError('QUEUE_UNAVAILABLE', `the payload of ${data.issueSlug} is missing from Redis (was it flushed?)`, { hint: 'run the same `send --queue` again: it stores the payload and requeues the rest' });
        const restored = await restoreSend(parsePayload(text), options.secret);
        const deliverer = await createDeliverer(smtp, { concurrency, socketTimeoutMs: DEFAULTS.send.socketTimeoutMs, config: restored.payload.config }, options.cwd);
        return { restored, deliverer, journal };
      })();
      context.catch(() => sends.delete(id));
      sends.set(id, context);
    }
    return context;
  };

  // While the SMTP server cannot be reached this worker takes no batches; it probes the server
  // with the send's backoff and resumes when it answers.
  const probe = nodemailer.createTransport({ ...smtpConnection(options.smtpUrl).options, connectionTimeout: 5000, greetingTimeout: 5000 } as never);
  const backOff = (reason: string, baseMs: number, maxMs: number, check: () => Promise<unknown> = () => probe.verify()) => {
    backingOff ??= (async () => {
      await worker.pause(true);
      for (let attempt = 1; !stopping.signal.aborted; attempt++) {
        const delayMs = backoffDelay(attempt, baseMs, maxMs);
        options.log(`${name}: ${reason}; batches go back to the queue; next try in ${(delayMs / 1000).toFixed(1)} s`);
        if (!(await sleep(delayMs, stopping.signal))) break;
        try {
          await check();
          options.log(`${name}: taking batches again`);
          break;
        } catch (error) {
          reason = (error as Error).message;
        }
      }
      if (!stopping.signal.aborted) worker.resume();
      backingOff = null;
    })();
  };

  const processBatch = async (job: Job<BatchData>, token?: string): Promise<BatchOutcome> => {
    const data = job.data;
    const started = performance.now();
    let context: SendContext;
    try {
      context = await contextFor(data);
    } catch (error) {
      // This worker cannot send this issue (another secret, another version, a missing DKIM
      // key): the batch goes back untouched for a worker that can, and this one waits.
      const reason = error instanceof NewsletterError ? error.format() : (error as Error).message;
      await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
      backOff(`cannot send ${data.issueSlug}: ${reason}`, 15_000, DEFAULTS.send.maxRetryDelayMs, async () => undefined);
      throw new DelayedError();
    }
    const { rules } = context.restored.payload;
    const keys = context.journal.keys;
    const interval = rules.rate ? 1000 / rules.rate : 0;
    const outcome = await deliverBatch({
      rows: data.rows,
      copies: data.copies,
      restored: context.restored,
      journal: context.journal,
      deliverer: context.deliverer,
      concurrency,
      worker: name,
      signal: stopping.signal,
      rate: interval ? { key: keys.rateSlot, intervalMs: interval } : null,
      onBounce: async (email, reason) => {
        await store.suppressions.add(email, smtpBounceEntry(reason, data.issueSlug));
      },
      onRetry: (email, line, attempt, delayMs, reason) => options.log(`${name}: retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: line ${line} ${email}: ${reason}`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const counts = `${outcome.sent} sent, ${outcome.failed} failed, ${outcome.skipped} skipped`;
    await store.redis.hset(keys.workers, `${name}|seen`, new Date().toISOString());
    if (outcome.handBack) {
      options.log(`${name}: ${data.issueSlug} batch ${data.batch}: ${counts} of ${data.rows.length} in ${seconds} s; the rest goes back to the queue (${outcome.handBack.reason})`);
      await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
      const where = `SMTP ${smtp.display}: ${outcome.handBack.reason}`;
      if (outcome.handBack.kind === 'unreachable') backOff(where, rules.retryDelayMs, rules.maxRetryDelayMs);
      if (outcome.handBack.kind === 'refused') backOff(where, rules.maxRetryDelayMs / 4, rules.maxRetryDelayMs);
      throw new DelayedError();
    }
    await store.redis.multi().srem(keys.pending, job.id!).hincrby(keys.workers, `${name}|batches`, 1).exec();
    options.log(`${name}: ${data.issueSlug} batch ${data.batch}: ${data.rows.length} rows: ${counts} in ${seconds} s`);
    return outcome;
  };

  const worker = new Worker<BatchData, BatchOutcome>(QUEUE_NAME, processBatch, {
    connection: bullConnection(options.redisUrl),
    prefix,
    // Names the connection in Redis, so `status` and `send --queue` see this worker live.
    name,
    concurrency: 1,
    lockDuration: options.lockMs ?? 30_000,
    stalledInterval: Math.max(500, Math.round((options.lockMs ?? 30_000) / 2)),
    // A batch whose worker died is handed on; only a batch that kills every worker fails.
    maxStalledCount: 5,
    autorun: false,
  });
  worker.on('error', (error) => options.log(`${name}: ${error.message}`));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? BATCH_JOB_OPTIONS.attempts);
    options.log(`${name}: ${job.data.issueSlug} batch ${job.data.batch} failed${final ? '' : ', will retry'}: ${error.message}`);
    if (final) {
      const keys = store.keys({ listId: job.data.listId, issueSlug: job.data.issueSlug });
      void store.redis
        .multi()
        .srem(keys.pending, job.id!)
        .hset(keys.run, 'lastBatchError', `batch ${job.data.batch}: ${error.message}`)
        .hincrby(keys.run, 'failedBatches', 1)
        .exec()
        .catch(() => undefined);
    }
  });
  const running = worker.run();
  await worker.waitUntilReady();
  options.log(`${name}: waiting for batches on ${store.display} (${concurrency} at a time, SMTP ${maskSmtpUrl(options.smtpUrl)})`);

  let stopped: Promise<void> | null = null;
  return {
    name,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await worker.close();
        await running.catch(() => undefined);
        await backingOff;
        probe.close();
        for (const context of sends.values()) await context.then((c) => c.deliverer.close()).catch(() => undefined);
        await store.close();
      })();
      return stopped;
    },
  };
}
