import path from 'node:path';
import { assertIssueSlug } from '../../content/slug.js';
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULTS } from '../../config/defaults.js';
import { NewsletterError } from '../../errors.js';
import { loadProject } from '../../pipeline.js';
import { PREVIEW_SECRET } from '../../render/links.js';
import { deliveredWord, shownAddress, formatPlan, formatProgressBar, formatProgressLine, formatSkipped, formatSummary, type ProgressState } from '../../send/progress.js';
import { partialResult, repairSendJournal, sendIssue, type SendEvent, type SendPlan, type SendResult } from '../../send/send-issue.js';
import type { Project } from '../../project.js';
import { insecureAuthWarning, outboxChoice, smtpChoice, type TransportChoice } from '../../send/transport.js';
import { parseDelimiter, type CsvDelimiter } from '../../send/recipients.js';
import type { QueueSendEvent } from '../../queue/queue-send.js';
import { openStore, type Store } from '../../store/index.js';
import { redisUrlFrom } from '../redis-url.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';

interface SendFlags extends SharedFlags {
  list?: string;
  subscribers?: boolean;
  delimiter?: CsvDelimiter;
  testTo?: string;
  dryRun?: boolean;
  smtp?: string;
  yes?: boolean;
  concurrency?: number;
  rate?: number;
  retries?: number;
  retryDelay?: number;
  outbox?: string;
  restart?: boolean;
  repairJournal?: boolean;
  queue?: string | true;
  store?: string | true;
  batchSize?: number;
}

function positiveInt(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got \`${value}\``);
    return n;
  };
}

function parseDelimiterFlag(value: string): CsvDelimiter {
  try {
    return parseDelimiter(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--delimiter: /, ''));
  }
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number above 0, got \`${value}\``);
  return n;
}

/** Asks on the terminal before a real send; without one, refuses rather than send unasked. */
export async function confirmOnTerminal(io: CliIo, plan: SendPlan): Promise<boolean> {
  if (!io.stdin.isTTY) throw new NewsletterError('SEND_CONFIG', 'refusing to send without confirmation: no terminal to ask on', { hint: 'pass --yes to send non-interactively' });
  return askToConfirm(io, plan);
}

