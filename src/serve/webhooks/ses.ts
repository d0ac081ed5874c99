import { DEFAULTS } from '../../config/defaults.js';
import { request as httpsRequest } from 'node:https';
import { verify, X509Certificate } from 'node:crypto';
import { fresh, isRecord, parseJson, refuse, text, type ProviderEvent, type Verdict, type WebhookContext } from './types.js';

/**
 * Amazon SES through SNS (`POST /webhooks/ses`). Every SNS message is signed: the signing
 * certificate comes from `SigningCertURL`, which must be an https URL on an
 * `sns.<region>.amazonaws.com` host (anything else is refused before it is fetched); fetched
 * certificates are cached. SignatureVersion 1 is RSA-SHA1, 2 RSA-SHA256, over the fields AWS
 * lists, in its order. A `SubscriptionConfirmation` is confirmed by visiting its SubscribeURL (on
 * the same kind of host). A `Notification` carries SES's event: Bounce (Permanent → hard,
 * Transient and Undetermined → soft), Complaint, Delivery.
 */

export type CertificateSource = (url: string) => Promise<string>;

/** An https URL on `sns.<region>.amazonaws.com` (or the China partition's `.com.cn`), a .pem path. */
export function isSnsCertificateUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && !url.username && !url.password && (url.port === '' || url.port === '443') && SNS_HOST.test(url.hostname) && url.pathname.endsWith('.pem');
}

const SNS_HOST = /^sns\.[a-z]{2}(?:-gov)?-[a-z]+-\d\.amazonaws\.com(?:\.cn)?$/;

export function isSnsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && SNS_HOST.test(url.hostname);
  } catch {
    return false;
  }
}

