import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { foldLines } from 'nodemailer/lib/mime-funcs';
import type { ResolvedConfig } from '../config/defaults.js';
import { fromDomain } from '../render/list-id.js';
import type { SlotTemplate } from '../render/personalize.js';
import { encodeSlotTemplate, fillQpBytes, type QpSlotTemplate } from '../send/qp-slots.js';
import type { OutgoingSignupEmail } from './mailer.js';

/**
 * A sign-up email as bytes without composing it from scratch: nodemailer's MailComposer makes the
 * skeleton once (headers, boundary, part headers) from the same options as a whole compose, and
 * per message only To, Date, Message-ID (and a welcome's List-Unsubscribe) are encoded, with the
 * two quoted-printable parts filled from slots (send/qp-slots.ts, as `send` does for issues).
 * Composing each confirmation whole took most of the CPU of a POST /subscribe.
 */

const VARYING = new Set(['To', 'Date', 'Message-ID', 'List-Unsubscribe']);

interface Skeleton {
  header: (string | { key: string })[];
  textPrefix: Buffer;
  htmlPrefix: Buffer;
  closing: Buffer;
  encoder: ReturnType<MailComposer['compile']>;
}

export type MailOptionsOf = (email: OutgoingSignupEmail) => Record<string, unknown> & { to: unknown; headers: Record<string, { value: string }> };

export function rawComposer(config: ResolvedConfig, optionsOf: MailOptionsOf): (email: OutgoingSignupEmail) => { raw: Buffer; from: string; to: string } | null {
  const skeletons = new Map<string, Skeleton | null>();
  const bodies = new WeakMap<SlotTemplate, QpSlotTemplate>();
  const domain = fromDomain(config);
  const body = (template: SlotTemplate) => {
    let encoded = bodies.get(template);
    if (!encoded) bodies.set(template, (encoded = encodeSlotTemplate(template)));
    return encoded;
  };

  function skeletonFor(email: OutgoingSignupEmail): Skeleton | null {
    const key = `${email.subject}\n${email.unsubscribeUrl ? 'u' : ''}`;
    if (skeletons.has(key)) return skeletons.get(key)!;
    const options = optionsOf({ ...email, to: { email: 'slot@example.invalid' }, html: '\u00e9', text: '\u00e9', unsubscribeUrl: email.unsubscribeUrl ? 'https://example.invalid/' : null });
    const node = new MailComposer({ ...options, messageId: '<slot@example.invalid>', date: new Date(0) } as never).compile();
    // The root's headers first: building them is what sets the boundary.
    const rootHeaders = node.buildHeaders();
    const parts = node.childNodes.map((child) => child.buildHeaders());
    let skeleton: Skeleton | null = null;
    if (node.childNodes.length === 2 && node.boundary && parts.every((part) => /Content-Transfer-Encoding: quoted-printable/i.test(part))) {
      skeleton = {
        header: rootHeaders
          .split(/\r\n(?![ \t])/)
          .map((field) => {
            const name = field.slice(0, field.indexOf(':'));
            return VARYING.has(name) ? { key: name } : field;
          }),
        textPrefix: Buffer.from(`\r\n\r\n--${node.boundary}\r\n${parts[0]}\r\n\r\n`, 'utf8'),
        htmlPrefix: Buffer.from(`\r\n--${node.boundary}\r\n${parts[1]}\r\n\r\n`, 'utf8'),
        closing: Buffer.from(`\r\n--${node.boundary}--\r\n`, 'utf8'),
        encoder: node,
      };
    }
    if (skeletons.size > 16) skeletons.clear();
    skeletons.set(key, skeleton);
    return skeleton;
  }

  return (email) => {
    const slots = email.slots;
    if (!slots) return null;
    const skeleton = skeletonFor(email);
    if (!skeleton) return null;
    const options = optionsOf(email);
    const messageId = `<${randomBytes(12).toString('hex')}@${domain}>`;
    const line = (key: string): string => {
      if (key === 'To') return foldLines(`To: ${skeleton.encoder.encodeHeaderValue('To', options.to as never)}`, 76);
      if (key === 'Date') return foldLines(`Date: ${skeleton.encoder.encodeHeaderValue('Date', new Date() as never)}`, 76);
      if (key === 'Message-ID') return foldLines(`Message-ID: ${skeleton.encoder.encodeHeaderValue('Message-ID', messageId as never)}`, 76);
      return `${key}: ${options.headers[key]!.value}`;
    };
    let head = '';
    for (const piece of skeleton.header) head += (head ? '\r\n' : '') + (typeof piece === 'string' ? piece : line(piece.key));
    const chunks: Buffer[] = [Buffer.from(head, 'utf8'), skeleton.textPrefix];
    fillQpBytes(body(slots.text), slots.textValues, chunks);
    chunks.push(skeleton.htmlPrefix);
    fillQpBytes(body(slots.html), slots.htmlValues, chunks);
    chunks.push(skeleton.closing);
    const address = (options.to as { address: string }).address;
    return { raw: Buffer.concat(chunks), from: envelopeAddress(String(options.from)), to: address };
  };
}

/** The envelope sender: the address inside `Name <address>`. */
function envelopeAddress(from: string): string {
  return /<([^>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
}
