import MailComposer from 'nodemailer/lib/mail-composer';
import { foldLines } from 'nodemailer/lib/mime-funcs';
import addressparser from 'nodemailer/lib/addressparser';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { composeMessage, inlineImagesOf, listIdFor, mailOptions, type MessageInput } from '../render/message.js';
import { verpAddress } from '../bounces/verp.js';
import type { CompiledIssue, SlotValues } from '../render/personalize.js';
import { encodeSlotTemplate, fillQpBytes, type QpSlotTemplate } from './qp-slots.js';

/**
 * The MIME message composed once per issue, with slots for what differs per recipient. nodemailer's
 * MailComposer builds the skeleton from the same `mailOptions` as `build`'s message.eml (headers,
 * boundary, part headers); per recipient the four headers that vary (To, Message-ID, Date,
 * List-Unsubscribe) are encoded with nodemailer's own header encoder and the two parts are
 * quoted-printable with slots (qp-slots.ts). Values holding a line break, or text values that the
 * text tidying would treat differently, take the from-scratch path: composeMessage on the copy.
 */

export interface OutgoingMessage {
  raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
  /** True when the message was composed from scratch instead of from the slots. */
  composed: boolean;
}

export interface MessageTemplate {
  build(recipient: Recipient, date?: Date): Promise<OutgoingMessage>;
}

const VARYING = new Set(['To', 'Message-ID', 'Date', 'List-Unsubscribe']);
const PLACEHOLDER_CONTENT = '\u00e9';

type HeaderPiece = string | { key: string };

/** Splits a header block into its fields (a field continues on lines that start with whitespace). */
function headerFields(block: string): string[] {
  return block.split(/\r\n(?![ \t])/);
}

function hasLineBreak(values: readonly string[]): boolean {
  return values.some((value) => value.includes('\n') || value.includes('\r'));
}

export function envelopeFrom(config: ResolvedConfig): string {
  const address = addressparser(config.from, { flatten: true })[0]?.address;
  if (!address) throw new NewsletterError('SEND_CONFIG', `\`from\` in the config has no address: \`${config.from}\``, { file: config.paths.config ?? undefined });
  return address;
}

/**
 * The envelope sender of each message: the VERP address of the recipient when `bounces.address`
 * is set (bounces then name their recipient, docs/bounces.md), else the From address.
 */
export function envelopeSender(config: ResolvedConfig, issueSlug: string, secret: string | undefined): (email: string) => string {
  const from = envelopeFrom(config);
  const base = config.bounces?.address;
  if (!base || !secret) return () => from;
  const listId = listIdFor(config);
  return (email) => verpAddress(base, secret, listId, issueSlug, email);
}