async function askToConfirm(io: CliIo, plan: SendPlan): Promise<boolean> {
  const prompt = createInterface({ input: io.stdin, output: io.stderr });
  const verb = plan.destination.kind === 'outbox' ? 'Write' : 'Send';
  const over = plan.restart ? `START OVER (the journal is kept as a backup) and ` : '';
  try {
    const answer = await prompt.question(`${over}${verb} "${plan.subject}" to ${plan.counts.toSend} recipients via ${plan.transport}? Type "yes" to ${verb.toLowerCase()}: `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/** Progress on stderr: a bar redrawn in place on a terminal, a log line every few seconds otherwise. */
export function progressReporter(io: CliIo) {
  const tty = io.stderr.isTTY === true;
  const state: ProgressState = { word: 'sent', done: 0, sent: 0, failed: 0, total: 0, elapsedMs: 0 };
  let started = 0;
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = performance.now();
    state.elapsedMs = now - started;
    if (!force && now - lastDraw < (tty ? 100 : 5000)) return;
    lastDraw = now;
    if (tty) io.stderr.write(`\r\x1b[2K${formatProgressBar(state)}`);
    else println(io.stderr, formatProgressLine(state));
  };
  const line = (text: string) => {
    if (tty) io.stderr.write('\r\x1b[2K');
    println(io.stderr, text);
  };
  return {
    onEvent(event: QueueSendEvent) {
      switch (event.type) {
        case 'progress':
          // A distributed send reports totals read from Redis rather than each outcome.
          Object.assign(state, { sent: event.sent, failed: event.failed, done: event.sent + event.failed, total: event.total });
          draw();
          return;
        case 'notice':
          line(`notice: ${event.message}`);
          return;
        case 'plan':
          if (event.plan.destination.kind === 'outbox') state.word = 'written';
          for (const text of formatPlan(event.plan)) println(io.stdout, text);
          return;
        case 'start':
          state.total = event.total;
          started = lastDraw = performance.now();
          return;
        case 'retry':
          line(`retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(1)}s: line ${event.line} ${shownAddress(event.email)}: ${event.reason}`);
          return;
        case 'outcome':
          state.done++;
          if (event.record.status === 'accepted') state.sent++;
          else {
            state.failed++;
            line(`${event.record.status}: line ${event.record.line} ${shownAddress(event.record.email)}: ${event.record.reason}`);
          }
          draw();
          return;
        default:
          return;
      }
    },
    finish() {
      if (state.total && tty) {
        draw(true);
        io.stderr.write('\n');
      }
    },
  };
}

/** SMTP when a URL is given (flag, then SMTP_URL), otherwise the outbox folder. */
function chooseTransport(flags: SendFlags, env: NodeJS.ProcessEnv, project: Project, issueSlug: string, io: CliIo): TransportChoice {
  const smtpUrl = flags.smtp ?? env.SMTP_URL;
  if (smtpUrl) return smtpChoice(smtpUrl);
  const dir = flags.outbox ? path.resolve(io.cwd, flags.outbox) : path.resolve(project.config.paths.root, DEFAULTS.send.outbox);
  return outboxChoice(dir, issueSlug, io.cwd);
}

/** Ctrl-C once aborts `controller` (saying `what` happens then); twice ends the process. Returns the cleanup. */
export function interruptOnSigint(io: CliIo, controller: AbortController, what = 'interrupting: finishing the messages in flight, then stopping (Ctrl-C again to quit at once)'): () => void {
  const onSigint = () => {
    if (controller.signal.aborted) {
      process.off('SIGINT', onSigint);
      process.kill(process.pid, 'SIGINT');
      return;
    }
    println(io.stderr, `\n${what}`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}

function printResult(io: CliIo, result: SendResult): void {
  for (const text of formatSkipped(result.plan, result.dryRun)) println(io.stdout, text);
  if (result.dryRun) {
    println(io.stdout, 'dry run: nothing was sent, nothing was written (no journal, no outbox)');
    return;
  }
  if (result.plan.counts.toSend === 0 && !result.plan.testTo) {
    println(io.stdout, `nothing to do: every recipient is already ${deliveredWord(result.plan)}, skipped or suppressed`);
    return;
  }
  for (const text of formatSummary(result)) println(io.stdout, text);
  if (result.failedCount) throw new NewsletterError('SEND_FAILED', `${result.failedCount} recipient${result.failedCount > 1 ? 's' : ''} failed (listed above); a rerun retries the temporary failures`);
  if (result.interrupted) throw new NewsletterError('SEND_FAILED', 'interrupted: run the same command again to send to the rest');
}

export function registerSend(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('send')
      .description('send an issue to a subscriber list (SMTP, or .eml files in outbox/ when no SMTP is set)')
      .argument('<issue>', 'issue slug (file name under content/issues/ without .md)', assertIssueSlug)
      .option('--list <file>', 'subscribers: CSV with a header row and an `email` column, or JSON (array or JSON lines); default: the confirmed subscribers of the store (docs/signup.md)')
      .option('--subscribers', 'with --list: the store\'s confirmed subscribers too (an address in both gets one message)')
      .option('--delimiter <char>', 'CSV field separator: `,` `;` or `tab` (default: detected from the header row)', parseDelimiterFlag)
      .option('--test-to <address>', 'send one message to this address (sample recipient fields), ignoring the list')
      .option('--dry-run', 'read the list and show what would happen; nothing is sent or written')
      .option('--smtp <url>', 'SMTP server, e.g. smtp://user:pass@host:587 (default: $SMTP_URL, else the outbox)')
      .option('--yes', 'do not ask for confirmation before a real send or a restart (required without a terminal)')
      .option('--restart', 'start the send over: the journal is kept as a backup and every recipient gets the issue again (asks first)')
      .option('--repair-journal', 'move journal lines that are not valid records into a file next to the journal, then stop')
      .option('--concurrency <n>', `SMTP connections used in parallel (default ${DEFAULTS.send.concurrency})`, positiveInt('--concurrency', 1))
      .option('--rate <n>', 'at most this many messages per second', positiveNumber)
      .option('--retries <n>', `retries of a temporary failure (4xx, dropped connection, timeout) (default ${DEFAULTS.send.retries})`, positiveInt('--retries', 0))
      .option('--retry-delay <ms>', `first retry delay, doubled each retry (default ${DEFAULTS.send.retryDelayMs})`, positiveInt('--retry-delay', 0))
      .option('--outbox <dir>', `folder for .eml files when no SMTP server is set (default ${DEFAULTS.send.outbox}/ next to the config)`)
      .option('--queue [url]', 'distributed send: queue the list in Redis for `newsletter worker`s (default URL: $REDIS_URL)')
      .option('--store [url]', 'keep the journal, suppressions and lock in Redis, shared with `serve` and other machines (default URL: $REDIS_URL, which alone turns this on)')
      .option('--batch-size <n>', 'recipients per queued batch, with --queue (default 500)', positiveInt('--batch-size', 1)),
    // No --out: send writes no build folder, and a flag accepted and ignored misleads (--outbox is the one).
    { out: false },
  )
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter send weekly-1 --dry-run                         the confirmed subscribers (sign-ups, imports)
  $ npx newsletter send weekly-1 --list subscribers.csv --dry-run    what would happen, nothing sent
  $ npx newsletter send weekly-1 --list subscribers.csv              no SMTP set: .eml files in outbox/weekly-1/
  $ npx newsletter send weekly-1 --test-to me@example.com --smtp smtp://user:pass@smtp.example.com:587
  $ SMTP_URL=smtp://user:pass@smtp.example.com:587 npx newsletter send weekly-1 --list subscribers.csv
  $ npx newsletter send weekly-1 --list subscribers.csv --yes --concurrency 10 --rate 50
  $ npx newsletter send weekly-1 --repair-journal                after "journal has a line that is not JSON"
  $ npx newsletter send weekly-1 --list subscribers.csv --queue redis://redis.internal:6379 --rate 200

SMTP_URL and NEWSLETTER_SECRET are read from the environment or from .env in the
working directory. Real sends need NEWSLETTER_SECRET (it signs unsubscribe links).
Every outcome is journaled in .newsletter/sends/<issue>.jsonl with where it went:
running the same command again after a crash or Ctrl-C reaches only recipients not
yet accepted by the same kind of destination (outbox copies never count for SMTP).
Exit code 1 when any recipient failed; the summary lists them with their line.
With --queue the list (or, without --list, the subscribers in that Redis) goes to Redis
in batches and \`newsletter worker\`s send it (--rate
then limits all workers together); the journal is in Redis, and Ctrl-C stops following
while the workers go on: the same command again reattaches.`,
    )
    .action(async (issueSlug: string, flags: SendFlags) => {
      // Usage first, before any notice or file is read.
      if (flags.list && flags.testTo) throw new NewsletterError('USAGE', 'use either --list or --test-to, not both');
      if (flags.subscribers && flags.testTo) throw new NewsletterError('USAGE', 'use either --subscribers or --test-to, not both');
      if (flags.restart && (flags.testTo || flags.dryRun)) throw new NewsletterError('USAGE', '--restart starts a list send over; it cannot go with --test-to or --dry-run');
      // .env is already under io.env (cli/env.ts, for every command).
      const env = io.env;
      const project = await loadProject(configRequest(flags, io));
      if (flags.queue !== undefined) {
        if (flags.store !== undefined) throw new NewsletterError('USAGE', '--queue keeps the journal and the suppressions in its Redis already: drop --store');
        const { sendQueued } = await import('./send-queue.js');
        return sendQueued(io, env, project, issueSlug, flags, progressReporter(io), confirmOnTerminal);
      }
      // The shared store on Redis (--store, else REDIS_URL), or the files next to the config.
      const storeUrl = flags.store !== undefined || env.REDIS_URL ? redisUrlFrom(typeof flags.store === 'string' ? flags.store : undefined, env, '--store') : null;
      const store: Store | undefined = storeUrl ? await openStore(project.config, { url: storeUrl, cwd: io.cwd }) : undefined;
      try {
        if (flags.repairJournal) {
          const repair = await repairSendJournal(project, issueSlug, io.cwd, store);
          println(io.stdout, repair.moved ? `moved ${repair.moved} bad line${repair.moved > 1 ? 's' : ''} to ${repair.aside}; kept ${repair.kept} records` : `the journal is valid (${repair.kept} records): nothing to repair`);
          return;
        }
        const transport = chooseTransport(flags, env, project, issueSlug, io);
        const reporter = progressReporter(io);
        const insecure = insecureAuthWarning(transport.kind === 'smtp' ? transport.url : undefined);
        if (insecure) println(io.stderr, `warning: ${insecure}`);
        if (transport.kind === 'outbox' && !flags.dryRun) reporter.onEvent({ type: 'notice', message: `no SMTP server set (--smtp or SMTP_URL): writing each message as an .eml file to ${transport.display.replace(/^outbox \((.*)\)$/, '$1')}` });
        const secret = env.NEWSLETTER_SECRET || PREVIEW_SECRET;
        if (!env.NEWSLETTER_SECRET && (transport.kind === 'outbox' || flags.dryRun || flags.testTo)) reporter.onEvent({ type: 'notice', message: 'NEWSLETTER_SECRET is not set: unsubscribe links carry preview tokens' });
        const mustAsk = ((transport.kind === 'smtp' && !flags.testTo) || flags.restart === true) && !flags.yes;
        const controller = new AbortController();
        const stopListening = interruptOnSigint(io, controller);
        let result: SendResult;
        try {
          result = await sendIssue({
            project,
            issueSlug,
            list: flags.list,
            subscribers: flags.subscribers,
            listDelimiter: flags.delimiter,
            testTo: flags.testTo,
            transport,
            secret,
            dryRun: flags.dryRun,
            restart: flags.restart,
            concurrency: flags.concurrency,
            rate: flags.rate,
            retries: flags.retries,
            retryDelayMs: flags.retryDelay,
            store,
            cwd: io.cwd,
            onEvent: (event) => reporter.onEvent(event),
            signal: controller.signal,
            confirm: mustAsk ? (plan) => confirmOnTerminal(io, plan) : undefined,
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
        printResult(io, result);
      } finally {
        await store?.close();
      }
    });
}
