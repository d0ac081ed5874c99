import { timingSafeEqual } from 'node:crypto';
import { isRecord, parseJson, refuse, text, type ProviderEvent, type Verdict, type WebhookContext } from './types.js';

/**
 * Postmark (`POST /webhooks/postmark`): HTTP basic auth with the `user:pass` of
 * POSTMARK_WEBHOOK_AUTH (Postmark puts them in the webhook URL). Bounce records by `TypeCode`,
 * SpamComplaint, Delivery. Postmark signs nothing with a time: a replayed record is known by its
 * `ID`, recorded once (the dispatcher's claim), and changes nothing.
 */

/** Postmark's bounce TypeCodes (postmarkapp.com/developer/api/bounce-api#bounce-types). */
const HARD = new Set([1, 100000, 100002]); // HardBounce, BadEmailAddress, ManuallyDeactivated
const SOFT = new Set([2, 256, 4096, 100006, 100009]); // Transient, DnsError, SoftBounce, Blocked, DMARCPolicy
const COMPLAINT = new Set([512, 100001]); // SpamNotification, SpamComplaint

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function verifyPostmark(context: WebhookContext, auth: string): Promise<Verdict> {
  const header = context.request.header('authorization') ?? '';
  if (!/^Basic\s+/i.test(header)) return refuse(401, 'unsigned', 'basic authentication required');
  const given = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  if (!sameSecret(given, auth)) return refuse(403, 'bad-signature', 'wrong credentials');
  const record = parseJson(context.body);
  if (!isRecord(record)) return refuse(400, 'bad-request', 'expected a JSON object');
  const type = text(record.RecordType);
  const email = text(record.Email) ?? text(record.Recipient);
  const id = text(record.ID) ?? text(record.MessageID);
  if (!email || !id) return refuse(400, 'bad-request', 'expected `Email` (or `Recipient`) and `ID`');
  const messageId = postmarkMessageId(record);
  const base = { email, id: `postmark:${type}:${id}`, messageId };
  let event: ProviderEvent;
  const code = Number(record.TypeCode);
  const diagnostic = text(record.Details) ?? text(record.Description);
  if (type === 'SpamComplaint' || COMPLAINT.has(code)) event = { ...base, kind: 'complaint', status: null, diagnostic };
  else if (type === 'Delivery') event = { ...base, kind: 'delivered', status: null, diagnostic: null };
  else if (type === 'Bounce' && HARD.has(code)) event = { ...base, kind: 'hard', status: '5.0.0', diagnostic: `${text(record.Type) ?? code}: ${diagnostic ?? ''}`.trim() };
  else if (type === 'Bounce' && SOFT.has(code)) event = { ...base, kind: 'soft', status: '4.0.0', diagnostic: `${text(record.Type) ?? code}: ${diagnostic ?? ''}`.trim() };
  else event = { ...base, kind: 'ignored', status: null, diagnostic: null };
  // A replayed request (same credentials, same body) records nothing: its ID is claimed once.
  return { ok: true, events: [event] };
}

function postmarkMessageId(record: Record<string, unknown>): string | null {
  // Postmark returns the headers of the original as a list when asked (`Headers` or `Metadata`).
  const headers = Array.isArray(record.Headers) ? record.Headers : [];
  for (const header of headers) if (isRecord(header) && /^message-id$/i.test(String(header.Name))) return text(header.Value);
  return null;
}
