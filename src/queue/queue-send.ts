import { Queue } from 'bullmq';
import type { Recipient } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { loadIssue } from '../content/load-issue.js';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { refuseExampleAddresses } from '../send/real-addresses.js';
import { PREVIEW_SECRET } from '../render/links.js';
import { compileIssue, recipientFields, valueClass } from '../render/personalize.js';
import type { FailedRecipient } from '../send/dispatch.js';
import type { OutcomeRecord } from '../send/journal.js';
import { collectGarbage } from '../send/memory.js';
import { countDecision, emptyCounts, RecipientFilter, suppressedReasons, type ListCounts } from '../send/recipient-filter.js';
import { AddressSet } from '../send/hash-set.js';
import type { SubscriberList } from '../send/recipients.js';
import { journalKey as journalKeyFor, recipientsOf, refuseUnreadableSuppressions, type SendEvent, type SendPlan, type SendRequest, type SendResult } from '../send/send-issue.js';
import { sleep } from '../send/retry.js';
import { DEFAULT_PREFIX } from '../store/redis/keys.js';
import { openStore } from '../store/index.js';
import type { RedisJournal, RedisStore } from '../store/redis/redis-store.js';
import { openSharedStore } from '../store/redis/shared-store.js';
import { makePayload, rowOf, type BatchData, type BatchRow } from './payload.js';
import { BATCH_JOB_OPTIONS, bullConnection, QUEUE_NAME } from './queue-names.js';
import { liveWorkerNames } from './status.js';

/**
 * `send --queue`: the coordinator of a distributed send. In order: take the issue's lock in
 * Redis; read the journal (accepted addresses) and the suppressions from Redis; count the list;
 * compile the issue once and store it as the send's payload; stream the list into batch jobs;
 * follow the journal's counts until every batch is done. The workers (worker.ts) do the sending.
 *
 * Batch k holds the rows to send among list entries [k·size, (k+1)·size), and its job id is made
 * from the send and k: a rerun makes the same batches minus what was accepted since, so adding
 * one still queued is a no-op (BullMQ keeps one job per id) and a finished one comes back only
 * with its unsent rows. That is how a rerun (after Ctrl-C, or a crash of this process) reattaches.
 * Only one batch of rows is in memory at a time.
 */

export interface QueueSendRequest extends Omit<SendRequest, 'transport' | 'testTo' | 'concurrency' | 'journalSync' | 'onEvent'> {
  /** redis://… */
  queue: string;
  prefix?: string | undefined;
  batchSize?: number | undefined;
  onEvent?: ((event: QueueSendEvent) => void) | undefined;
  /** How often progress is read from Redis (ms). */
  pollMs?: number | undefined;
}

export type QueueSendEvent = SendEvent | { type: 'progress'; sent: number; failed: number; total: number; pendingBatches: number };

export interface QueueSendResult extends SendResult {
  /** The coordinator stopped following (Ctrl-C) while the workers go on. */
  detached: boolean;
  /** Batches that failed on every attempt (their unsent rows have no record; a rerun requeues them). */
  failedBatches: number;
}

export const DEFAULT_BATCH_SIZE = 500;
const LARGE_LIST = 100_000;
const MAX_FAILED_KEPT = 100;
/** Batches added per round trip while streaming. */
const ADD_GROUP = 20;
const GC_EVERY_BATCHES = 100;

async function countList(list: SubscriberList, filter: RecipientFilter, suppressedSeen: AddressSet): Promise<ListCounts> {
  const counts = emptyCounts();
  for await (const batch of list.batches()) for (const entry of batch) countDecision(counts, filter.decide(entry), suppressedSeen);
  return counts;
}

function failedTotal(counts: Record<string, string>): number {
  return Number(counts['failed-permanent'] ?? 0) + Number(counts['failed-temporary'] ?? 0);
}

