import path from 'node:path';
import type { Recipient } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { loadIssue } from '../content/load-issue.js';
import { NewsletterError } from '../errors.js';
import type { Project } from '../pipeline.js';
import { PREVIEW_SECRET } from '../render/links.js';
import { compileIssue, recipientFields, type CompiledIssue } from '../render/personalize.js';
import { dispatch, type DispatchEvent, type FailedRecipient, type Job } from './dispatch.js';
import { readJournal, SendJournal, type OutcomeRecord } from './journal.js';
import { acquireSendLock, type SendLock } from './lock.js';
import { AddressSet } from './hash-set.js';
import { collectGarbage } from './memory.js';
import { compileMessageTemplate } from './message-template.js';
import { countDecision, emptyCounts, RecipientFilter, type ListCounts } from './recipient-filter.js';
import { addressProblem, openList, type CsvDelimiter, type SubscriberList } from './recipients.js';
import { loadSuppressions, SuppressionWriter } from './suppressions.js';
import { createDeliverer, type TransportChoice } from './transport.js';

/**
 * `send`, as a library function: compile the issue once, read the list (a counting pass first, so
 * the plan is known before anything goes out), take the issue's lock, then hand recipients to the
 * workers (dispatch.ts) with the journal recording every outcome. Reruns resume from the journal.
 */

export interface SendRequest {
  project: Project;
  issueSlug: string;
  /** Subscriber list file (CSV or JSON); ignored with testTo. */
  list?: string | null | undefined;
  /** CSV separator of `list` (`,` `;` tab); detected from its header when absent. */
  listDelimiter?: CsvDelimiter | undefined;
  /** Send one message to this address (with the sample recipient's fields); no journal, no lock. */
  testTo?: string | null | undefined;
  transport: TransportChoice;
  /** NEWSLETTER_SECRET; the preview secret is refused for real SMTP sends to a list. */
  secret: string;
  dryRun?: boolean | undefined;
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
}

export interface SendPlan {
  issueSlug: string;
  subject: string;
  transport: string;
  list: string | null;
  testTo: string | null;
  counts: ListCounts;
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
  sent: number;
  /** The first failures (all of them are in the journal); failedCount counts every one. */
  failed: FailedRecipient[];
  failedCount: number;
  interrupted: boolean;
  durationMs: number;
}

/** Lists longer than this get a full GC between counting and rendering (see memory.ts). */
const LARGE_LIST = 100_000;

function journalPaths(request: SendRequest): { journal: string; lock: string; display: (file: string) => string } {
  const dir = path.resolve(request.project.config.paths.root, DEFAULTS.send.journalDir);
  return {
    journal: path.join(dir, `${request.issueSlug}.jsonl`),
    lock: path.join(dir, `${request.issueSlug}.lock`),
    display: (file) => path.relative(request.cwd, file) || file,
  };
}

async function countList(list: SubscriberList, filter: RecipientFilter): Promise<ListCounts> {
  const counts = emptyCounts();
  for await (const batch of list.batches()) {
    for (const entry of batch) {
      const decision = filter.decide(entry);
      countDecision(counts, decision);
      if (entry.kind === 'recipient' && entry.padded && decision.kind === 'send') counts.padded++;
    }
  }
  return counts;
}

