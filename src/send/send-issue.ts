import { DEFAULTS, type Recipient } from '../config/defaults.js';
import { loadIssue } from '../content/load-issue.js';
import type { Issue } from '../content/types.js';
import { NewsletterError } from '../errors.js';
import type { Project } from '../project.js';
import { PREVIEW_SECRET } from '../render/links.js';
import { listIdFor } from '../render/message.js';
import { compileIssue, recipientFields, type CompiledIssue } from '../render/personalize.js';
import { openStore } from '../store/index.js';
import { smtpBounceEntry } from '../store/suppression-entry.js';
import type { Destination, IssueJournal, JournalKey, JournalRepair, JournalState, Store, StoreLock, SuppressionProblem } from '../store/types.js';
import { dispatch, type DispatchEvent, type DispatchResult, type FailedRecipient, type Job } from './dispatch.js';
import { AddressSet } from './hash-set.js';
import type { OutcomeRecord } from './journal.js';
import { collectGarbage } from './memory.js';
import { compileMessageTemplate } from './message-template.js';
import { countDecision, emptyCounts, RecipientFilter, suppressedReasons, type FilterInput, type ListCounts } from './recipient-filter.js';
import { addressProblem, openList, type CsvDelimiter, type SubscriberList } from './recipients.js';
import { combinedList, storeSubscriberList } from './store-list.js';
import { validateSendRequest, type SendSettings } from './send-options.js';
import { refuseExampleAddresses } from './real-addresses.js';
import { createDeliverer, destinationOf, type TransportChoice } from './transport.js';

/**
 * `send`, as a library function, in named steps (a queue send reuses them):
 *
 *   1. validateSendRequest  options checked at the library's edge (USAGE errors)
 *   2. lock                 the store's lock for (list id, issue): one send at a time
 *   3. planSend             issue, list, journal and suppressions read; the list counted
 *                           (a first pass, so the plan is known before anything goes out)
 *   4. confirm              the caller's yes/no on the plan; `restart` moves the journal aside
 *   5. recipientJobs        the list again, filtered: who gets a message now (skips journaled)
 *   6. dispatchPlan         the workers deliver, the journal records every outcome
 *
 * Reruns resume from the journal; a real send counts only earlier real deliveries.
 */

export interface SendRequest {
  project: Project;
  issueSlug: string;
  /** Subscriber list file (CSV or JSON); ignored with testTo. Without it, the store's subscribers. */
  list?: string | null | undefined;
  /** With `list`: the store's subscribers too (`--list FILE --subscribers`). */
  subscribers?: boolean | undefined;
  /** CSV separator of `list` (`,` `;` tab); detected from its header when absent. */
  listDelimiter?: CsvDelimiter | undefined;
  /** Send one message to this address (with the sample recipient's fields); no journal, no lock. */
  testTo?: string | null | undefined;
  transport: TransportChoice;
  /** NEWSLETTER_SECRET; the preview secret is refused for real SMTP sends to a list. */
  secret: string;
  dryRun?: boolean | undefined;
  /** Start the send over: the journal is kept as a backup and every recipient is sent again. */
  restart?: boolean | undefined;
  concurrency?: number | undefined;
  /** Messages per second, at most; null for no limit. */
  rate?: number | null | undefined;
  retries?: number | undefined;
  retryDelayMs?: number | undefined;
  cwd: string;
  onEvent?: ((event: SendEvent) => void) | undefined;
  /** Asked once the plan is known, before the first real message; false cancels. */
  confirm?: ((plan: SendPlan) => Promise<boolean>) | undefined;
  signal?: AbortSignal | undefined;
  /** fdatasync each journal commit (default true); a kill -9 is survived either way. */
  journalSync?: boolean | undefined;
  /** Where journal, lock and suppressions live; the files store next to the config by default. */
  store?: Store | undefined;
}

export interface SendPlan {
  issueSlug: string;
  subject: string;
  transport: string;
  destination: Destination;
  list: string | null;
  testTo: string | null;
  counts: ListCounts;
  /** Messages earlier runs wrote to an outbox: never counted as sent by a real send. */
  outboxCopies: number;
  /** The journal is moved aside and the send starts over. */
  restart: boolean;
  /** `slots` (compiled once) or `render` (a full render per recipient, with the reason). */
  personalization: CompiledIssue['mode'];
  fallbackReason: string | null;
  journal: string | null;
}

