import { createHmac, timingSafeEqual } from 'node:crypto';
import { fresh, isRecord, parseJson, refuse, text, type ProviderEvent, type Verdict, type WebhookContext } from './types.js';

/**
 * Mailgun (`POST /webhooks/mailgun`): `signature.signature` is the hex HMAC-SHA256 of
 * `timestamp + token` keyed with MAILGUN_WEBHOOK_SIGNING_KEY; the timestamp must be within the
 * replay window and what it signs (timestamp and token joined, however split) is accepted once
 * (claimed by the handler with the events, kept twice the window).
 * Events: `failed` (severity permanent → hard, temporary → soft), `complained`, `delivered`.
 */

export async function verifyMailgun(context: WebhookContext, key: string): Promise<Verdict> {
  const payload = parseJson(context.body);
  if (!isRecord(payload)) return refuse(400, 'bad-request', 'expected a JSON object');
  const signature = isRecord(payload.signature) ? payload.signature : null;
  const timestamp = text(signature?.timestamp);
  const token = text(signature?.token);
  const given = text(signature?.signature);
  if (!timestamp || !token || !given) return refuse(401, 'unsigned', 'no signature');
  // The HMAC is of the two joined: digits only for the one, letters and digits for the other, or
  // "1765125257" + "e0abc…" could be signed again as "1765125257e0" + "abc…", a new token.
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9]{1,256}$/.test(token)) return refuse(403, 'bad-signature', 'the timestamp or token is not of the form Mailgun signs');
  const expected = createHmac('sha256', key).update(timestamp + token).digest();
  const actual = Buffer.from(given, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return refuse(403, 'bad-signature', 'the signature does not verify');
  if (!fresh(Number(timestamp) * 1000, context.now, context.replayWindowMs)) return refuse(403, 'stale', 'the timestamp is outside the replay window');

  const data = isRecord(payload['event-data']) ? payload['event-data'] : null;
  const email = text(data?.recipient);
  if (!data || !email) return refuse(400, 'bad-request', 'expected `event-data` with a `recipient`');
  const status = isRecord(data['delivery-status']) ? data['delivery-status'] : {};
  const message = isRecord(data.message) && isRecord(data.message.headers) ? data.message.headers : {};
  const rawId = text(message['message-id']);
  const base = { email, id: `mailgun:${text(data.id) ?? token}`, messageId: rawId ? `<${rawId.replace(/^<|>$/g, '')}>` : null };
  const diagnostic = [text(status.code), text(status.message) ?? text(status.description)].filter(Boolean).join(' ') || text(data.reason);
  const enhanced = text(status['enhanced-code']);
  let event: ProviderEvent;
  switch (text(data.event)) {
    case 'failed':
      event = { ...base, kind: text(data.severity) === 'permanent' ? 'hard' : 'soft', status: enhanced, diagnostic };
      break;
    case 'complained':
      event = { ...base, kind: 'complaint', status: null, diagnostic: null };
      break;
    case 'delivered':
      event = { ...base, kind: 'delivered', status: null, diagnostic: null };
      break;
    default:
      event = { ...base, kind: 'ignored', status: null, diagnostic: null };
  }
  // What was signed, once, however timestamp and token are split (the HMAC of the two joined).
  return { ok: true, events: [event], once: { id: `mailgun-signed:${expected.toString('hex')}`, ttlMs: context.replayWindowMs * 2 } };
}
