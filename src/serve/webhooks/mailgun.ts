import { createHmac, timingSafeEqual } from 'node:crypto';
import { fresh, isRecord, parseJson, refuse, text, type ProviderEvent, type Verdict, type WebhookContext } from './types.js';

/**
 * Mailgun (`POST /webhooks/mailgun`): `signature.signature` is the hex HMAC-SHA256 of
 * `timestamp + token` keyed with MAILGUN_WEBHOOK_SIGNING_KEY; the timestamp must be within the
 * replay window and the token is accepted once (store.bounces.claim, kept twice the window).
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
  const expected = createHmac('sha256', key).update(timestamp + token).digest();
  const actual = Buffer.from(given, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return refuse(403, 'bad-signature', 'the signature does not verify');
  if (!fresh(Number(timestamp) * 1000, context.now, context.replayWindowMs)) return refuse(403, 'stale', 'the timestamp is outside the replay window');
  if (!(await context.claim(`mailgun-token:${token}`, context.replayWindowMs * 2))) return refuse(403, 'replayed', 'this token was already used');
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
  return { ok: true, events: [event] };
}