export type SendEvent =
  | DispatchEvent
  | { type: 'notice'; message: string }
  | { type: 'plan'; plan: SendPlan }
  | { type: 'start'; total: number }
  | { type: 'skip'; record: OutcomeRecord };

export interface SendResult {
  plan: SendPlan;
  dryRun: boolean;
  /** Accepted by the destination (an SMTP server, or written to the outbox). */
  sent: number;
  /** Accepted, but the journal could not record it (a full disk): a rerun would send it again. */
  unrecorded: number;
  /** The first failures (all of them are in the journal); failedCount counts every one. */
  failed: FailedRecipient[];
  failedCount: number;
  /** Rows to send that were skipped because they were suppressed after the plan (a worker checks right before each message). */
  suppressedLate?: number | undefined;
  interrupted: boolean;
  durationMs: number;
}

/** A send that stopped midway: the error that stopped it, with what was done until then. */
export class SendStoppedError extends NewsletterError {
  constructor(
    stopped: NewsletterError,
    readonly result: SendResult,
  ) {
    super(stopped.code, stopped.message, { file: stopped.file, line: stopped.line, column: stopped.column, hint: stopped.hint, cause: stopped });
  }
}

/** The partial result of a send that stopped midway (for the summary), or null. */
export function partialResult(error: unknown): SendResult | null {
  return error instanceof SendStoppedError ? error.result : null;
}

/** Lists longer than this get a full GC between counting and rendering (see memory.ts). */
const LARGE_LIST = 100_000;

export interface PreparedSend {
  request: SendRequest;
  settings: SendSettings;
  issue: Issue;
  list: SubscriberList | null;
  sample: Recipient;
  compiled: CompiledIssue;
  filterInput: FilterInput;
  plan: SendPlan;
}

export function journalKey(project: Project, issueSlug: string): JournalKey {
  return { listId: listIdFor(project.config), issueSlug };
}

function refuseUnsignedSend(request: SendRequest, settings: SendSettings): void {
  if (settings.testTo && addressProblem(settings.testTo)) throw new NewsletterError('USAGE', `--test-to: ${addressProblem(settings.testTo)}`);
  if (request.transport.kind === 'smtp' && !settings.dryRun && !settings.testTo && request.secret === PREVIEW_SECRET) {
    throw new NewsletterError('SEND_CONFIG', 'NEWSLETTER_SECRET is not set: unsubscribe links would carry tokens your unsubscribe page cannot check', {
      hint: 'set NEWSLETTER_SECRET in the environment or in .env (the key your unsubscribe endpoint verifies tokens with)',
    });
  }
}

/** LIST_INVALID (the suppression list cannot be read as written) naming every line that suppresses nothing. */
export function refuseUnreadableSuppressions(problems: readonly SuppressionProblem[]): void {
  const first = problems[0];
  if (!first) return;
  const rest = problems.slice(1, 20).map((p) => `\n  ${p.file}:${p.line}: ${p.message}`).join('');
  const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
  throw new NewsletterError('LIST_INVALID', `${first.message}${rest}${more}`, {
    file: first.file,
    line: first.line,
    hint: 'write one address per line (`a@example.com`, optionally followed by ` # a note`), or start the line with `#` to keep it as a comment; nothing was sent',
  });
}

async function countList(list: SubscriberList, filter: RecipientFilter, suppressedSeen: AddressSet): Promise<ListCounts> {
  const counts = emptyCounts();
  for await (const batch of list.batches()) {
    for (const entry of batch) {
      const decision = filter.decide(entry);
      countDecision(counts, decision, suppressedSeen);
      if (entry.kind === 'recipient' && entry.padded && decision.kind === 'send') counts.padded++;
    }
  }
  return counts;
}

/** The list file, the store's subscribers (no file given), or both (`subscribers`). */
export async function recipientsOf(request: Pick<SendRequest, 'project' | 'list' | 'subscribers' | 'listDelimiter' | 'cwd'>, store: Store): Promise<SubscriberList> {
  const { config } = request.project;
  if (!request.list) return storeSubscriberList(store, config, store.kind === 'files' ? 'the subscribers (subscribers.jsonl)' : 'the subscribers (Redis store)');
  const file = await openList(request.list, request.cwd, { delimiter: request.listDelimiter });
  return request.subscribers ? combinedList(file, store, config) : file;
}