/** `secret` (NEWSLETTER_SECRET) signs the VERP tags; without it the From address is the envelope sender. */
export async function compileMessageTemplate(compiled: CompiledIssue, config: ResolvedConfig, secret?: string): Promise<MessageTemplate> {
  const issueSlug = compiled.issue.slug;
  const subject = compiled.issue.subject;
  // `images: "embed"`: the images travel as inline parts (multipart/related), which the two-part
  // skeleton below has no place for, so every copy is composed from scratch with them.
  const inlineImages = inlineImagesOf(compiled.assets ?? []);
  const base = (recipient: Recipient, copy: { html: string; text: string; unsubscribeUrl: string }, date: Date): MessageInput => ({
    config,
    issueSlug,
    subject,
    html: copy.html,
    text: copy.text,
    recipient,
    unsubscribeUrl: copy.unsubscribeUrl,
    date,
    inlineImages,
  });
  const sender = envelopeSender(config, issueSlug, secret);

  const skeleton = new MailComposer(
    mailOptions({ ...base({ email: 'slot@example.invalid' }, { html: PLACEHOLDER_CONTENT, text: PLACEHOLDER_CONTENT, unsubscribeUrl: 'https://example.invalid/' }, new Date(0)), inlineImages: [] }) as never,
  ).compile();
  const rootHeaders = skeleton.buildHeaders();
  const [textNode, htmlNode] = skeleton.childNodes;
  const partHeaders = [textNode, htmlNode].map((node) => node?.buildHeaders() ?? '');
  if (skeleton.childNodes.length !== 2 || !skeleton.boundary || partHeaders.some((h) => !/Content-Transfer-Encoding: quoted-printable/i.test(h))) {
    throw new NewsletterError('INTERNAL', 'unexpected MIME structure from nodemailer (expected multipart/alternative with two quoted-printable parts)');
  }
  const header: HeaderPiece[] = headerFields(rootHeaders).map((field) => {
    const key = field.slice(0, field.indexOf(':'));
    return VARYING.has(key) ? { key } : field;
  });
  const boundary = skeleton.boundary;
  const textPrefix = Buffer.from(`\r\n\r\n--${boundary}\r\n${partHeaders[0]}\r\n\r\n`, 'utf8');
  const htmlPrefix = Buffer.from(`\r\n--${boundary}\r\n${partHeaders[1]}\r\n\r\n`, 'utf8');
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');

  const fast = compiled.mode === 'slots' && inlineImages.length === 0;
  const textBody: QpSlotTemplate | null = fast ? encodeSlotTemplate(compiled.text) : null;
  const htmlBody: QpSlotTemplate | null = fast ? encodeSlotTemplate(compiled.html) : null;
  // The skeleton's root node encodes as the from-scratch compose does (same textEncoding option).
  const encoder = skeleton;

  const headerLine = (key: string, options: ReturnType<typeof mailOptions>): string => {
    switch (key) {
      case 'To':
        return foldLines(`${key}: ${encoder.encodeHeaderValue(key, options.to)}`, 76);
      case 'Message-ID':
        return foldLines(`${key}: ${encoder.encodeHeaderValue(key, options.messageId)}`, 76);
      case 'Date':
        return foldLines(`${key}: ${encoder.encodeHeaderValue(key, options.date)}`, 76);
      default:
        // Prepared by message.ts, written unfolded as nodemailer writes prepared headers.
        return `${key}: ${options.headers['List-Unsubscribe'].value}`;
    }
  };

  const fromScratch = async (recipient: Recipient, copy: { html: string; text: string; unsubscribeUrl: string }, date: Date, messageId: string, to: string): Promise<OutgoingMessage> => ({
    raw: await composeMessage(base(recipient, copy, date)),
    messageId,
    envelope: { from: sender(to), to: [to] },
    composed: true,
  });

  return {
    async build(recipient, date = new Date()) {
      const values: SlotValues = compiled.values(recipient);
      const options = mailOptions(base(recipient, { html: '', text: '', unsubscribeUrl: values.raw[0]! }, date));
      const to = options.to.address;
      if (!textBody || !htmlBody) return fromScratch(recipient, await compiled.personalize(recipient), date, options.messageId, to);
      if (!compiled.slotSafe(values)) return fromScratch(recipient, await compiled.personalize(recipient), date, options.messageId, to);
      const textFits = compiled.text.slots.every((slot, k) => compiled.textRobust[k] || (values.raw[slot] !== '' && values.raw[slot]!.trim() === values.raw[slot]));
      if (!textFits || hasLineBreak(values.raw) || hasLineBreak(values.html)) {
        return fromScratch(recipient, compiled.fill(values), date, options.messageId, to);
      }
      let head = '';
      for (const piece of header) head += (head ? '\r\n' : '') + (typeof piece === 'string' ? piece : headerLine(piece.key, options));
      // Assembled from bytes: the encoded static text was turned into bytes once per issue.
      const headBytes = Buffer.from(head, 'utf8');
      const chunks: Buffer[] = [headBytes, textPrefix];
      let length = headBytes.length + textPrefix.length + htmlPrefix.length + closing.length;
      length += fillQpBytes(textBody, values.raw, chunks);
      chunks.push(htmlPrefix);
      length += fillQpBytes(htmlBody, values.html, chunks);
      chunks.push(closing);
      return { raw: Buffer.concat(chunks, length), messageId: options.messageId, envelope: { from: sender(to), to: [to] }, composed: false };
    },
  };
}
