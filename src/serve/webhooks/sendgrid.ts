import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { fresh, isRecord, parseJson, refuse, text, type ProviderEvent, type Verdict, type WebhookContext } from './types.js';

/**
 * SendGrid's signed Event Webhook (`POST /webhooks/sendgrid`): an ECDSA (P-256, SHA-256)
 * signature over the timestamp header followed by the raw body, verified with the public key
 * SendGrid shows (SENDGRID_WEBHOOK_PUBLIC_KEY, base64 DER or PEM). The timestamp must be within
 * the replay window; a signature is accepted once. Events: `bounce` (by status: 5.x.x hard,
 * `blocked` and 4.x.x soft), `dropped` (a bounced or invalid address: hard; a spam reporter:
 * complaint), `spamreport`, `delivered`.
 */

const SIGNATURE = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp';

const keys = new Map<string, KeyObject>();

function publicKey(text: string): KeyObject {
  let key = keys.get(text);
  if (!key) {
    key = text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
    keys.set(text, key);
  }
  return key;
}

export async function verifySendgrid(context: WebhookContext, keyText: string): Promise<Verdict> {
  const signature = context.request.header(SIGNATURE);
  const timestamp = context.request.header(TIMESTAMP);
  if (!signature || !timestamp) return refuse(401, 'unsigned', 'no signature');
  let valid: boolean;
  try {
    valid = verify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), context.body]), { key: publicKey(keyText), dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return refuse(403, 'bad-signature', 'the signature does not verify');
  if (!fresh(Number(timestamp) * 1000, context.now, context.replayWindowMs)) return refuse(403, 'stale', 'the timestamp is outside the replay window');
  // What was signed, once: the timestamp and the body. Not the signature's text, which has other
  // spellings (base64 padding and stray bytes, ECDSA's (r, n−s)) that verify as well.
  const signed = createHash('sha256').update(timestamp).update('\n').update(context.body).digest('hex');

  const payload = parseJson(context.body);
  if (!Array.isArray(payload)) return refuse(400, 'bad-request', 'expected a JSON array of events');
  const events: ProviderEvent[] = [];
  for (const item of payload) {
    if (!isRecord(item)) continue;
    const email = text(item.email);
    if (!email) continue;
    const base = { email, id: `sendgrid:${text(item.sg_event_id) ?? `${text(item.sg_message_id)}:${text(item.event)}:${email}`}`, messageId: text(item['smtp-id']) };
    const reason = text(item.reason) ?? text(item.response);
    const status = text(item.status);
    switch (text(item.event)) {
      case 'bounce': {
        const soft = text(item.type) === 'blocked' || (status?.startsWith('4') ?? false);
        events.push({ ...base, kind: soft ? 'soft' : 'hard', status, diagnostic: reason });
        break;
      }
      case 'dropped': {
        const why = reason ?? '';
        if (/spam report/i.test(why)) events.push({ ...base, kind: 'complaint', status: null, diagnostic: why });
        else if (/bounced address|invalid/i.test(why)) events.push({ ...base, kind: 'hard', status, diagnostic: why });
        else events.push({ ...base, kind: 'ignored', status: null, diagnostic: why });
        break;
      }
      case 'spamreport':
        events.push({ ...base, kind: 'complaint', status: null, diagnostic: null });
        break;
      case 'delivered':
        events.push({ ...base, kind: 'delivered', status: null, diagnostic: null });
        break;
      default:
        events.push({ ...base, kind: 'ignored', status: null, diagnostic: null });
    }
  }
  return { ok: true, events, once: { id: `sendgrid-signed:${signed}`, ttlMs: context.replayWindowMs * 2 } };
}