/** GET over https, the body as text (at most 64 KB). */
export function httpsGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'GET', timeout: 10_000 }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${url}: HTTP ${response.statusCode}`));
        return;
      }
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 64 * 1024) req.destroy(new Error('response too large'));
      });
      response.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Certificates by URL, kept `ttlMs`; concurrent requests for one URL share the fetch. */
export function cachedCertificates(source: CertificateSource, ttlMs: number): (url: string) => Promise<X509Certificate> {
  const cache = new Map<string, { at: number; cert: Promise<X509Certificate> }>();
  return (url) => {
    const hit = cache.get(url);
    if (hit && performance.now() - hit.at < ttlMs) return hit.cert;
    const cert = source(url).then((pem) => new X509Certificate(pem));
    const entry = { at: performance.now(), cert };
    cache.set(url, entry);
    // A failed fetch is kept a minute, not the whole `ttlMs`: a message then tries again, and a
    // burst of requests naming an unreachable URL waits on one fetch, not one each.
    cert.catch(() => {
      if (cache.get(url) === entry) entry.at = performance.now() - ttlMs + DEFAULTS.bounces.certRetryMs;
    });
    return cert;
  };
}

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];

/** The string SNS signs: `Name\nvalue\n` for each field present, in AWS's order. */
export function snsStringToSign(message: Record<string, unknown>): string {
  const fields = message.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  let out = '';
  for (const name of fields) {
    const value = message[name];
    if (typeof value === 'string') out += `${name}\n${value}\n`;
  }
  return out;
}

export interface SesOptions {
  /** SES_TOPIC_ARNS: the SNS topics this list's SES events are published to. */
  topics: ReadonlySet<string>;
  certificate: (url: string) => Promise<X509Certificate>;
  /** Visits a SubscribeURL (injectable for tests). */
  confirm: (url: string) => Promise<void>;
}

export async function verifySes(context: WebhookContext, options: SesOptions): Promise<Verdict> {
  const message = parseJson(context.body);
  if (!isRecord(message)) return refuse(400, 'bad-request', 'expected an SNS message (JSON)');
  const signature = text(message.Signature);
  const certUrl = text(message.SigningCertURL);
  if (!signature || !certUrl) return refuse(401, 'unsigned', 'no signature');
  if (!isSnsCertificateUrl(certUrl)) return refuse(403, 'bad-signature', 'the signing certificate is not on an sns.<region>.amazonaws.com host');
  // AWS signs every account's messages: a topic anyone can make in their own account would be
  // signed too. Only the topics named in SES_TOPIC_ARNS, checked before anything is fetched.
  const topic = text(message.TopicArn);
  if (!topic || !options.topics.has(topic)) return refuse(403, 'bad-signature', 'the topic is not one of SES_TOPIC_ARNS');
  const algorithm = message.SignatureVersion === '2' ? 'sha256' : message.SignatureVersion === '1' ? 'sha1' : null;
  if (!algorithm) return refuse(403, 'bad-signature', 'unknown SignatureVersion');
  let valid = false;
  try {
    const cert = await options.certificate(certUrl);
    valid = verify(algorithm, Buffer.from(snsStringToSign(message), 'utf8'), cert.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return refuse(403, 'bad-signature', 'the signature does not verify');
  // SNS retries a delivery for up to an hour; each event is claimed by its MessageId for good.
  if (!fresh(Date.parse(text(message.Timestamp) ?? ''), context.now, Math.max(context.replayWindowMs, DEFAULTS.bounces.snsMaxAgeMs))) return refuse(403, 'stale', 'the timestamp is outside the replay window');
  const type = text(message.Type);
  if (type === 'SubscriptionConfirmation') {
    const url = text(message.SubscribeURL);
    if (!url || !isSnsUrl(url)) return refuse(400, 'bad-request', 'the SubscribeURL is not on an sns.<region>.amazonaws.com host');
    await options.confirm(url);
    return { ok: true, events: [], note: 'subscription confirmed' };
  }
  if (type !== 'Notification') return { ok: true, events: [], note: `${type ?? 'unknown'} ignored` };
  const event = parseJson(Buffer.from(text(message.Message) ?? '', 'utf8'));
  if (!isRecord(event)) return refuse(400, 'bad-request', 'the notification carries no SES event');
  return { ok: true, events: sesEvents(event, text(message.MessageId) ?? '') };
}

function sesEvents(event: Record<string, unknown>, snsId: string): ProviderEvent[] {
  // `notificationType` (SES notifications) or `eventType` (configuration-set event publishing).
  const type = text(event.notificationType) ?? text(event.eventType);
  const mail = isRecord(event.mail) ? event.mail : {};
  const messageId = ourMessageId(mail);
  const events: ProviderEvent[] = [];
  if (type === 'Bounce' && isRecord(event.bounce)) {
    const permanent = event.bounce.bounceType === 'Permanent';
    for (const [i, r] of (Array.isArray(event.bounce.bouncedRecipients) ? event.bounce.bouncedRecipients : []).entries()) {
      if (!isRecord(r) || !text(r.emailAddress)) continue;
      events.push({ kind: permanent ? 'hard' : 'soft', email: text(r.emailAddress)!, status: text(r.status), diagnostic: text(r.diagnosticCode) ?? text(event.bounce.bounceSubType), id: `ses:${snsId}:${i}`, messageId });
    }
  } else if (type === 'Complaint' && isRecord(event.complaint)) {
    for (const [i, r] of (Array.isArray(event.complaint.complainedRecipients) ? event.complaint.complainedRecipients : []).entries()) {
      if (!isRecord(r) || !text(r.emailAddress)) continue;
      events.push({ kind: 'complaint', email: text(r.emailAddress)!, status: null, diagnostic: text(event.complaint.complaintFeedbackType), id: `ses:${snsId}:${i}`, messageId });
    }
  } else if (type === 'Delivery' && isRecord(event.delivery)) {
    for (const [i, email] of (Array.isArray(event.delivery.recipients) ? event.delivery.recipients : []).entries()) {
      if (typeof email === 'string') events.push({ kind: 'delivered', email, status: null, diagnostic: null, id: `ses:${snsId}:${i}`, messageId });
    }
  }
  return events;
}

/** Our Message-ID among the original's headers (SES gives its own id as `mail.messageId`). */
function ourMessageId(mail: Record<string, unknown>): string | null {
  const common = isRecord(mail.commonHeaders) ? text(mail.commonHeaders.messageId) : null;
  if (common) return common;
  for (const header of Array.isArray(mail.headers) ? mail.headers : []) if (isRecord(header) && /^message-id$/i.test(String(header.name))) return text(header.value);
  return null;
}