export async function sendIssue(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const { config, templates } = request.project;
  const emit = (event: SendEvent) => request.onEvent?.(event);
  const testTo = request.testTo?.trim() || null;
  const dryRun = request.dryRun === true;
  if (testTo && addressProblem(testTo)) throw new NewsletterError('USAGE', `--test-to: ${addressProblem(testTo)}`);
  if (!testTo && !request.list) throw new NewsletterError('USAGE', 'nothing to send to: pass --list FILE (or --test-to ADDRESS)');
  if (request.transport.kind === 'smtp' && !dryRun && !testTo && request.secret === PREVIEW_SECRET) {
    throw new NewsletterError('SEND_CONFIG', 'NEWSLETTER_SECRET is not set: unsubscribe links would carry tokens your unsubscribe page cannot check', {
      hint: 'set NEWSLETTER_SECRET in the environment or in .env (the key your unsubscribe endpoint verifies tokens with)',
    });
  }

  const issue = await loadIssue(config.paths.content, request.issueSlug);
  const list = testTo ? null : await openList(request.list!, request.cwd, { delimiter: request.listDelimiter });
  const sample: Recipient = { ...config.sampleRecipient, email: testTo ?? config.sampleRecipient.email };
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

  const paths = journalPaths(request);
  const useJournal = !testTo;
  let lock: SendLock | null = null;
  if (useJournal && !dryRun) {
    lock = await acquireSendLock(paths.lock, paths.display(paths.lock));
    if (lock.takenOverFrom !== null) emit({ type: 'notice', message: `took over the lock of an earlier send that is no longer running (pid ${lock.takenOverFrom}); resuming from the journal` });
  }
  try {
    const state = useJournal ? await readJournal(paths.journal) : null;
    if (state?.tornTail) emit({ type: 'notice', message: `the journal ends in half a record (a crash while writing it); that record is ignored` });
    const suppressed = await loadSuppressions(config.suppressions);
    const filterInput = { suppressed, accepted: state?.accepted ?? new AddressSet(), requiredFields: list?.format === 'json' ? fields : [], listDisplay: list?.display ?? '' };
    const counts = list ? await countList(list, new RecipientFilter(filterInput)) : { ...emptyCounts(), rows: 1, toSend: 1 };
    if (counts.rows > LARGE_LIST) collectGarbage();
    const compiled = await compileIssue(issue, compileOptions);
    if (compiled.mode === 'render') emit({ type: 'notice', message: `each copy is rendered on its own (slower): ${compiled.fallbackReason}` });
    const plan: SendPlan = {
      issueSlug: issue.slug,
      subject: issue.subject,
      transport: request.transport.display,
      list: list?.display ?? null,
      testTo,
      counts,
      personalization: compiled.mode,
      fallbackReason: compiled.fallbackReason,
      journal: useJournal ? paths.display(paths.journal) : null,
    };
    emit({ type: 'plan', plan });
    const result: SendResult = { plan, dryRun, sent: 0, failed: [], failedCount: 0, interrupted: false, durationMs: 0 };
    if (dryRun || counts.toSend === 0) {
      result.durationMs = performance.now() - started;
      return result;
    }
    if (request.confirm && !(await request.confirm(plan))) throw new NewsletterError('SEND_CONFIG', 'not confirmed: nothing was sent');

    const template = await compileMessageTemplate(compiled, config);
    // The journal first: if it cannot be opened, no SMTP connection is left open behind the error.
    const journal = useJournal ? await SendJournal.open(paths.journal, { sync: request.journalSync ?? true }) : null;
    const deliverer = await createDeliverer(
      request.transport,
      { concurrency: request.concurrency ?? DEFAULTS.send.concurrency, socketTimeoutMs: DEFAULTS.send.socketTimeoutMs, config },
      request.cwd,
    );
    const bounces = new SuppressionWriter(config.suppressions);
    try {
      await journal?.append({ status: 'run', at: new Date().toISOString(), pid: process.pid, transport: request.transport.display, list: list?.display ?? null });
      emit({ type: 'start', total: counts.toSend });
      const filter = new RecipientFilter(filterInput);
      async function* jobs(): AsyncGenerator<Job> {
        if (!list) {
          yield { line: 0, recipient: sample };
          return;
        }
        for await (const entry of list.entries()) {
          const decision = filter.decide(entry);
          if (decision.kind === 'send') yield { line: decision.line, recipient: decision.recipient };
          else if (decision.kind === 'skip') {
            const record: OutcomeRecord = { status: decision.status, email: decision.email, line: decision.line, at: new Date().toISOString(), reason: decision.reason };
            await journal?.append(record);
            emit({ type: 'skip', record });
          }
        }
      }
      const outcome = await dispatch(jobs(), {
        concurrency: request.concurrency ?? DEFAULTS.send.concurrency,
        rate: request.rate ?? null,
        retries: request.retries ?? DEFAULTS.send.retries,
        retryDelayMs: request.retryDelayMs ?? DEFAULTS.send.retryDelayMs,
        maxRetryDelayMs: DEFAULTS.send.maxRetryDelayMs,
        template,
        deliverer,
        record: journal ? (record) => journal.append(record) : null,
        onBounce: (email, reason) => bounces.add(email, reason, issue.slug),
        onEvent: emit,
        signal: request.signal,
      });
      Object.assign(result, { sent: outcome.sent, failed: outcome.failed, failedCount: outcome.failedCount, interrupted: outcome.interrupted });
      result.durationMs = performance.now() - started;
      if (outcome.stopped) throw Object.assign(outcome.stopped, { result });
      return result;
    } finally {
      await deliverer.close();
      await journal?.close();
    }
  } finally {
    await lock?.release();
  }
}

/** The partial result attached to an error that stopped a send midway (for the summary). */
export function partialResult(error: unknown): SendResult | null {
  return ((error as { result?: SendResult } | null)?.result as SendResult | undefined) ?? null;
}
