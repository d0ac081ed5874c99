import PostalMime, { type Email } from 'postal-mime';
import { addressOfTyped, field, parseFieldBlocks, parseHeaderBlock, recipientBlocks, type FieldBlock } from './fields.js';
import { PLAIN_FORMS } from './plain-forms.js';
import { verdictOf, type Severity } from './severity.js';

/**
 * What a message in the bounce mailbox is: a bounce (per recipient, hard or soft), a complaint,
 * a delivery report, or something to leave alone (an auto-reply, a delay notice), or unknown.
 * Pure: bytes in, a value out; matching it to a recipient and recording it is match.ts's and
 * rules.ts's job. The order of the tests is the order of confidence:
 *
 * 1. `multipart/report; report-type=feedback-report` (RFC 5965 ARF): a complaint;
 * 2. `multipart/report; report-type=delivery-status` (RFC 3464): per recipient Action, Status,
 *    Diagnostic-Code, Final-Recipient;
 * 3. a plain-text bounce in one of the forms of plain-forms.ts, from a mailer daemon;
 * 4. an unsubscribe request: what a mail client sends to the `mailto:` of List-Unsubscribe
 *    (`unsubscribeMailto`), or a reader writes, with a subject that starts "unsubscribe". Its
 *    From is the reader when the receiving server's own Authentication-Results (the topmost)
 *    vouch for it (whyNotVouched); else it is left for a person (`unsubscribe-unverified`);
 * 5. an auto-reply (RFC 3834 `Auto-Submitted`, the X- headers of the big clients, the usual
 *    subjects): ignored, never a bounce;
 * 6. anything else: unknown (left in the mailbox unmarked, counted in the summary).
 */

export type ReportKind = 'bounce' | 'complaint' | 'delivered' | 'unsubscribe' | 'ignored' | 'unknown';

export interface RecipientReport {
  /** The failed (or complaining) address as the report names it, or null when it names none. */
  email: string | null;
  /** `hard` or `soft` for a bounce; null for a complaint or delivery. */
  severity: Severity | null;
  /** RFC 3463 status (`5.1.1`) as reported or as the wording implies. */
  status: string | null;
  diagnostic: string | null;
}

export interface OriginalMessage {
  messageId: string | null;
  listId: string | null;
  to: string | null;
  returnPath: string | null;
}

export interface Classification {
  kind: ReportKind;
  /** How it was recognised: `rfc3464`, `arf`, `exim`, `postfix`, …, `auto-reply`, `delayed`. */
  form: string;
  recipients: RecipientReport[];
  /** The headers of the message it reports on, when quoted. */
  original: OriginalMessage | null;
  /** Addresses the report was sent to and sender addresses it quotes: where VERP tags appear. */
  verpCandidates: string[];
  /** The report's own Message-ID (stable across mailboxes: the once-only key). */
  messageId: string | null;
  subject: string;
  /** An unsubscribe request's issue, from the `unsubscribe <slug>` subject our mailto link sets. */
  requestedIssue?: string | null;
}

/**
 * postal-mime rather than mailparser's simpleParser: the same author's parser without streams,
 * about twice as fast on these reports (the IMAP pass is bound by it), with limits on nesting,
 * header bytes and part count built in (a hostile report is refused, not followed). It keeps the
 * message a report returns as an attachment whenever the report has a delivery-status or
 * feedback part, which is where the original's headers are read from.
 */
const PARSE_OPTIONS = { attachmentEncoding: 'utf8', maxNestingDepth: 50, maxHeadersSize: 1 << 20, maxPartCount: 1000 } as const;

export async function classifyMessage(raw: Buffer | string): Promise<Classification> {
  const source = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  let parsed: Email;
  try {
    parsed = await PostalMime.parse(source, PARSE_OPTIONS);
  } catch {
    // Past the parser's limits (or not MIME at all): left for a person, as anything unknown.
    const subject = /^Subject:[ \t]*(.*)$/im.exec(source.subarray(0, 8192).toString('latin1'))?.[1]?.trim() ?? '';
    return { kind: 'unknown', form: 'unparseable', recipients: [], original: null, verpCandidates: [], messageId: null, subject };
  }
  return classifyParsed(parsed, source);
}

