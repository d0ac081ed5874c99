import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import type { Store } from '../store/types.js';
import { classifyMessage } from './classify.js';
import { ReportMatcher, type BounceEvent } from './match.js';
import { applyBounceEvent, IssueOrder, type BounceRules } from './rules.js';
import { maskUrlPassword } from '../mask-url.js';

/**
 * `newsletter bounces`: reads the bounce mailbox over IMAP (imapflow), classifies each message
 * not yet handled, matches it to a recipient and applies the rules. Nothing is ever deleted:
 *
 * - a message it handled (a bounce, a complaint, a delivery report, an auto-reply or delay
 *   notice) gets the keyword `$NewsletterHandled`, or is moved to a folder (`processed: "move"`);
 * - a message it cannot classify, or that names nobody we sent to, is left as it is and counted,
 *   so a person can look at it (and a later run, once the send journal is there, can match it);
 * - a report's bytes are claimed once in the store (store.bounces.claim), and every rule is
 *   idempotent per address and issue, so a rerun, a lost flag or a copy of a message counts once.
 *
 * With `watch`, the mailbox stays selected and IDLE wakes the reader when mail arrives; a lost
 * connection (a server restart, a network blip, a server closing idle sessions) is opened again
 * after DEFAULTS.bounces.reconnectDelaysMs, as long as it takes.
 */

export interface MailboxSettings {
  /** `imaps://user:pass@host[:port]/MAILBOX` (`imap://` for plain IMAP with STARTTLS when offered). */
  url: string;
  processed: 'flag' | 'move';
  folder: string;
  keyword: string;
  claimTtlMs: number;
}

export interface BounceContext {
  store: Store;
  listId: string;
  /** NEWSLETTER_SECRET, for VERP tags; null when it is not set. */
  secret: string | null;
  verpBase: string | null;
  rules: BounceRules;
}

export interface MailboxSummary {
  /** Messages looked at (not handled before). */
  read: number;
  hard: number;
  soft: number;
  complaints: number;
  deliveries: number;
  /** Unsubscribe requests by mail (the mailto of List-Unsubscribe), honoured. */
  unsubscribes: number;
  /** Auto-replies and delay notices: marked handled, never counted as bounces. */
  ignored: number;
  /** Not classifiable: left unmarked. */
  unknown: number;
  /** Unsubscribe requests whose From the receiving server did not vouch for: left unmarked for a person. */
  unverified: number;
  /** A bounce or complaint naming nobody we sent to: left unmarked. */
  unmatched: number;
  /** Handled by an earlier run (its mark was lost or it was copied back): counted nothing. */
  alreadyHandled: number;
  /** Addresses newly suppressed. */
  suppressed: number;
  /** Reports carrying a VERP tag of `bounces.address`, and those whose tag verified with NEWSLETTER_SECRET. */
  verpTags: { seen: number; resolved: number };
}

export type MailboxEvent =
  | { type: 'connected'; mailbox: string; messages: number }
  | { type: 'event'; event: BounceEvent; outcome: string }
  /**
   * `unverified`: an unsubscribe request whose From the receiving server did not vouch for;
   * `unmatched` with an `email`: a request from an address we never sent to, or naming an issue
   * we never sent. `email` and `detail` (why, in words) when there is one to name.
   */
  | { type: 'left'; why: 'unknown' | 'unmatched' | 'unverified'; uid: number; subject: string; email?: string | null; detail?: string | null }
  | { type: 'pass'; summary: MailboxSummary }
  /** --watch lost the connection (or could not get it back) and tries again after `inMs`. */
  | { type: 'reconnecting'; why: string; inMs: number };