/** Step 3: everything read and counted; nothing sent, nothing written. */
export async function planSend(request: SendRequest, settings: SendSettings, store: Store, journal: IssueJournal | null): Promise<PreparedSend> {
  const { config, templates } = request.project;
  const emit = (event: SendEvent) => request.onEvent?.(event);
  const issue = await loadIssue(config.paths.content, request.issueSlug, config.paths.cwd);
  const list = settings.testTo ? null : await recipientsOf(request, store);
  const sample: Recipient = { ...config.sampleRecipient, email: settings.testTo ?? config.sampleRecipient.email };
  const compileOptions = {
    config,
    templates,
    secret: request.secret,
    fields: list ? list.columns : Object.keys(sample),
    listName: list?.display ?? 'sampleRecipient',
  };
  // Template fields against the list's columns now; the render waits until the list is counted,
  // so the counting pass streams without MJML's memory on top.
  const { fields } = recipientFields(issue, compileOptions);
  const destination = destinationOf(request.transport);
  const state: JournalState | null = journal ? await journal.read(destination) : null;
  if (state?.tornTail) emit({ type: 'notice', message: 'the journal ends in half a record (a crash while writing it); that record is ignored' });
  const accepted = settings.restart || !state ? new AddressSet() : state.accepted;
  const suppressed = await store.suppressions.load();
  // A line that suppresses nothing may be a reader who asked to be left alone: nothing goes out until it is fixed.
  if (!settings.testTo) refuseUnreadableSuppressions(await store.suppressions.problems());
  const filterInput: FilterInput = { suppressed, accepted, requiredFields: list?.format === 'json' ? fields : [], listDisplay: list?.display ?? '' };
  const suppressedSeen = new AddressSet(16);
  const counts = list ? await countList(list, new RecipientFilter(filterInput), suppressedSeen) : { ...emptyCounts(), rows: 1, toSend: 1 };
  counts.suppressedBy = await suppressedReasons(store.suppressions, suppressedSeen);
  if (counts.rows > LARGE_LIST) collectGarbage();
  const compiled = await compileIssue(issue, compileOptions);
  if (compiled.mode === 'render') emit({ type: 'notice', message: `each copy is rendered on its own (slower): ${compiled.fallbackReason}` });
  const plan: SendPlan = {
    issueSlug: issue.slug,
    subject: issue.subject,
    transport: request.transport.display,
    destination,
    list: list?.display ?? null,
    testTo: settings.testTo,
    counts,
    outboxCopies: destination.kind === 'smtp' ? (state?.outboxCopies ?? 0) : 0,
    restart: settings.restart && journal !== null,
    personalization: compiled.mode,
    fallbackReason: compiled.fallbackReason,
    journal: journal ? (journal.location ?? `the ${store.kind} store`) : null,
  };
  return { request, settings, issue, list, sample, compiled, filterInput, plan };
}

/** Step 5: who gets a message now, in list order; skipped rows are journaled as they pass. */
export async function* recipientJobs(prepared: PreparedSend, journal: IssueJournal | null, emit: (event: SendEvent) => void): AsyncGenerator<Job> {
  if (!prepared.list) {
    yield { line: 0, recipient: prepared.sample };
    return;
  }
  const filter = new RecipientFilter(prepared.filterInput);
  for await (const entry of prepared.list.entries()) {
    const decision = filter.decide(entry);
    if (decision.kind === 'send') yield { line: decision.line, recipient: decision.recipient };
    else if (decision.kind === 'skip') {
      const record: OutcomeRecord = { status: decision.status, email: decision.email, line: decision.line, at: new Date().toISOString(), reason: decision.reason };
      await journal?.append(record);
      emit({ type: 'skip', record });
    }
  }
}