const DAEMON = /^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|mdaemon|bounce|bounces|nobody|noreply-dmarc-support|double-bounce)@/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|returned mail|delivery (?:status notification|failure|failed|has failed|problem)|mail delivery (?:failed|failure|system|subsystem)|failure notice|could not be delivered|non ?remis|unzustellbar|nicht zustellbar|message not delivered|delivery incomplete|returned to sender|mail system error/i;
const AUTO_SUBJECT =
  /^(?:re:\s*)?(?:auto(?:matic)?[ -]?(?:reply|response|answer|antwort)|autoreply|auto:|out of (?:the )?office|ooo\b|on vacation|vacation|away from (?:the|my) (?:office|desk)|abwesen|réponse automatique|reponse automatique|absence|respuesta automática|risposta automatica|automatisch antwoord|afwezig|fuera de la oficina)/i;

/** `unsubscribe`, `Unsubscribe weekly-12` (our mailto's subject), `Re: unsubscribe`. */
const UNSUBSCRIBE_SUBJECT = /^\s*(?:re:\s*)?unsubscribe(?:\s+([\w-]+(?:\/[\w-]+)*))?\s*$/i;

/**
 * Why the receiving server does not vouch for the From, in words; null when it does: its
 * Authentication-Results (the topmost, the one it added; lower ones came with the message and
 * could say anything) show DMARC passing, or DKIM or SPF passing for the From's own domain (or a
 * parent or child of it: relaxed alignment). A DKIM pass for the sender's own domain proves
 * nothing about the From, and no header proves nothing at all: anyone can send "unsubscribe" in
 * a reader's name.
 */
