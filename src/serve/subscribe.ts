import type { ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import type { SiteTemplates } from '../publish/site-templates.js';
import { clientIp } from '../signup/client-ip.js';
import type { SignupForm, SignupResult, SignupService } from '../signup/sign-up.js';
import { readLimitedBody } from './body.js';
import type { EndpointRequest, EndpointResponse } from './handler.js';

/**
 * The sign-up routes of `serve` (the service itself is signup/sign-up.ts):
 *
 *   POST    /subscribe          the form (urlencoded or multipart) or JSON (`{"email": …}` from a
 *                               site's own script): the same answer whatever the address; 429
 *                               past the hourly limit of the client, 403 when the CAPTCHA fails,
 *                               400 for what is not an address, 503 (Retry-After) while the
 *                               confirmations waiting for the SMTP server fill the queue
 *   OPTIONS /subscribe          CORS preflight, so another site's script may post JSON
 *   GET     /confirm/<token>    a page with one button; changes nothing (mail scanners open links)
 *   POST    /confirm/<token>    confirms: the subscriber is recorded with the proof of consent
 */

export type SignupOutcome = SignupResult['outcome'] | 'confirm-shown' | 'confirmed' | 'resubscribed' | 'already-confirmed' | 'confirm-blocked' | 'confirm-malformed' | 'confirm-forged' | 'confirm-expired';

export type SubscribeRoutes = (request: EndpointRequest, segments: readonly string[]) => Promise<[EndpointResponse, SignupOutcome | 'bad-request' | 'not-found']>;

export interface SubscribeRoutesOptions {
  config: ResolvedConfig;
  service: SignupService;
  pages: SiteTemplates;
  /** What every site page sees (sitePageContext). */
  base: object;
  pageHeaders: Readonly<Record<string, string>>;
  textHeaders: Readonly<Record<string, string>>;
}

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '86400' };

const STATUS: Record<SignupResult['kind'], number> = { accepted: 200, invalid: 400, limited: 429, captcha: 403, busy: 503 };

const MESSAGES: Record<SignupResult['kind'], string> = {
  accepted: 'If the address can receive this newsletter, an email with a link to confirm is on its way.',
  invalid: 'not an email address',
  limited: 'Too many sign-ups from your network in the last hour; try again later.',
  captcha: 'The CAPTCHA check did not pass.',
  busy: 'Too many sign-ups at this moment to send every confirmation now; please try again in a minute.',
};

