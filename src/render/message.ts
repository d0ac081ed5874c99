import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { encodeWord } from 'nodemailer/lib/mime-funcs';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { normalizeEmail } from './links.js';
import { fromDomain, headerSafe, listIdFor } from './list-id.js';

export { fromDomain, headerSafe, listIdFor };
import type { RenderedIssue } from './render-issue.js';

/**
 * The RFC 5322 message for one recipient, composed by nodemailer's own MIME composer. `build`
 * writes it as message.eml, the preview shows its headers, and `send` uses the same headers.
 */

export interface MessageInput {
  config: ResolvedConfig;
  issueSlug: string;
  subject: string;
  html: string;
  text: string;
  recipient: Recipient;
  unsubscribeUrl: string;
  date?: Date | undefined;
  /** Images sent inside the message (`images: "embed"`): referenced from the HTML as `cid:`. */
  inlineImages?: readonly InlineImage[] | undefined;
}

export interface InlineImage {
  cid: string;
  /** The processed image file. */
  file: string;
  name: string;
  contentType: string;
}

/** The inline parts of a rendered copy: its assets that carry a Content-ID. */
export function inlineImagesOf(assets: readonly { cid?: string | undefined; file: string; name: string; contentType: string }[]): InlineImage[] {
  return assets.filter((a) => a.cid).map((a) => ({ cid: a.cid!, file: a.file, name: a.name, contentType: a.contentType }));
}

/** The message of one rendered copy: what build writes as .eml, checks measure and the preview shows. */
export function messageInputFor(config: ResolvedConfig, rendered: RenderedIssue, date?: Date): MessageInput {
  return {
    config,
    issueSlug: rendered.slug,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    recipient: rendered.recipient,
    unsubscribeUrl: rendered.unsubscribeUrl,
    date,
    inlineImages: inlineImagesOf(rendered.assets ?? []),
  };
}

/** RFC 5322: a header line is at most 998 octets; folding is only possible at whitespace. */
const LONGEST_WORD = 60;
const LONGEST_NAME = 200;

/** Every line break as CRLF, as a message file must have it (a 7bit part is written as given). */
export function crlf(text: string): string {
  return text.replace(/\r?\n|\r/g, '\r\n');
}

/**
 * The subject as nodemailer should write it: unchanged when it can be folded at its spaces; a
 * word too long to fold (a 3,000-character subject without spaces) makes it encoded words of
 * at most 75 characters, which nodemailer folds between.
 */
export function foldableSubject(subject: string): string {
  const longest = subject.split(/\s+/).reduce((max, word) => Math.max(max, word.length), 0);
  return longest > LONGEST_WORD ? encodeWord(subject, 'Q', 52) : subject;
}

/**
 * Stable per (list, issue, recipient), so a retried send reuses it and receivers can deduplicate;
 * the list id is part of it, so two newsletters on one domain with the same issue slug differ.
 */
export function messageIdFor(config: ResolvedConfig, issueSlug: string, email: string): string {
  const hash = createHash('sha256').update(`${listIdFor(config)}\n${issueSlug}\n${normalizeEmail(email)}`).digest('hex').slice(0, 32);
  return `<${hash}.${issueSlug.replace(/[^\w.-]/g, '-')}@${fromDomain(config)}>`;
}

export function listUnsubscribeValue(config: ResolvedConfig, unsubscribeUrl: string, issueSlug: string): string {
  const targets = [`<${unsubscribeUrl}>`];
  if (config.unsubscribeMailto) {
    targets.push(`<mailto:${config.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${issueSlug}`)}>`);
  }
  // Folded between its two targets when it would not fit on one line.
  return targets.join(targets.join(', ').length > 900 ? ',\r\n ' : ', ');
}

export function recipientAddress(recipient: Recipient): { name: string; address: string } {
  // A display name is never hundreds of characters; a longer value is cut (with …, which also
  // makes nodemailer encode it as foldable words) so the To line stays within 998 octets.
  let name = typeof recipient.name === 'string' ? headerSafe(recipient.name) : '';
  if ([...name].length > LONGEST_NAME || /\S{61,}/.test(name)) name = `${[...name].slice(0, LONGEST_NAME).join('')}…`;
  return { name, address: headerSafe(recipient.email) };
}

/** The nodemailer message options for one recipient: headers and both parts. */
export function mailOptions(input: MessageInput) {
  const { config } = input;
  return {
    from: config.from,
    ...(config.replyTo ? { replyTo: config.replyTo } : {}),
    to: recipientAddress(input.recipient),
    subject: foldableSubject(headerSafe(input.subject)),
    date: input.date ?? new Date(),
    messageId: messageIdFor(config, input.issueSlug, input.recipient.email),
    text: crlf(input.text),
    html: crlf(input.html),
    textEncoding: 'quoted-printable' as const,
    // multipart/related around the HTML when images travel inside the message.
    ...(input.inlineImages?.length
      ? { attachments: input.inlineImages.map((image) => ({ cid: image.cid, path: image.file, filename: image.name, contentType: image.contentType, contentDisposition: 'inline' as const })) }
      : {}),
    headers: {
      'List-Unsubscribe': { prepared: true, value: listUnsubscribeValue(config, headerSafe(input.unsubscribeUrl), input.issueSlug) },
      'List-Unsubscribe-Post': { prepared: true, value: 'List-Unsubscribe=One-Click' },
      'List-Id': { prepared: true, value: listIdFor(config) },
      // RFC 2369: where the web edition and the archive are (`newsletter publish`).
      'List-Archive': { prepared: true, value: `<${headerSafe(config.siteUrl)}>` },
    },
  };
}

/** The whole message as bytes, ready to write as .eml or hand to a transport as `raw`. */
export function composeMessage(input: MessageInput): Promise<Buffer> {
  const composer = new MailComposer(mailOptions(input) as never);
  return new Promise((resolve, reject) => {
    composer.compile().build((error, message) => (error ? reject(error) : resolve(message)));
  });
}