/** Step 6: the workers deliver `jobs`; every outcome goes to the journal (when there is one). */
export async function dispatchPlan(prepared: PreparedSend, jobs: AsyncIterator<Job>, journal: IssueJournal | null, store: Store): Promise<DispatchResult> {
  const { request, settings, plan, issue } = prepared;
  const { config } = request.project;
  const emit = (event: SendEvent) => request.onEvent?.(event);
  const template = await compileMessageTemplate(prepared.compiled, config, request.secret);
  const deliverer = await createDeliverer(request.transport, { concurrency: settings.concurrency, socketTimeoutMs: DEFAULTS.send.socketTimeoutMs, config }, request.cwd);
  const kind = plan.destination.kind;
  try {
    await journal?.append({ status: 'run', at: new Date().toISOString(), pid: process.pid, transport: request.transport.display, list: plan.list, destination: plan.destination });
    emit({ type: 'start', total: plan.counts.toSend });
    return await dispatch(jobs, {
      concurrency: settings.concurrency,
      rate: settings.rate,
      retries: settings.retries,
      retryDelayMs: settings.retryDelayMs,
      maxRetryDelayMs: DEFAULTS.send.maxRetryDelayMs,
      template,
      deliverer,
      record: journal ? (record) => journal.append(record.status === 'run' ? record : { ...record, destination: kind }) : null,
      // Test messages and outbox copies bounce nowhere: only a real delivery says an address is dead.
      onBounce: journal && kind === 'smtp' ? async (email, reason) => void (await store.suppressions.add(email, smtpBounceEntry(reason, issue.slug))) : async () => undefined,
      onEvent: emit,
      signal: request.signal,
    });
  } finally {
    await deliverer.close();
  }
}

export async function sendIssue(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const settings = validateSendRequest(request);
  refuseUnsignedSend(request, settings);
  await refuseExampleAddresses(request.project.config, { smtp: request.transport.kind === 'smtp', dryRun: settings.dryRun, testTo: settings.testTo !== null }, (message) => request.onEvent?.({ type: 'notice', message }));
  const emit = (event: SendEvent) => request.onEvent?.(event);
  const store = request.store ?? (await openStore(request.project.config, { cwd: request.cwd, journalSync: settings.journalSync }));
  const key = journalKey(request.project, request.issueSlug);
  const useJournal = !settings.testTo;
  let lock: StoreLock | null = null;
  let journal: IssueJournal | null = null;
  try {
    if (useJournal && !settings.dryRun) {
      lock = await store.lock(key);
      if (lock.takenOverFrom !== null) emit({ type: 'notice', message: `took over the lock of an earlier send that is no longer running (pid ${lock.takenOverFrom}); resuming from the journal` });
    }
    journal = useJournal ? await store.journal(key) : null;
    if (settings.restart && journal && !journal.restart) throw new NewsletterError('USAGE', `--restart: the ${store.kind} store cannot start a send over`);
    const prepared = await planSend(request, settings, store, journal);
    const { plan } = prepared;
    emit({ type: 'plan', plan });
    const result: SendResult = { plan, dryRun: settings.dryRun, sent: 0, unrecorded: 0, failed: [], failedCount: 0, interrupted: false, durationMs: 0 };
    if (settings.dryRun || plan.counts.toSend === 0) {
      result.durationMs = performance.now() - started;
      return result;
    }
    if (request.confirm && !(await request.confirm(plan))) throw new NewsletterError('SEND_CONFIG', 'not confirmed: nothing was sent');
    if (plan.restart && journal?.restart) {
      const backup = await journal.restart();
      if (backup) emit({ type: 'notice', message: `starting over: the old journal is kept as ${backup}` });
    }
    const outcome = await dispatchPlan(prepared, recipientJobs(prepared, journal, emit), journal, store);
    Object.assign(result, { sent: outcome.sent, unrecorded: outcome.unrecorded, failed: outcome.failed, failedCount: outcome.failedCount, interrupted: outcome.interrupted });
    // Closing flushes the journal: a failure there is a lost record too.
    const closed = await journal?.close().then(
      () => null,
      (error: unknown) => error,
    );
    journal = null;
    result.durationMs = performance.now() - started;
    const stopped = outcome.stopped ?? (closed instanceof NewsletterError ? closed : null);
    if (stopped) throw new SendStoppedError(stopped, result);
    if (closed) throw closed;
    return result;
  } finally {
    await journal?.close().catch(() => undefined);
    await lock?.release();
    if (!request.store) await store.close();
  }
}

/** `send --repair-journal`: under the send's lock, bad journal lines are moved aside. */
export async function repairSendJournal(project: Project, issueSlug: string, cwd: string, store?: Store): Promise<JournalRepair> {
  const used = store ?? (await openStore(project.config, { cwd }));
  const key = journalKey(project, issueSlug);
  const lock = await used.lock(key);
  try {
    const journal = await used.journal(key);
    if (!journal.repair) throw new NewsletterError('USAGE', `--repair-journal: the ${used.kind} store cannot repair journals`);
    return await journal.repair();
  } finally {
    await lock.release();
    if (!store) await used.close();
  }
}