export async function queueSend(request: QueueSendRequest): Promise<QueueSendResult> {
  const started = performance.now();
  const { config, templates } = request.project;
  const emit = (event: QueueSendEvent) => request.onEvent?.(event);
  const dryRun = request.dryRun === true;
  const batchSize = request.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new NewsletterError('USAGE', `batch size must be a whole number ≥ 1, got \`${batchSize}\``);
  if (!dryRun && request.secret === PREVIEW_SECRET) {
    throw new NewsletterError('SEND_CONFIG', 'NEWSLETTER_SECRET is not set: unsubscribe links would carry tokens your unsubscribe page cannot check', {
      hint: 'set NEWSLETTER_SECRET in the environment or in .env, here and on every worker',
    });
  }

  await refuseExampleAddresses(config, { smtp: true, dryRun, testTo: false }, (message) => emit({ type: 'notice', message }));
  const issue = await loadIssue(config.paths.content, request.issueSlug, config.paths.cwd);
  const prefix = request.prefix ?? DEFAULT_PREFIX;
  const store = await openSharedStore(request.queue, await openStore(config, { cwd: request.cwd }), { prefix, name: 'newsletter-send' });
  // The list file, the subscribers in the shared store (no --list), or both (--subscribers).
  let list: SubscriberList;
  let fields: readonly string[];
  try {
    list = await recipientsOf(request, store);
    ({ fields } = recipientFields(issue, { templates, fields: list.columns, listName: list.display }));
  } catch (error) {
    await store.close();
    throw error;
  }
  const compileOptions = { config, templates, secret: request.secret, fields: list.columns, listName: list.display };
  if (store.imported) emit({ type: 'notice', message: `merged ${store.imported} address${store.imported > 1 ? 'es' : ''} of ${displayPath(config.suppressions, request.cwd)} into the shared suppression list in Redis` });
  const journalKey = journalKeyFor(request.project, issue.slug);
  const keys = store.keys(journalKey);
  let queue: Queue | null = null;
  let lock: Awaited<ReturnType<RedisStore['lock']>> | null = null;
  try {
    if (!dryRun) {
      lock = await store.lock(journalKey);
      if (lock.takenOverFrom) emit({ type: 'notice', message: `took over the lock of an earlier send that is no longer running (${lock.takenOverFrom}); resuming from the journal` });
    }
    const journal = await store.journal(journalKey);
    if (request.restart && !dryRun) {
      const backup = await journal.restart();
      emit({ type: 'notice', message: backup ? `starting over: the earlier journal is kept as ${backup}` : 'starting over (there was no journal yet)' });
    }
    const destination = { kind: 'smtp' as const, id: `queue ${store.display}` };
    const state = await journal.read(destination);
    const suppressed = await store.suppressions.load();
    refuseUnreadableSuppressions(await store.suppressions.problems());
    const filterInput = { suppressed, accepted: state.accepted, requiredFields: list.format === 'json' ? fields : [], listDisplay: list.display };
    const suppressedSeen = new AddressSet(16);
    const counts = await countList(list, new RecipientFilter(filterInput), suppressedSeen);
    counts.suppressedBy = await suppressedReasons(store.suppressions, suppressedSeen);
    if (counts.rows > LARGE_LIST) collectGarbage();
    const compiled = await compileIssue(issue, compileOptions);
    if (compiled.assets.some((asset) => asset.cid)) {
      // Workers on other machines cannot read this machine's processed image files.
      throw new NewsletterError('SEND_CONFIG', `\`images: "embed"\` cannot go through --queue: the workers would have no image files to attach`, {
        file: config.paths.config ? displayPath(config.paths.config, request.cwd) : undefined,
        hint: 'host the images (the default: set siteUrl and publish <out>/assets/), or send from this machine without --queue',
      });
    }
    const rules = {
      retries: request.retries ?? DEFAULTS.send.retries,
      retryDelayMs: request.retryDelayMs ?? DEFAULTS.send.retryDelayMs,
      maxRetryDelayMs: DEFAULTS.send.maxRetryDelayMs,
      rate: request.rate ?? null,
    };
    const { payload, text, digest } = makePayload(compiled, config, request.secret, rules);
    const plan: SendPlan = {
      issueSlug: issue.slug,
      subject: issue.subject,
      transport: `queue ${store.display} (the workers' SMTP)`,
      destination,
      list: list.display,
      testTo: null,
      counts,
      outboxCopies: state.outboxCopies,
      restart: request.restart === true,
      personalization: compiled.mode,
      fallbackReason: compiled.fallbackReason,
      journal: journal.location,
    };
    emit({ type: 'plan', plan });
    const result: QueueSendResult = { plan, dryRun, sent: 0, unrecorded: 0, failed: [], failedCount: 0, interrupted: false, durationMs: 0, detached: false, failedBatches: 0 };
    const pendingNow = dryRun ? 0 : await store.redis.scard(keys.pending);
    if (dryRun || (counts.toSend === 0 && pendingNow === 0)) {
      result.durationMs = performance.now() - started;
      return result;
    }
    if (request.confirm && !(await request.confirm(plan))) throw new NewsletterError('SEND_CONFIG', 'not confirmed: nothing was sent');

    const acceptedAtStart = state.accepted.size;
    const failedAtStart = failedTotal(await store.redis.hgetall(keys.counts));
    const recordsAtStart = await store.redis.llen(keys.records);
    await store.redis
      .multi()
      .set(`${keys.payload}:${digest}`, text)
      .del(keys.run)
      .hset(keys.run, { total: counts.toSend, startedAt: new Date().toISOString(), streamed: 0, batchSize, acceptedAtStart, failedAtStart, pid: process.pid })
      .exec();
    await journal.append({ status: 'run', at: new Date().toISOString(), pid: process.pid, transport: plan.transport, list: list.display, destination });
    queue = new Queue(QUEUE_NAME, { connection: bullConnection(request.queue), prefix });
    queue.on('error', () => undefined);
    emit({ type: 'start', total: counts.toSend });

    const streamed = await streamBatches({ list, filter: new RecipientFilter(filterInput), journal, queue, store, keysId: keys.id, pendingKey: keys.pending, batchSize, payload: { digest, rowFields: payload.rowFields }, compiled, journalKey, emit, signal: request.signal });
    if (streamed) await store.redis.hset(keys.run, 'streamed', 1);

    // Follow: the journal's counts, the failures as they are recorded, until no batch is pending.
    let recordsSeen = recordsAtStart;
    let lastJobCheck = performance.now();
    const pollMs = request.pollMs ?? 250;
    const watch = new WorkerWatch(queue, store.display, emit);
    for (;;) {
      const [[, accepted], [, outcomeCounts], [, pending], [, run]] = (await store.redis
        .multi()
        .scard(keys.accepted('smtp'))
        .hgetall(keys.counts)
        .scard(keys.pending)
        .hgetall(keys.run)
        .exec()) as [[null, number], [null, Record<string, string>], [null, number], [null, Record<string, string>]];
      const fresh = await journal.records(recordsSeen);
      recordsSeen = fresh.next;
      for (const record of fresh.records) {
        if (!record.status.startsWith('failed')) continue;
        result.failedCount++;
        if (result.failed.length < MAX_FAILED_KEPT) result.failed.push(failedOf(record));
        emit({ type: 'outcome', record });
      }
      result.sent = accepted - acceptedAtStart;
      // Unsubscribed or bounced (by another send) after the plan: skipped by a worker, part of the summary.
      result.suppressedLate = Number(run.suppressedLate ?? 0);
      result.failedCount = Math.max(result.failedCount, failedTotal(outcomeCounts) - failedAtStart);
      result.failedBatches = Number(run.failedBatches ?? 0);
      emit({ type: 'progress', sent: result.sent, failed: result.failedCount, total: counts.toSend, pendingBatches: pending });
      if (!streamed) {
        result.interrupted = true;
        result.detached = true;
        break;
      }
      if (pending === 0) {
        await watch.settle();
        await store.redis.hset(keys.run, 'finishedAt', new Date().toISOString());
        break;
      }
      if (performance.now() - lastJobCheck > 2000) {
        lastJobCheck = performance.now();
        await forgetLostBatches(store, queue, keys.pending, emit);
      }
      await watch.check(pending);
      if (!(await sleep(pollMs, request.signal))) {
        result.interrupted = true;
        result.detached = true;
        break;
      }
    }
    if (result.failedBatches) result.interrupted = true;
    result.durationMs = performance.now() - started;
    return result;
  } finally {
    await queue?.close().catch(() => undefined);
    await lock?.release().catch(() => undefined);
    await store.close();
  }
}