export interface MailboxHooks {
  onEvent?: ((event: MailboxEvent) => void) | undefined;
  /** Keep reading as mail arrives (IDLE) until `signal` aborts. */
  watch?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export function emptySummary(): MailboxSummary {
  return { read: 0, hard: 0, soft: 0, complaints: 0, deliveries: 0, unsubscribes: 0, ignored: 0, unknown: 0, unverified: 0, unmatched: 0, alreadyHandled: 0, suppressed: 0, verpTags: { seen: 0, resolved: 0 } };
}

/** The IMAP URL as shown: never the password. */
export function maskImapUrl(url: string): string {
  // The same masking as SMTP_URL's: a regex of its own let a password holding `/` or `@` through.
  return maskUrlPassword(url, 'IMAP');
}

interface ImapTarget {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  mailbox: string;
}

export function parseImapUrl(url: string): ImapTarget {
  const shown = maskImapUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NewsletterError('BOUNCES_MAILBOX', `\`${shown}\` is not a URL`, { hint: 'expected imaps://user:pass@imap.example.com/INBOX' });
  }
  if ((parsed.protocol !== 'imaps:' && parsed.protocol !== 'imap:') || !parsed.hostname) {
    throw new NewsletterError('BOUNCES_MAILBOX', `\`${shown}\` is not an IMAP URL`, { hint: 'expected imaps://user:pass@imap.example.com/INBOX' });
  }
  if (!parsed.username) throw new NewsletterError('BOUNCES_MAILBOX', `\`${shown}\` names no user`, { hint: 'expected imaps://user:pass@imap.example.com/INBOX (a user with @ written as %40)' });
  const secure = parsed.protocol === 'imaps:';
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(parsed.username),
    pass: decodeURIComponent(parsed.password),
    mailbox: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'INBOX',
  };
}

/** Messages fetched, then handled at once, then marked with one command. */
const BATCH = 200;

export async function readBounceMailbox(settings: MailboxSettings, context: BounceContext, hooks: MailboxHooks = {}): Promise<MailboxSummary> {
  const target = parseImapUrl(settings.url);
  const shown = maskImapUrl(settings.url);
  const emit = (event: MailboxEvent) => hooks.onEvent?.(event);
  const matcher = new ReportMatcher({ secret: context.secret, listId: context.listId, verpBase: context.verpBase, bounces: context.store.bounces });
  // One order of issues for the run (soft bounces count only over consecutive sends).
  context = { ...context, rules: { ...context.rules, order: context.rules.order ?? new IssueOrder(() => context.store.bounces.sentIssues(context.listId)) } };
  const summary = emptySummary();
  // UIDs read in this run: kept over a reconnection while the mailbox's UIDVALIDITY stays.
  const seen = new Set<number>();
  let uidValidity: bigint | null = null;
  let lost = 0;
  for (;;) {
    let session: Session;
    try {
      session = await openSession(target, shown);
    } catch (error) {
      // --watch outlives a server restart or a network blip; a first connection, a refused
      // login or a missing mailbox is the user's to fix, said at once.
      if (!hooks.watch || lost === 0 || !connectionLost(error)) throw error;
      if (!(await reconnectAfter(lost++, error, emit, hooks.signal))) return summary;
      continue;
    }
    const { client, lock } = session;
    try {
      const box = client.mailbox;
      if (box && uidValidity !== null && box.uidValidity !== uidValidity) seen.clear();
      uidValidity = box ? box.uidValidity : null;
      emit({ type: 'connected', mailbox: target.mailbox, messages: box ? box.exists : 0 });
      lost = 0;
      if (settings.processed === 'move') await ensureFolder(client, settings.folder);
      await readPass(client, settings, context, matcher, summary, seen, emit);
      summary.verpTags = { ...matcher.tags };
      emit({ type: 'pass', summary: { ...summary } });
      while (hooks.watch && !hooks.signal?.aborted) {
        const arrived = await waitForMail(client, hooks.signal);
        if (!arrived) break;
        await readPass(client, settings, context, matcher, summary, seen, emit);
        summary.verpTags = { ...matcher.tags };
        emit({ type: 'pass', summary: { ...summary } });
      }
      return summary;
    } catch (error) {
      if (error instanceof NewsletterError) throw error;
      // A store write that failed, or a report the code could not handle: not the connection's fault.
      if (!hooks.watch || hooks.signal?.aborted || client.usable) throw new NewsletterError('BOUNCES_MAILBOX', `reading ${shown} failed: ${(error as Error).message}`, { cause: error });
      if (!(await reconnectAfter(lost++, error, emit, hooks.signal))) return summary;
    } finally {
      lock.release();
      await client.logout().catch(() => undefined);
    }
  }
}

interface Session {
  client: ImapFlow;
  lock: Awaited<ReturnType<ImapFlow['getMailboxLock']>>;
}