function whyNotVouched(parsed: Email, from: string): string | null {
  const results = headerText(parsed, 'authentication-results')?.slice(0, 4096);
  if (!results) return 'the receiving server added no Authentication-Results';
  const domain = from.slice(from.lastIndexOf('@') + 1).toLowerCase();
  const aligned = (other: string | undefined) => {
    const d = (other ?? '').replace(/^.*@/, '').replace(/[>"']+$/, '').toLowerCase();
    return d !== '' && (d === domain || domain.endsWith(`.${d}`) || d.endsWith(`.${domain}`));
  };
  for (const clause of results.split(';')) {
    const method = /^\s*(dmarc|dkim|spf)\s*=\s*pass\b/i.exec(clause)?.[1]?.toLowerCase();
    if (!method) continue;
    const property = (name: string) => new RegExp(`\\b${name}=([^\\s;]+)`, 'i').exec(clause)?.[1];
    if (method === 'dmarc' && (property('header\\.from') === undefined || aligned(property('header\\.from')))) return null;
    if (method === 'dkim' && aligned(property('header\\.d') ?? property('header\\.i'))) return null;
    if (method === 'spf' && aligned(property('smtp\\.mailfrom'))) return null;
  }
  if (/\bdmarc\s*=\s*fail\b/i.test(results)) return 'DMARC failed for the From';
  if (/\b(?:dkim|spf)\s*=\s*pass\b/i.test(results)) return `DKIM or SPF passed for another domain than ${domain}`;
  return 'neither DMARC, DKIM nor SPF passed for the From';
}

/** A report that says the relay is still trying. */
const DELAY_WORDS = /not yet been delivered|still undelivered|delayed|will (?:keep )?(?:retry|trying)|delivery incomplete/i;

function headerText(parsed: Email, name: string): string | null {
  return parsed.headers.find((header) => header.key === name)?.value ?? null;
}

function headerLines(parsed: Email, name: string): string[] {
  return parsed.headers.filter((header) => header.key === name).map((header) => header.value.trim());
}

function attachmentText(parsed: Email, types: readonly string[]): string[] {
  return parsed.attachments.filter((a) => types.includes(a.mimeType.toLowerCase())).map((a) => (typeof a.content === 'string' ? a.content : Buffer.from(a.content as ArrayBuffer).toString('utf8')));
}

/** The addresses of a parsed header, groups flattened. */
function addressesOf(value: Email['from'] | Email['to']): string[] {
  return [value ?? []].flat().flatMap((a) => (a.group ? a.group.map((m) => m.address) : [a.address ?? '']));
}

/** `report-type` of a `multipart/report` message, lower-cased; '' for any other type. */
function reportTypeOf(parsed: Email): string {
  const contentType = headerText(parsed, 'content-type') ?? '';
  if (!/^\s*multipart\/report\s*(?:;|$)/i.test(contentType)) return '';
  return (/;\s*report-type\s*=\s*"?([\w.-]+)/i.exec(contentType)?.[1] ?? '').toLowerCase();
}

/** The quoted original: a message/rfc822 or text/rfc822-headers part, else a Message-ID quoted in the text. */
function originalOf(parsed: Email, source: Buffer): OriginalMessage | null {
  const quoted = attachmentText(parsed, ['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global', 'message/global-headers'])[0];
  if (quoted !== undefined) {
    const headers = parseHeaderBlock(quoted);
    return {
      messageId: field(headers, 'message-id'),
      listId: field(headers, 'list-id'),
      to: field(headers, 'to'),
      returnPath: field(headers, 'return-path'),
    };
  }
  // An inline message/rfc822 is folded into the text by the parser; its headers are still in the bytes.
  const body = source.toString('latin1');
  const headerEnd = body.search(/\r?\n\r?\n/);
  const rest = headerEnd < 0 ? '' : body.slice(headerEnd);
  const messageId = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(rest)?.[1] ?? null;
  const listId = /^List-Id:\s*(.+)$/im.exec(rest)?.[1]?.trim() ?? null;
  if (!messageId && !listId) return null;
  return { messageId, listId, to: /^To:\s*(.+)$/im.exec(rest)?.[1]?.trim() ?? null, returnPath: /^Return-Path:\s*(.+)$/im.exec(rest)?.[1]?.trim() ?? null };
}

function verpCandidatesOf(parsed: Email, extra: (string | null)[]): string[] {
  const values = ['to', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'cc'].flatMap((name) => headerLines(parsed, name));
  return [...values, ...extra.filter((v): v is string => !!v)];
}

function base(parsed: Email, source: Buffer): Omit<Classification, 'kind' | 'form' | 'recipients' | 'verpCandidates'> {
  return { original: originalOf(parsed, source), messageId: parsed.messageId ?? headerText(parsed, 'message-id'), subject: parsed.subject ?? '' };
}

export function classifyParsed(parsed: Email, source: Buffer): Classification {
  const common = base(parsed, source);
  const candidates = (extra: (string | null)[] = []) => verpCandidatesOf(parsed, [...extra, common.original?.returnPath ?? null]);
  const reportType = reportTypeOf(parsed);

  const feedback = attachmentText(parsed, ['message/feedback-report'])[0];
  if (reportType === 'feedback-report' || feedback !== undefined) {
    const block = parseFieldBlocks(feedback ?? '')[0];
    const type = (field(block, 'feedback-type') ?? 'abuse').toLowerCase();
    const rcpt = addressOfTyped(field(block, 'original-rcpt-to')) ?? addressOfTyped(field(block, 'removal-recipient')) ?? addressOfTyped(common.original?.to ?? null);
    const mailFrom = field(block, 'original-mail-from');
    if (type === 'not-spam') return { ...common, kind: 'ignored', form: 'arf-not-spam', recipients: [], verpCandidates: candidates([mailFrom]) };
    return {
      ...common,
      kind: 'complaint',
      form: 'arf',
      recipients: [{ email: rcpt, severity: null, status: null, diagnostic: `feedback-type: ${type}` }],
      verpCandidates: candidates([mailFrom]),
    };
  }

  const status = attachmentText(parsed, ['message/delivery-status', 'message/global-delivery-status'])[0];
  if (status !== undefined) return { ...common, ...fromDeliveryStatus(status), verpCandidates: candidates() };

  const from = addressesOf(parsed.from)[0] ?? '';
  const subject = common.subject;
  const text = parsed.text ?? '';
  // DragonFly's `MAILER-DAEMON <>` has a name and no address.
  const fromDaemon = DAEMON.test(from) || /mail delivery (?:system|subsystem)|^(?:mailer-daemon|postmaster)$/i.test((parsed.from?.name ?? '').trim());
  if (fromDaemon || BOUNCE_SUBJECT.test(subject)) {
    for (const form of PLAIN_FORMS) {
      if (!form.detect.test(text)) continue;
      const temporary = form.temporary?.test(text) ?? false;
      const failures = form.failures(text);
      if (!failures.length) continue;
      const recipients = failures.map(({ email, diagnostic }) => ({ email, diagnostic: diagnostic || null, ...verdictOf(null, diagnostic, temporary) }));
      // A delay notice ("has not yet been delivered") is news, not a failure.
      if (temporary && DELAY_WORDS.test(text)) {
        return { ...common, kind: 'ignored', form: `${form.name}-delayed`, recipients, verpCandidates: candidates() };
      }
      return { ...common, kind: 'bounce', form: form.name, recipients, verpCandidates: candidates() };
    }
    // A daemon's bounce in no form we know: the first address it names that is not an address
    // of the report itself, with whatever code is near it.
    const failure = fromDaemon && BOUNCE_SUBJECT.test(subject);
    const generic = failure ? genericFailure(text, parsed, common.original) : null;
    if (generic && DELAY_WORDS.test(text)) return { ...common, kind: 'ignored', form: 'generic-delayed', recipients: [{ ...generic, severity: 'soft' }], verpCandidates: candidates() };
    if (generic) return { ...common, kind: 'bounce', form: 'generic', recipients: [generic], verpCandidates: candidates() };
    // One that names nobody ("550 5.1.1 User unknown" and nothing more) is still a failure: the
    // VERP tag it was sent to, or our Message-ID it quotes, says whose (match.ts); else it is
    // left in the mailbox as naming nobody we sent to.
    if (failure && !DELAY_WORDS.test(text)) {
      const said = ownWords(text).replace(/\s+/g, ' ').trim().slice(0, 400);
      return { ...common, kind: 'bounce', form: 'generic-unnamed', recipients: [{ email: null, diagnostic: said || null, ...verdictOf(null, said) }], verpCandidates: candidates() };
    }
    if (fromDaemon) return { ...common, kind: 'unknown', form: 'unknown', recipients: [], verpCandidates: candidates() };
  }

  // Before the auto-replies: Apple Mail marks its unsubscribe requests Auto-Submitted.
  const request = UNSUBSCRIBE_SUBJECT.exec(subject);
  if (request && from && !fromDaemon) {
    const recipients = [{ email: from.toLowerCase(), severity: null, status: null, diagnostic: `asked by mail: ${subject.trim().slice(0, 200)}` }];
    const why = whyNotVouched(parsed, from);
    if (why) return { ...common, kind: 'unknown', form: 'unsubscribe-unverified', recipients: [{ ...recipients[0]!, diagnostic: why }], verpCandidates: candidates() };
    return { ...common, kind: 'unsubscribe', form: 'mailto', recipients, verpCandidates: candidates(), requestedIssue: request[1] ?? null };
  }

  if (isAutoReply(parsed, subject)) return { ...common, kind: 'ignored', form: 'auto-reply', recipients: [], verpCandidates: candidates() };
  return { ...common, kind: 'unknown', form: 'unknown', recipients: [], verpCandidates: candidates() };
}

function fromDeliveryStatus(text: string): Pick<Classification, 'kind' | 'form' | 'recipients'> {
  const perRecipient = recipientBlocks(text);
  const recipients: RecipientReport[] = [];
  let failed = false;
  let delivered = false;
  for (const block of perRecipient) {
    const action = (field(block, 'action') ?? '').toLowerCase().split(/[\s(]/)[0]!;
    const email = addressOfTyped(field(block, 'final-recipient')) ?? addressOfTyped(field(block, 'original-recipient'));
    const reported = field(block, 'status');
    const diagnostic = diagnosticOf(block);
    if (action === 'failed') {
      failed = true;
      recipients.push({ email, diagnostic, ...verdictOf(reported?.split(/\s/)[0] ?? null, diagnostic) });
    } else if (action === 'delivered' || action === 'relayed' || action === 'expanded') {
      delivered = true;
      recipients.push({ email, severity: null, status: reported, diagnostic });
    }
    // `delayed`: the relay keeps trying; a later report will say how it ended.
  }
  if (failed) return { kind: 'bounce', form: 'rfc3464', recipients: recipients.filter((r) => r.severity !== null) };
  if (delivered) return { kind: 'delivered', form: 'rfc3464', recipients };
  return { kind: 'ignored', form: 'rfc3464-delayed', recipients: [] };
}

function diagnosticOf(block: FieldBlock): string | null {
  const value = field(block, 'diagnostic-code');
  if (!value) return null;
  // `smtp; 550 …`: the type is not part of what the server said.
  return value.replace(/^[a-z-]+;\s*/i, '').trim() || null;
}

/** RFC 3834 and the headers the big clients set on vacation replies; the usual subjects. */
function isAutoReply(parsed: Email, subject: string): boolean {
  const auto = headerText(parsed, 'auto-submitted');
  if (auto && !/^\s*no\b/i.test(auto)) return true;
  if (headerText(parsed, 'x-autoreply') || headerText(parsed, 'x-autorespond') || headerText(parsed, 'x-autoresponder')) return true;
  if (/auto[_-]?reply/i.test(headerText(parsed, 'precedence') ?? '')) return true;
  if (/^reply$/i.test(headerText(parsed, 'x-autogenerated') ?? '')) return true;
  if (/^(?:OOF|AutoReply)$/i.test(headerText(parsed, 'x-auto-response-suppress') ?? '') && AUTO_SUBJECT.test(subject)) return true;
  return AUTO_SUBJECT.test(subject);
}

/**
 * An address in free text. Bounded parts and no `@` inside either: report text is the sender's
 * to choose, and `[^…]+@[^…]+` over a line of `@`s backtracks for seconds (ReDoS).
 */
const ADDRESS_IN_TEXT = /<?([^\s<>()"',;:@]{1,64}@[^\s<>()"',;:@]{1,255}\.[a-z]{2,})>?/gi;

/** Where a daemon's own words end and the returned message begins (a dashed line or not). */
const QUOTE_STARTS = /^-*[ \t]*(?:original message|below this line|message headers follow|(?:original|returned|unsent) message follows|this is a copy of the message)/im;

/** The report's own words: up to the returned message, and at most 16 KB of them. */
function ownWords(text: string): string {
  const head = text.slice(0, 16_384);
  const end = head.search(QUOTE_STARTS);
  return end < 0 ? head : head.slice(0, end);
}

function genericFailure(text: string, parsed: Email, original: OriginalMessage | null): RecipientReport | null {
  const own = new Set([...addressesOf(parsed.to), ...addressesOf(parsed.from)].map((address) => address.toLowerCase()));
  // Only the report's own words, not the copy of the message it returns.
  const words = ownWords(text);
  const quotedId = original?.messageId?.replace(/^<|>$/g, '').toLowerCase();
  for (const match of words.matchAll(ADDRESS_IN_TEXT)) {
    const email = match[1]!.toLowerCase();
    if (own.has(email) || DAEMON.test(email) || email === quotedId) continue;
    const around = words.slice(match.index, match.index + 400);
    return { email, diagnostic: around.replace(/\s+/g, ' ').trim(), ...verdictOf(null, around) };
  }
  // Words that name nobody (Google Groups writes only the sender's address, in the reader's
  // language): the one recipient of the message it returns, when it quotes one.
  const to = original?.to ? [...original.to.slice(0, 2000).matchAll(ADDRESS_IN_TEXT)].map((m) => m[1]!.toLowerCase()) : [];
  if (to.length === 1 && !own.has(to[0]!)) {
    const said = words.replace(/\s+/g, ' ').trim().slice(0, 400);
    return { email: to[0]!, diagnostic: said || null, ...verdictOf(null, said) };
  }
  return null;
}