function failedOf(record: OutcomeRecord): FailedRecipient {
  return { email: record.email, line: record.line, status: record.status as FailedRecipient['status'], reason: record.reason ?? '', attempts: record.attempts ?? 1 };
}

interface StreamInput {
  list: SubscriberList;
  filter: RecipientFilter;
  journal: RedisJournal;
  queue: Queue;
  store: RedisStore;
  keysId: string;
  pendingKey: string;
  batchSize: number;
  payload: { digest: string; rowFields: string[] };
  compiled: Awaited<ReturnType<typeof compileIssue>>;
  journalKey: { listId: string; issueSlug: string };
  emit: (event: QueueSendEvent) => void;
  signal?: AbortSignal | undefined;
}

/** Streams the list into batch jobs; false when interrupted before the end of the list. */
async function streamBatches(input: StreamInput): Promise<boolean> {
  const { batchSize, compiled } = input;
  let group: { name: string; data: BatchData; opts: { jobId: string } & typeof BATCH_JOB_OPTIONS }[] = [];
  let batch = -1;
  let rows: BatchRow[] = [];
  let copies: BatchData['copies'];
  let index = 0;
  let added = 0;
  const flushGroup = async () => {
    if (!group.length) return;
    // Pending first: a worker that finishes the job removes it from there.
    await input.store.redis.sadd(input.pendingKey, ...group.map((job) => job.opts.jobId));
    await input.queue.addBulk(group);
    added += group.length;
    group = [];
    // Every batch's rows survive long enough to reach the old generation, where V8 lets them
    // pile up (peak RSS 290 MB for a million rows instead of ~200): a full collection now and
    // then keeps the coordinator flat in the list's length.
    if (added % GC_EVERY_BATCHES < ADD_GROUP) collectGarbage();
  };
  const closeBatch = async () => {
    if (rows.length) {
      const data: BatchData = { listId: input.journalKey.listId, issueSlug: input.journalKey.issueSlug, payload: input.payload.digest, batch, rows, ...(copies ? { copies } : {}) };
      group.push({ name: `${input.journalKey.issueSlug}#${batch}`, data, opts: { jobId: `${input.keysId}-${batch}`, ...BATCH_JOB_OPTIONS } });
      if (group.length >= ADD_GROUP) await flushGroup();
    }
    rows = [];
    copies = undefined;
  };
  for await (const entry of input.list.entries()) {
    if (input.signal?.aborted) {
      await closeBatch();
      await flushGroup();
      return false;
    }
    const k = Math.floor(index++ / batchSize);
    if (k !== batch) {
      await closeBatch();
      batch = k;
    }
    const decision = input.filter.decide(entry);
    if (decision.kind === 'send') {
      const recipient: Recipient = decision.recipient;
      // Values the slots cannot carry (a line break, an edge space where MJML trims): rendered here.
      if (!slotsCarry(compiled, recipient)) (copies ??= {})[rows.length] = await compiled.personalize(recipient);
      rows.push(rowOf(recipient, decision.line, input.payload.rowFields));
    } else if (decision.kind === 'skip') {
      const record: OutcomeRecord = { status: decision.status, email: decision.email, line: decision.line, at: new Date().toISOString(), destination: 'smtp', reason: decision.reason };
      await input.journal.append(record);
      input.emit({ type: 'skip', record });
    }
  }
  await closeBatch();
  await flushGroup();
  return true;
}