/** Logged in, with the mailbox selected and locked; a NewsletterError that says why not. */
async function openSession(target: ImapTarget, shown: string): Promise<Session> {
  const client = new ImapFlow({ host: target.host, port: target.port, secure: target.secure, auth: { user: target.user, pass: target.pass }, logger: false, emitLogs: false });
  // A dropped connection is reported by the command that fails; the event must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const { message, hint } = loginProblem(error, target);
    throw new NewsletterError('BOUNCES_MAILBOX', `cannot log in to ${shown}: ${message}`, { cause: error, hint });
  }
  try {
    return { client, lock: await client.getMailboxLock(target.mailbox) };
  } catch (error) {
    // Which mailboxes there are, so a wrong name is fixed in one go.
    const names = await client
      .list()
      .then((boxes) => boxes.map((box) => box.path))
      .catch(() => []);
    await client.logout().catch(() => undefined);
    throw new NewsletterError('BOUNCES_MAILBOX', `cannot open the mailbox \`${target.mailbox}\` on ${shown}: ${serverSaid(error)}`, {
      cause: error,
      hint: names.length ? `the mailboxes there: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''} (the path of the URL names one)` : undefined,
    });
  }
}

/** Errors of the connection itself (worth trying again), as opposed to a refused login or a missing mailbox. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'NoConnection', 'EConnectionClosed', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS']);

function connectionLost(error: unknown): boolean {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return CONNECTION_CODES.has(String((cause as { code?: unknown }).code ?? ''));
}

/** Waits before the next attempt (false when `signal` aborts meanwhile), and says so. */
async function reconnectAfter(attempt: number, error: unknown, emit: (event: MailboxEvent) => void, signal: AbortSignal | undefined): Promise<boolean> {
  const delays = DEFAULTS.bounces.reconnectDelaysMs;
  const waitMs = delays[Math.min(attempt, delays.length - 1)]!;
  const cause = (error as { cause?: unknown }).cause ?? error;
  emit({ type: 'reconnecting', why: (error as Error).message ?? String(cause), inMs: waitMs });
  if (signal?.aborted) return false;
  await delay(waitMs, undefined, { signal }).catch(() => undefined);
  return !signal?.aborted;
}

/** What the server said (imapflow's `responseText`), not imapflow's bare "Command failed". */
function serverSaid(error: unknown): string {
  const { message, responseText } = error as { message?: string; responseText?: string };
  return responseText?.trim() || message || String(error);
}

function loginProblem(error: unknown, target: ImapTarget): { message: string; hint?: string | undefined } {
  const { authenticationFailed, code, message = '' } = error as { authenticationFailed?: boolean; code?: string; message?: string };
  if (authenticationFailed) return { message: `the server refused the user \`${target.user}\` or its password (${serverSaid(error)})`, hint: 'a user or password with @, : or / is written %40, %3A, %2F in the URL' };
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|unknown protocol/i.test(message)) {
    return { message: `port ${target.port} does not speak TLS`, hint: `imaps:// is TLS from the first byte (usually port 993); for a plain port with STARTTLS (usually 143) write imap://${target.host}:${target.port}/…` };
  }
  if (code === 'ECONNREFUSED') return { message: `nothing answers on ${target.host}:${target.port}`, hint: 'check the host and port of the URL (imaps: 993, imap: 143)' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { message: `the host \`${target.host}\` is not found (${code})` };
  return { message: serverSaid(error) };
}

async function ensureFolder(client: ImapFlow, folder: string): Promise<void> {
  const list = await client.list();
  if (!list.some((box) => box.path === folder)) await client.mailboxCreate(folder);
}

/** Resolves true when new mail arrives (IMAP EXISTS, seen while idling), false when `signal` aborts. */
function waitForMail(client: ImapFlow, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const done = (value: boolean) => {
      client.off('exists', onExists);
      client.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onExists = () => done(true);
    const onAbort = () => done(false);
    const onClose = () => {
      client.off('exists', onExists);
      signal?.removeEventListener('abort', onAbort);
      reject(new Error('the IMAP server closed the connection'));
    };
    client.on('exists', onExists);
    client.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    // imapflow enters IDLE by itself while the connection has nothing to do.
    void client.idle().catch(() => undefined);
  });
}

