import type { Project } from '../../pipeline.js';
import { NewsletterError } from '../../errors.js';
import { queueSend, type QueueSendEvent, type QueueSendResult } from '../../queue/queue-send.js';
import { PREVIEW_SECRET } from '../../render/links.js';
import { formatSkipped, formatSummary } from '../../send/progress.js';
import type { CsvDelimiter } from '../../send/recipients.js';
import { partialResult, type SendPlan } from '../../send/send-issue.js';
import { println, type CliIo } from '../io.js';
import { interruptOnSigint } from './send.js';
import { redisUrlFrom } from '../redis-url.js';

/** `send --queue`: the distributed send's command edge (queue/queue-send.ts does the work). */

interface QueueFlags {
  list?: string;
  subscribers?: boolean;
  delimiter?: CsvDelimiter;
  testTo?: string;
  dryRun?: boolean;
  yes?: boolean;
  rate?: number;
  retries?: number;
  retryDelay?: number;
  queue?: string | true;
  batchSize?: number;
  concurrency?: number;
  smtp?: string;
  restart?: boolean;
  repairJournal?: boolean;
}

interface Reporter {
  onEvent(event: QueueSendEvent): void;
  finish(): void;
}

export async function sendQueued(
  io: CliIo,
  env: NodeJS.ProcessEnv,
  project: Project,
  issueSlug: string,
  flags: QueueFlags,
  reporter: Reporter,
  /** Asks before the first batch is queued (send.ts's confirmOnTerminal). */
  confirm: (io: CliIo, plan: SendPlan) => Promise<boolean>,
): Promise<void> {
  if (flags.testTo) throw new NewsletterError('USAGE', '--test-to sends one message from here: run it without --queue');
  if (flags.repairJournal) throw new NewsletterError('USAGE', '--repair-journal is for the journal file; the Redis journal is checked as it is written');
  if (flags.smtp || flags.concurrency) throw new NewsletterError('USAGE', 'with --queue the workers send: give each `newsletter worker` its --smtp and --concurrency');
  const queue = redisUrlFrom(flags.queue === true ? undefined : flags.queue, env, '--queue');
  const controller = new AbortController();
  const stopListening = interruptOnSigint(io, controller, 'stopping here: the workers go on with what is queued (`newsletter status` shows it; the same send again reattaches)');
  let result: QueueSendResult;
  try {
    result = await queueSend({
      project,
      issueSlug,
      list: flags.list,
      subscribers: flags.subscribers,
      listDelimiter: flags.delimiter,
      queue,
      batchSize: flags.batchSize,
      secret: env.NEWSLETTER_SECRET || PREVIEW_SECRET,
      dryRun: flags.dryRun,
      restart: flags.restart,
      rate: flags.rate,
      retries: flags.retries,
      retryDelayMs: flags.retryDelay,
      cwd: io.cwd,
      onEvent: (event) => reporter.onEvent(event),
      signal: controller.signal,
      confirm: !flags.yes ? (plan) => confirm(io, plan) : undefined,
    });
  } catch (error) {
    reporter.finish();
    const partial = partialResult(error);
    if (partial) for (const text of formatSummary(partial)) println(io.stdout, text);
    throw error;
  } finally {
    stopListening();
  }
  reporter.finish();
  for (const text of formatSkipped(result.plan)) println(io.stdout, text);
  if (result.dryRun) {
    println(io.stdout, 'dry run: nothing was queued');
    return;
  }
  if (result.plan.counts.toSend === 0 && result.sent === 0 && !result.detached) {
    println(io.stdout, 'nothing to do: every recipient is already sent, skipped or suppressed');
    return;
  }
  for (const text of formatSummary(result)) println(io.stdout, text);
  if (result.detached) {
    throw new NewsletterError('SEND_FAILED', `stopped following: the workers go on with the batches queued; run the same command again to ${result.plan.counts.toSend ? 'queue the rest and ' : ''}follow it`, {
      hint: `newsletter status ${issueSlug} --queue … shows the counts meanwhile`,
    });
  }
  if (result.failedCount) throw new NewsletterError('SEND_FAILED', `${result.failedCount} recipient${result.failedCount > 1 ? 's' : ''} failed (listed above); a rerun retries them`);
  if (result.failedBatches) throw new NewsletterError('SEND_FAILED', `${result.failedBatches} batch${result.failedBatches > 1 ? 'es' : ''} failed on every attempt (see the workers' logs); run the same command again to requeue their rows`);
}