/**
 * compiled.slotSafe without computing the unsubscribe URL (an HMAC, the costliest part of a row
 * here): the URL is always of the `ordinary` class, which slots mode has proved safe.
 */
function slotsCarry(compiled: StreamInput['compiled'], recipient: Recipient): boolean {
  for (const field of compiled.fields) {
    const value = recipient[field];
    if (!compiled.safeClasses.has(valueClass(value === undefined || value === null ? '' : String(value)))) return false;
  }
  return true;
}

/**
 * Says when nobody is working: batches queued and no worker connected to the queue for
 * DEFAULTS.send.noWorkerNoticeMs, with the command that starts one; and says so again when one
 * connects. A worker counts from its open connection (CLIENT LIST), not from the batches it took,
 * so a slow first batch is not mistaken for no worker.
 */
class WorkerWatch {
  private seenAt = performance.now();
  private checkedAt = 0;
  private said = false;
  private readonly intervalMs = Math.min(1000, DEFAULTS.send.noWorkerNoticeMs / 2);

  constructor(
    private readonly queue: Queue,
    private readonly display: string,
    private readonly emit: (event: QueueSendEvent) => void,
  ) {}

  /** Every batch was taken: a worker came after the notice, even if it finished between two checks. */
  async settle(): Promise<void> {
    if (!this.said) return;
    this.said = false;
    const live = await liveWorkerNames(this.queue);
    this.emit({ type: 'notice', message: `a worker is connected now (${live?.size ? [...live].join(', ') : 'gone again'}): the batches are being taken` });
  }

  async check(pendingBatches: number): Promise<void> {
    const now = performance.now();
    if (now - this.checkedAt < this.intervalMs) return;
    this.checkedAt = now;
    const live = await liveWorkerNames(this.queue);
    if (live === null || live.size > 0 || pendingBatches === 0) {
      this.seenAt = now;
      if (this.said && live?.size) this.emit({ type: 'notice', message: `a worker is connected now (${[...live].join(', ')}): the batches are being taken` });
      this.said = false;
      return;
    }
    if (this.said || now - this.seenAt < DEFAULTS.send.noWorkerNoticeMs) return;
    this.said = true;
    const seconds = Math.round((now - this.seenAt) / 1000);
    this.emit({
      type: 'notice',
      message: `no worker is running: ${pendingBatches} batch${pendingBatches > 1 ? 'es have' : ' has'} waited ${seconds} s and no worker is connected to ${this.display}; nothing is sent until one starts. On a sending machine (with SMTP_URL and the same NEWSLETTER_SECRET): npx newsletter worker --queue ${this.display}`,
    });
  }
}

/** Pending batches whose job is gone (failed for good, removed by hand) stop being waited for. */
async function forgetLostBatches(store: RedisStore, queue: Queue, pendingKey: string, emit: (event: QueueSendEvent) => void): Promise<void> {
  const ids = await store.redis.srandmember(pendingKey, 50);
  for (const id of ids) {
    const state = await queue.getJobState(id);
    if (state === 'unknown' || state === 'failed') {
      // Checked twice: the worker removes a finished job right after taking it off `pending`.
      if (!(await store.redis.sismember(pendingKey, id))) continue;
      await store.redis.srem(pendingKey, id);
      emit({ type: 'notice', message: `batch ${id} is no longer in the queue (${state}); its unsent rows are sent by the next run` });
    }
  }
}
