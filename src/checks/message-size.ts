import { Encoder } from 'nodemailer/lib/qp';
import { crlf, type MessageInput } from '../render/message.js';
import { PREVIEW_SECRET, unsubscribeUrl } from '../render/links.js';
import { partOfType, type ParsedMessage } from './mime.js';
import Handlebars from 'handlebars';

/**
 * Gmail clips a message whose HTML body passes ~102 KB, counted as it travels: after
 * quoted-printable encoding, which our composer applies. The sample copy is measured in the composed
 * message itself. Each copy carries its recipient's address (footer, unsubscribe URL), so the
 * largest copy is the one for the longest address: the sample HTML with its address lengthened to
 * 254 characters, the longest SMTP allows (RFC 5321 §4.5.3.1.3), wherever it appears (as written,
 * HTML-escaped and URL-encoded, and inside the unsubscribe token), run through the quoted-printable encoder the composer uses (the
 * same bytes as composing the message, a fraction of the time). Other list fields a template may
 * print are taken at the sample recipient's length.
 */

export const LONGEST_ADDRESS = 254;

export interface HtmlPartSize {
  /** Encoded bytes of the text/html part for the sample recipient. */
  sampleBytes: number;
  /** The same for the longest possible address. */
  largestBytes: number;
  hasHtmlPart: boolean;
}


export function lengthenAddress(email: string, length = LONGEST_ADDRESS): string {
  if (email.length >= length) return email;
  const at = email.lastIndexOf('@');
  const padding = 'x'.repeat(length - email.length);
  return at < 0 ? email + padding : `${email.slice(0, at)}${padding}${email.slice(at)}`;
}

/** Every form in which a template or URL pattern prints the address, replaced by the long one. */
export function substituteAddress(html: string, from: string, to: string): string {
  let out = html;
  const forms: [string, string][] = [
    [encodeURIComponent(from), encodeURIComponent(to)],
    [Handlebars.escapeExpression(from), Handlebars.escapeExpression(to)],
    [from, to],
  ];
  for (const [a, b] of forms) if (a) out = out.split(a).join(b);
  return out;
}

function htmlBytes(message: ParsedMessage): number | undefined {
  return partOfType(message, 'text/html')?.encodedBody.length;
}

/** Bytes of `text` after nodemailer's quoted-printable encoder, as MailComposer runs it for a text part. */
export function quotedPrintableLength(text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let length = 0;
    const encoder = new Encoder();
    encoder.on('data', (chunk: Buffer) => (length += chunk.length));
    encoder.on('end', () => resolve(length));
    encoder.on('error', reject);
    encoder.end(Buffer.from(text));
  });
}

export async function measureHtmlPart(message: ParsedMessage, input: MessageInput): Promise<HtmlPartSize> {
  const sampleBytes = htmlBytes(message);
  if (sampleBytes === undefined) return { sampleBytes: 0, largestBytes: 0, hasHtmlPart: false };
  const email = input.recipient.email;
  const long = lengthenAddress(email);
  if (long === email) return { sampleBytes, largestBytes: sampleBytes, hasHtmlPart: true };
  // The unsubscribe token carries the address (encrypted), so it grows with it: the URL of the long
  // address replaces the sample's first (its length does not depend on the key), then the address.
  const longUrl = unsubscribeUrl(input.config, { email: long }, input.issueSlug, PREVIEW_SECRET);
  const withUrl = substituteAddress(input.html, input.unsubscribeUrl, longUrl);
  // CRLF, as composeMessage writes the part (every line one byte longer than in the rendered HTML).
  const largestBytes = await quotedPrintableLength(crlf(substituteAddress(withUrl, email, long)));
  return { sampleBytes, largestBytes: Math.max(sampleBytes, largestBytes), hasHtmlPart: true };
}