export function subscribeRoutes(options: SubscribeRoutesOptions): SubscribeRoutes {
  const { config, service, pages, base } = options;
  const jsonHeaders = { ...options.textHeaders, 'Content-Type': 'application/json; charset=utf-8', ...CORS };
  const page = (status: number, name: 'subscribe' | 'confirm', data: object): EndpointResponse => ({ status, headers: options.pageHeaders, body: pages.render(name, { ...base, ...data }) });
  const text = (status: number, body: string, extra?: Record<string, string>): EndpointResponse => ({ status, headers: { ...options.textHeaders, ...extra }, body });
  // The answers that carry nothing of the request are rendered once: the success answer is the
  // same for every address, and it is what a flood of sign-ups gets.
  const sameForAll = new Map<string, EndpointResponse>();
  const answerPage = (status: number, state: string, message: string | null, backUrl: string): EndpointResponse => {
    if (state !== 'check-inbox' && state !== 'limited' && state !== 'busy') return page(status, 'subscribe', { state, message, backUrl });
    let answer = sameForAll.get(state);
    if (!answer) sameForAll.set(state, (answer = page(status, 'subscribe', { state, message: null, backUrl: config.siteUrl })));
    return answer;
  };

  async function subscribe(request: EndpointRequest): Promise<[EndpointResponse, SignupOutcome | 'bad-request']> {
    if (request.method === 'OPTIONS') return [{ status: 204, headers: { ...options.textHeaders, ...CORS }, body: '' }, 'bad-request'];
    if (request.method !== 'POST') return [text(405, 'method not allowed\n', { Allow: 'POST, OPTIONS' }), 'bad-request'];
    const type = (request.header('content-type') ?? '').toLowerCase();
    const json = type.startsWith('application/json');
    const max = DEFAULTS.serve.maxBodyBytes;
    let form: SignupForm;
    if (json) {
      const bytes = await request.body(max);
      if (!bytes) return [{ status: 413, headers: jsonHeaders, body: JSON.stringify({ ok: false, message: `the body is over ${max} bytes` }) }, 'bad-request'];
      const parsed = parseJsonObject(bytes);
      if (!parsed) return [{ status: 400, headers: jsonHeaders, body: JSON.stringify({ ok: false, message: 'expected a JSON object such as {"email": "…"}' }) }, 'bad-request'];
      form = { get: (name) => (typeof parsed[name] === 'string' ? (parsed[name] as string) : null) };
    } else {
      const body = await readLimitedBody(request.header('content-type'), (limit) => request.body(limit), max);
      if (body.kind === 'too-large') return [text(413, `the body is over ${max} bytes\n`), 'bad-request'];
      if (body.kind === 'unsupported') return [text(415, 'expected a form (application/x-www-form-urlencoded, multipart/form-data) or application/json\n'), 'bad-request'];
      if (body.kind === 'invalid') return [text(400, 'the form body cannot be read\n'), 'bad-request'];
      form = body.fields;
    }
    const ip = clientIp(request.remoteAddress, request.header('x-forwarded-for'));
    const result = await service.signUp({ form, ip, referer: request.header('referer') });
    const status = STATUS[result.kind];
    if (json) {
      const message = result.kind === 'invalid' ? result.message : MESSAGES[result.kind];
      return [withRetryAfter(result, { status, headers: jsonHeaders, body: JSON.stringify({ ok: result.kind === 'accepted', message }) }), result.outcome];
    }
    const state = result.kind === 'accepted' ? 'check-inbox' : result.kind;
    const backUrl = safeBack(form.get('page'), config.siteUrl);
    return [withRetryAfter(result, answerPage(status, state, result.kind === 'invalid' ? capitalize(result.message) : null, backUrl)), result.outcome];
  }

  async function confirm(request: EndpointRequest, token: string): Promise<[EndpointResponse, SignupOutcome | 'bad-request']> {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'POST') return [text(405, 'method not allowed\n', { Allow: 'GET, HEAD, POST' }), 'bad-request'];
    const refused = (problem: string) => page(problem === 'malformed' ? 400 : problem === 'expired' ? 410 : 403, 'confirm', { state: 'refused', problem, email: null, actionUrl: null });
    if (request.method !== 'POST') {
      const read = service.check(token);
      if ('problem' in read) return [refused(read.problem), `confirm-${read.problem}`];
      return [page(200, 'confirm', { state: 'confirm', problem: null, email: read.email, actionUrl: `${config.siteUrl}confirm/${token}` }), 'confirm-shown'];
    }
    const result = await service.confirm(token);
    if (result.kind === 'refused') return [refused(result.problem), result.outcome];
    return [page(200, 'confirm', { state: 'confirmed', problem: null, email: result.email, actionUrl: null }), result.outcome];
  }

  return async (request, segments) => {
    if (segments[0] === 'subscribe' && segments.length === 1) return subscribe(request);
    if (segments[0] === 'confirm' && segments.length === 2) return confirm(request, segments[1]!);
    return [text(404, 'not found\n'), 'not-found'];
  };
}

/** A busy answer says when to come back (RFC 9110 Retry-After), for the reader and for scripts. */
function withRetryAfter(result: SignupResult, response: EndpointResponse): EndpointResponse {
  if (result.kind !== 'busy') return response;
  return { ...response, headers: { ...response.headers, 'Retry-After': String(DEFAULTS.signup.busyRetryAfterSeconds) } };
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Back to the page the form was on when it is one of the site's; else the site. */
function safeBack(page: string | null, siteUrl: string): string {
  return page && page.startsWith(siteUrl) ? page : siteUrl;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The site's policy, with the CAPTCHA provider's script and frame allowed when the form has one. */
export function sitePolicyFor(policy: string, config: Pick<ResolvedConfig, 'signup'>): string {
  const provider = config.signup.captcha?.provider;
  if (!provider) return policy;
  const origins = provider === 'turnstile' ? 'https://challenges.cloudflare.com' : 'https://hcaptcha.com https://*.hcaptcha.com';
  return `${policy}; script-src ${origins}; frame-src ${origins}; connect-src ${origins}`;
}
