import { DEFAULTS } from '../../config/defaults.js';
import { issueOfMessageId } from '../../bounces/match.js';
import { applyBounceEvent, eventAddressProblem, IssueOrder, type BounceRules } from '../../bounces/rules.js';
import { normalizeEmail } from '../../render/links.js';
import type { Store } from '../../store/types.js';
import type { EndpointRequest, EndpointResponse } from '../handler.js';
import { verifyMailgun } from './mailgun.js';
import { verifyPostmark } from './postmark.js';
import { verifySendgrid } from './sendgrid.js';
import { cachedCertificates, httpsGet, verifySes, type CertificateSource } from './ses.js';
import type { Verdict, WebhookContext } from './types.js';

/**
 * `POST /webhooks/<provider>` on `serve`: the bounce and complaint events of Amazon SES (via
 * SNS), Postmark, SendGrid and Mailgun. Each request is verified first (signature or
 * credentials, timestamp within the replay window, a token or signature used once); only then
 * are its events recorded, each event once (its provider id claimed in the store), by the same
 * rules as `newsletter bounces` (bounces/rules.ts), in the same store as the unsubscribes.
 * A provider whose key is not set answers 404: nothing is accepted unsigned.
 */

export type WebhookProvider = 'ses' | 'postmark' | 'sendgrid' | 'mailgun';

export interface WebhookOptions {
  store: Store;
  listId: string;
  rules: BounceRules;
  /** POSTMARK_WEBHOOK_AUTH, SENDGRID_WEBHOOK_PUBLIC_KEY, MAILGUN_WEBHOOK_SIGNING_KEY, SES_TOPIC_ARNS (comma-separated). */
  env: Record<string, string | undefined>;
  replayWindowMs?: number | undefined;
  now?: (() => number) | undefined;
  /** Where SNS signing certificates come from (default: an https GET of the checked URL). */
  certificates?: CertificateSource | undefined;
  /** Visits an SNS SubscribeURL (default: an https GET). */
  confirmSubscription?: ((url: string) => Promise<void>) | undefined;
}

export type WebhookHandler = (request: EndpointRequest, provider: string) => Promise<[EndpointResponse, `webhook-${string}`]>;

const HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

function reply(status: number, body: string, extra?: Record<string, string>): EndpointResponse {
  return { status, headers: extra ? { ...HEADERS, ...extra } : HEADERS, body };
}

export function createWebhookHandler(options: WebhookOptions): WebhookHandler {
  const { store, listId, env } = options;
  const rules = { ...options.rules, order: options.rules.order ?? new IssueOrder(() => store.bounces.sentIssues(listId)) };
  const replayWindowMs = options.replayWindowMs ?? DEFAULTS.bounces.replayWindowMs;
  const now = options.now ?? Date.now;
  const certificate = cachedCertificates(options.certificates ?? httpsGet, DEFAULTS.bounces.certCacheMs);
  const confirm = options.confirmSubscription ?? (async (url: string) => void (await httpsGet(url)));
  const sesTopics = new Set((env.SES_TOPIC_ARNS ?? '').split(/[\s,]+/).filter(Boolean));

  const verifiers: Record<WebhookProvider, ((context: WebhookContext) => Promise<Verdict>) | null> = {
    ses: sesTopics.size ? (context) => verifySes(context, { topics: sesTopics, certificate, confirm }) : null,
    postmark: env.POSTMARK_WEBHOOK_AUTH ? (context) => verifyPostmark(context, env.POSTMARK_WEBHOOK_AUTH!) : null,
    sendgrid: env.SENDGRID_WEBHOOK_PUBLIC_KEY ? (context) => verifySendgrid(context, env.SENDGRID_WEBHOOK_PUBLIC_KEY!) : null,
    mailgun: env.MAILGUN_WEBHOOK_SIGNING_KEY ? (context) => verifyMailgun(context, env.MAILGUN_WEBHOOK_SIGNING_KEY!) : null,
  };

  return async (request, provider) => {
    const verifier = Object.hasOwn(verifiers, provider) ? verifiers[provider as WebhookProvider] : undefined;
    if (verifier === undefined) return [reply(404, 'no such webhook\n'), 'webhook-not-found'];
    if (verifier === null) return [reply(404, `the ${provider} webhook is not configured (its key is not set)\n`), 'webhook-not-configured'];
    if (request.method !== 'POST') return [reply(405, 'method not allowed\n', { Allow: 'POST' }), 'webhook-bad-request'];
    const body = await request.body(DEFAULTS.bounces.webhookMaxBytes);
    if (body === null) return [reply(413, `the body is over ${DEFAULTS.bounces.webhookMaxBytes} bytes\n`), 'webhook-bad-request'];
    const verdict = await verifier({ request, body: Buffer.from(body), now: now(), replayWindowMs, claim: (id, ttl) => store.bounces.claim(id, ttl) });
    if (!verdict.ok) {
      const extra = verdict.status === 401 && provider === 'postmark' ? { 'WWW-Authenticate': 'Basic realm="webhooks"' } : undefined;
      return [reply(verdict.status, `${verdict.message}\n`, extra), `webhook-${verdict.why}`];
    }
    // An event whose recipient is not one address (a list, a display name, a control character,
    // an erasure hash, 100,000 characters) is not recorded: it is nobody we mail.
    const valid = verdict.events.filter((event) => event.kind !== 'ignored' && eventAddressProblem(event.email) === null);
    const skipped = verdict.events.filter((event) => event.kind !== 'ignored').length - valid.length;
    // Each event is recorded once by its provider id (providers deliver again when an answer is
    // lost), and only then applied: a replay that got past the request's own check (a Postmark
    // request has no timestamp) must not suppress again an address lifted since.
    // The request's once-only mark and the events' ids are claimed in one round of writes (they
    // share the syncs); the events are applied in a second round, only when both were new.
    const [fresh, ...firsts] = await Promise.all([verdict.once ? store.bounces.claim(verdict.once.id, verdict.once.ttlMs) : true, ...valid.map((event) => store.bounces.claim(event.id, DEFAULTS.bounces.claimTtlMs))]);
    if (!fresh) return [reply(403, 'this request was already received\n'), 'webhook-replayed'];
    const claims = await Promise.all(
      valid.map(async (event, i) => {
        if (!firsts[i]) return false;
        const issue = issueOfMessageId(listId, event.messageId, event.email);
        const kind = event.kind as Exclude<typeof event.kind, 'ignored'>;
        await applyBounceEvent(store, listId, { kind, email: normalizeEmail(event.email), issue, status: event.status, diagnostic: event.diagnostic, source: provider, matchedBy: provider }, rules);
        return true;
      }),
    );
    const recorded = claims.filter(Boolean).length;
    const note = `${verdict.note ? `${verdict.note}; ` : ''}${skipped ? `skipped ${skipped} naming no single address; ` : ''}`;
    return [reply(200, `${note}recorded ${recorded} of ${verdict.events.length} events\n`), recorded ? 'webhook-recorded' : 'webhook-nothing'];
  };
}

export { isSnsCertificateUrl, snsStringToSign, type CertificateSource } from './ses.js';