async function readPass(
  client: ImapFlow,
  settings: MailboxSettings,
  context: BounceContext,
  matcher: ReportMatcher,
  summary: MailboxSummary,
  seen: Set<number>,
  emit: (event: MailboxEvent) => void,
): Promise<void> {
  const found = await client.search(settings.processed === 'flag' ? { unKeyword: settings.keyword } : { all: true }, { uid: true });
  const uids = (found || []).filter((uid) => !seen.has(uid));
  // One chunk streams in while the one before is handled: the handling is this process's CPU,
  // the fetch mostly the server's. Nothing else is sent while a FETCH streams (imapflow queues
  // the STORE or MOVE behind it), and the fetch's consumer issues no command of its own.
  const fetchChunk = async (chunk: number[]) => {
    const messages: { uid: number; source: Buffer }[] = [];
    for await (const message of client.fetch(chunk.join(','), { uid: true, source: true }, { uid: true })) {
      if (message.source) messages.push({ uid: message.uid, source: message.source });
    }
    return messages;
  };
  let fetching = uids.length ? fetchChunk(uids.slice(0, BATCH)) : null;
  for (let start = 0; start < uids.length; start += BATCH) {
    const messages = await fetching!;
    fetching = start + BATCH < uids.length ? fetchChunk(uids.slice(start + BATCH, start + 2 * BATCH)) : null;
    // A failure of the next fetch is thrown when it is awaited; until then it is not unhandled.
    fetching?.catch(() => undefined);
    // The whole chunk at once: a report's store writes wait for the disk (the files store syncs
    // each group of writes), so the more reports share a sync, the fewer syncs the pass waits
    // for. One at a time, a pass spent a third of its time idle, waiting on fdatasync.
    const handled: number[] = [];
    await Promise.all(
      messages.map(async (message) => {
        seen.add(message.uid);
        if (await handleMessage(message, settings, context, matcher, summary, emit)) handled.push(message.uid);
      }),
    );
    handled.sort((a, b) => a - b);
    if (!handled.length) continue;
    if (settings.processed === 'move') await client.messageMove(handled.join(','), settings.folder, { uid: true });
    else await client.messageFlagsAdd(handled.join(','), [settings.keyword], { uid: true });
  }
}

/** True when the message is handled (to be marked); false when it is left for a person. */
async function handleMessage(
  message: { uid: number; source: Buffer },
  settings: MailboxSettings,
  context: BounceContext,
  matcher: ReportMatcher,
  summary: MailboxSummary,
  emit: (event: MailboxEvent) => void,
): Promise<boolean> {
  summary.read++;
  const report = await classifyMessage(message.source);
  if (report.kind === 'unknown' && report.form === 'unsubscribe-unverified') {
    summary.unverified++;
    emit({ type: 'left', why: 'unverified', uid: message.uid, subject: report.subject, email: report.recipients[0]?.email ?? null, detail: report.recipients[0]?.diagnostic ?? null });
    return false;
  }
  if (report.kind === 'unknown') {
    summary.unknown++;
    emit({ type: 'left', why: 'unknown', uid: message.uid, subject: report.subject });
    return false;
  }
  if (report.kind === 'ignored') {
    summary.ignored++;
    return true;
  }
  const events = await matcher.match(report, 'imap');
  if (!events.length) {
    summary.unmatched++;
    const request = report.kind === 'unsubscribe' ? { email: report.recipients[0]?.email ?? null, detail: report.requestedIssue ? `an unsubscribe request naming \`${report.requestedIssue}\`, an issue not sent, or from an address not sent to` : 'an unsubscribe request from an address not sent to' } : {};
    emit({ type: 'left', why: 'unmatched', uid: message.uid, subject: report.subject, ...request });
    return false;
  }
  const outcomes: { event: BounceEvent; outcome: string }[] = [];
  for (const event of events) outcomes.push({ event, outcome: await applyBounceEvent(context.store, context.listId, event, context.rules) });
  // Every rule is idempotent: the claim only decides whether this run reports the counts.
  const id = `imap:${createHash('sha256').update(message.source).digest('hex')}`;
  if (!(await context.store.bounces.claim(id, settings.claimTtlMs))) {
    summary.alreadyHandled++;
    return true;
  }
  for (const { event, outcome } of outcomes) {
    // A report naming a string that is not one address (a list, a hash, a removal line): nothing done.
    if (outcome === 'not-an-address') continue;
    if (event.kind === 'hard') summary.hard++;
    else if (event.kind === 'soft') summary.soft++;
    else if (event.kind === 'complaint') summary.complaints++;
    else if (event.kind === 'unsubscribe') summary.unsubscribes++;
    else summary.deliveries++;
    if (outcome === 'suppressed') summary.suppressed++;
    emit({ type: 'event', event, outcome });
  }
  return true;
}
