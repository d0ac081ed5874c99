import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig, Theme } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { PREVIEW_SECRET, readUnsubscribeToken, type TokenProblem } from '../render/links.js';
import { headerSafe, listIdFor } from '../render/list-id.js';
import { contentType, fileInside, urlSegments } from '../preview/safe-path.js';
import { sitePageContext, type SiteTemplates } from '../publish/site-templates.js';
import type { SuppressionStore } from '../store/types.js';
import { readLimitedBody, readRequestBody } from './body.js';
import { checkFormToken, makeFormToken, requestSite } from './form-token.js';
import { unsubscribePages, type PageState } from './page.js';
import type { WebhookHandler } from './webhooks/index.js';
import type { SignupService } from '../signup/sign-up.js';
import { sitePolicyFor, subscribeRoutes, type SignupOutcome } from './subscribe.js';

/**
 * The production endpoint. One core, `Endpoint`, answers a method, URL, headers and body with a
 * status, headers and body; `createHandler` makes it a Fetch API handler, `(request) =>
 * Promise<Response>`, for any platform that speaks Request/Response, and `newsletter serve` calls
 * the core straight from node:http (node-server.ts): building undici's Request and Response for
 * every request cost more than everything else a one-click POST does.
 *
 *   GET  /unsubscribe/<token>   a page naming the address and newsletter, one button; changes nothing
 *   POST /unsubscribe/<token>   `List-Unsubscribe=One-Click` (RFC 8058) → suppressed, durably;
 *                               a line of text, or the page when the client asks for HTML;
 *                               `action=resubscribe` → removed again. 200, never a redirect;
 *                               a browser's POST from another site is refused (form-token.ts)
 *   POST /subscribe, GET|POST /confirm/<token>   sign-ups with double opt-in (subscribe.ts)
 *   GET  /healthz               `ok`, or 503 while the suppression store cannot be reached
 *   GET  anything else          the published site, when a site folder is given
 *
 * Paths are taken relative to the path of `siteUrl` (`https://example.com/news/` → `/news/…`),
 * and every URL a page carries is made from `siteUrl`, never from the Host header.
 */

export type FetchHandler = (request: Request) => Promise<Response>;

/**
 * What node-server.ts puts in place of a request target that has no path (`OPTIONS *`, `CONNECT
 * host:443`): answered 400 and logged like every request.
 */
export const UNREADABLE_PATH = '/.unreadable-request-target';

/** What the endpoint reads of a request, whatever carried it. */
export interface EndpointRequest {
  method: string;
  url: URL;
  /** A header by its lowercase name; null when absent. */
  header(name: string): string | null;
  /** The body, or null when it is (or says it is) longer than `max` bytes. Read only when needed. */
  body(max: number): Promise<Uint8Array | null>;
  /** The peer's IP address, when the carrier knows it (node:http does). */
  remoteAddress?: string | null | undefined;
}

export interface EndpointResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** Also given for HEAD where it costs nothing; null for a file not read (HEAD). */
  body: string | Uint8Array | null;
}

export type Endpoint = (request: EndpointRequest) => Promise<EndpointResponse>;

export type Outcome =
  | `webhook-${string}`
  | 'unsubscribed'
  | 'already-unsubscribed'
  | 'resubscribed'
  | 'not-subscribed-before'
  | 'shown'
  | `refused-${TokenProblem}`
  | 'refused-cross-site'
  | 'static'
  | 'health'
  | 'unhealthy'
  | 'not-found'
  | 'bad-request'
  | 'failed'
  | SignupOutcome;

/** One line per request, without token or address: what `serve` logs. */
export interface RequestLog {
  method: string;
  /** The path with any token replaced by `[token]`. */
  path: string;
  status: number;
  outcome: Outcome;
  ms: number;
}

export interface HandlerOptions {
  config: ResolvedConfig;
  theme: Theme;
  pages: SiteTemplates;
  /** NEWSLETTER_SECRET: the key the tokens of sent messages were made with. */
  secret: string;
  suppressions: SuppressionStore;
  /** `POST /webhooks/<provider>`: bounce and complaint events (serve/webhooks/); absent, they are 404. */
  webhooks?: WebhookHandler | null | undefined;
  /** The published site to serve (`<out>/site/`); null answers only the endpoint. */
  siteDir?: string | null | undefined;
  onRequest?: ((log: RequestLog) => void) | undefined;
  /** Sign-ups with double opt-in (POST /subscribe, /confirm/<token>); off when absent. */
  signup?: SignupService | null | undefined;
  /** A failure the request answered with 503 (the store could not record it). */
  onError?: ((error: unknown) => void) | undefined;
}

const PAGE_POLICY = (formOrigin: string) =>
  `default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action ${formOrigin}; frame-ancestors 'none'; base-uri 'none'`;
/** The web editions load their images and web fonts from anywhere https; no script runs. */
const SITE_POLICY = "default-src 'none'; style-src 'unsafe-inline' https:; img-src 'self' https: data:; font-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const COMMON_HEADERS = {
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** The key must be the real one: with none (or the preview key) no sent token could be checked. */
export function checkServeSecret(secret: string | undefined): asserts secret is string {
  if (!secret || secret === PREVIEW_SECRET) {
    throw new NewsletterError('SERVE_CONFIG', 'NEWSLETTER_SECRET is not set: the endpoint cannot check the tokens of the messages you sent', {
      hint: 'set NEWSLETTER_SECRET to the key `newsletter send` used (environment or .env)',
    });
  }
}

export function validateHandlerOptions(options: HandlerOptions): void {
  checkServeSecret(options.secret);
  if (!options.suppressions || typeof options.suppressions.add !== 'function') {
    throw new NewsletterError('SERVE_CONFIG', '`suppressions` must be a SuppressionStore (add, remove, has, load, iterate)');
  }
}

export function createEndpoint(options: HandlerOptions): Endpoint {
  validateHandlerOptions(options);
  const { config, secret, suppressions } = options;
  const listId = listIdFor(config);
  const site = new URL(config.siteUrl);
  const base = site.pathname;
  const pagePolicy = PAGE_POLICY(site.origin);
  const pageHeaders = { ...COMMON_HEADERS, 'Content-Security-Policy': pagePolicy, 'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' };
  const textHeaders = { ...COMMON_HEADERS, 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'", 'Cache-Control': 'no-store', 'Content-Type': 'text/plain; charset=utf-8' };
  const siteHeaders = { ...COMMON_HEADERS, 'Content-Security-Policy': sitePolicyFor(SITE_POLICY, config), 'Cache-Control': 'public, max-age=300' };
  const renderPage = unsubscribePages(options.pages, sitePageContext(config, options.theme), config.siteUrl);
  const signup = options.signup ? subscribeRoutes({ config, service: options.signup, pages: options.pages, base: sitePageContext(config, options.theme), pageHeaders, textHeaders }) : null;

  const page = (status: number, state: PageState, email: string | null, token: string | null): EndpointResponse => ({
    status,
    headers: pageHeaders,
    body: renderPage(state, email, token ? `${config.siteUrl}unsubscribe/${token}` : config.siteUrl, token ? makeFormToken(secret, token) : ''),
  });

  const text = (status: number, body: string, extra?: Record<string, string>): EndpointResponse => ({ status, headers: extra ? { ...textHeaders, ...extra } : textHeaders, body });
  const unsubscribedText = text(200, `unsubscribed from ${headerSafe(config.name)}; no more issues go to this address\n`);

  async function unsubscribe(request: EndpointRequest, token: string): Promise<[EndpointResponse, Outcome]> {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return [text(405, 'method not allowed\n', { Allow: 'GET, HEAD, POST' }), 'bad-request'];
    const read = readUnsubscribeToken(token, secret, listId);
    if ('problem' in read) {
      // Refused before the body is read: a forged token costs nothing and records nothing.
      return [page(read.problem === 'malformed' ? 400 : 403, 'refused', null, null), `refused-${read.problem}`];
    }
    const { email } = read;
    if (method !== 'POST') {
      // Link scanners and prefetchers GET every URL of a message: a GET only shows the button.
      return [page(200, 'confirm', email, token), 'shown'];
    }
    const body = await readLimitedBody(request.header('content-type'), (max) => request.body(max), DEFAULTS.serve.maxBodyBytes);
    if (body.kind === 'too-large') return [text(413, `the body is over ${DEFAULTS.serve.maxBodyBytes} bytes\n`), 'bad-request'];
    if (body.kind === 'unsupported') return [text(415, 'expected application/x-www-form-urlencoded or multipart/form-data (RFC 8058)\n'), 'bad-request'];
    if (body.kind === 'invalid') return [text(400, 'the form body cannot be read\n'), 'bad-request'];
    // A browser posting from another site (form-token.ts); providers' one-click POSTs carry no Origin.
    const from = requestSite(request, site.origin);
    if (from === 'cross-site') return [text(403, 'refused: this form can only be sent from its own page\n'), 'refused-cross-site'];
    if (body.fields.get('List-Unsubscribe') === 'One-Click') {
      const added = await suppressions.add(email, { reason: 'unsubscribed', source: 'serve' });
      const outcome = added ? 'unsubscribed' : 'already-unsubscribed';
      // A mail provider's POST (RFC 8058) is read by no one: it gets a line of text. The page's
      // button is a browser's, which asks for HTML, and gets the themed page with "Resubscribe".
      return [wantsPage(request) ? page(200, 'unsubscribed', email, token) : unsubscribedText, outcome];
    }
    if (body.fields.get('action') === 'resubscribe') {
      // Only the page's own form: same origin, or the page's form token when the browser sends no Origin.
      if (from !== 'same-origin' && !checkFormToken(secret, token, body.fields.get('form-token'))) {
        return [page(403, 'refused', null, null), 'refused-cross-site'];
      }
      const removed = await suppressions.remove(email, 'serve');
      return [page(200, 'resubscribed', email, token), removed ? 'resubscribed' : 'not-subscribed-before'];
    }
    return [text(400, 'expected the body List-Unsubscribe=One-Click (RFC 8058)\n'), 'bad-request'];
  }

  async function staticFile(request: EndpointRequest, segments: string[]): Promise<[EndpointResponse, Outcome]> {
    if (!options.siteDir) return [text(404, 'not found\n'), 'not-found'];
    if (request.method !== 'GET' && request.method !== 'HEAD') return [text(405, 'method not allowed\n', { Allow: 'GET, HEAD' }), 'bad-request'];
    const last = segments[segments.length - 1];
    const wanted = !last || !path.extname(last) ? [...segments, 'index.html'] : segments;
    const file = await fileInside(options.siteDir, wanted);
    if (!file) return [text(404, 'not found\n'), 'not-found'];
    const body = request.method === 'HEAD' ? null : await readFile(file);
    return [{ status: 200, headers: { ...siteHeaders, 'Content-Type': contentType(file) }, body }, 'static'];
  }

  /** Not ok while the store cannot record an unsubscribe (Redis down): a load balancer takes this process out. */
  async function health(): Promise<[EndpointResponse, Outcome]> {
    if (!suppressions.ping) return [text(200, 'ok\n'), 'health'];
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        suppressions.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${DEFAULTS.serve.healthTimeoutMs} ms`)), DEFAULTS.serve.healthTimeoutMs))),
      ]);
      return [text(200, 'ok\n'), 'health'];
    } catch (error) {
      options.onError?.(error);
      return [text(503, 'unavailable: the suppression store cannot be reached\n', { 'Retry-After': String(DEFAULTS.serve.retryAfterSeconds) }), 'unhealthy'];
    } finally {
      clearTimeout(timer);
    }
  }

  async function route(request: EndpointRequest): Promise<[EndpointResponse, Outcome]> {
    const pathname = request.url.pathname;
    if (pathname === UNREADABLE_PATH) return [text(400, 'the request target must be a path (/…) or an absolute http(s) URL\n'), 'bad-request'];
    const local = pathname.startsWith(base) ? `/${pathname.slice(base.length)}` : pathname;
    const segments = urlSegments(local);
    if (!segments) return [text(404, 'not found\n'), 'not-found'];
    if (segments.length === 1 && segments[0] === 'healthz') return health();
    if (segments.length === 2 && segments[0] === 'webhooks' && options.webhooks) return options.webhooks(request, segments[1]!);
    if (segments[0] === 'unsubscribe') {
      const token = segments.length === 2 ? segments[1]! : segments.length === 1 ? request.url.searchParams.get('token') : null;
      if (token !== null && token !== undefined) return unsubscribe(request, token);
      return [text(404, 'not found\n'), 'not-found'];
    }
    if (signup && (segments[0] === 'subscribe' || segments[0] === 'confirm')) return signup(request, segments);
    // Sign-ups off (no SMTP_URL): the form's POST is not for the static site (which would say 405).
    if (!signup && segments.length === 1 && segments[0] === 'subscribe' && request.method !== 'GET' && request.method !== 'HEAD') {
      return [text(404, 'sign-ups are off on this server (serve needs SMTP_URL to send the confirmation)\n'), 'not-found'];
    }
    return staticFile(request, segments);
  }

  return async (request) => {
    const started = performance.now();
    let response: EndpointResponse;
    let outcome: Outcome;
    try {
      [response, outcome] = await route(request);
    } catch (error) {
      // The store could not record it (disk full, Redis down): say so with a 503, which mail
      // providers retry, and never answer "done" for an unsubscribe that was not kept.
      options.onError?.(error);
      [response, outcome] = [text(503, 'the unsubscribe could not be recorded; try again in a minute\n', { 'Retry-After': String(DEFAULTS.serve.retryAfterSeconds) }), 'failed'];
    }
    options.onRequest?.({ method: request.method, path: redact(request.url.pathname), status: response.status, outcome, ms: performance.now() - started });
    return response;
  };
}

/** The endpoint behind each handler `createHandler` made: node-server.ts calls it directly. */
const endpoints = new WeakMap<FetchHandler, Endpoint>();

export function endpointOf(handler: FetchHandler): Endpoint | undefined {
  return endpoints.get(handler);
}

export function createHandler(options: HandlerOptions): FetchHandler {
  const endpoint = createEndpoint(options);
  const handler: FetchHandler = async (request) => {
    const { status, headers, body } = await endpoint({
      method: request.method,
      url: new URL(request.url),
      header: (name) => request.headers.get(name),
      body: (max) => readRequestBody(request, max),
    });
    return new Response(body as BodyInit | null, { status, headers });
  };
  endpoints.set(handler, endpoint);
  return handler;
}

/** A browser asks for HTML (`Accept: text/html,…`); a provider's one-click POST need not. */
function wantsPage(request: EndpointRequest): boolean {
  return request.header('accept')?.includes('text/html') === true;
}

/** `/unsubscribe/<token>` → `/unsubscribe/[token]` (and `/confirm/…`): logs never hold a token (it names a reader). */
export function redact(pathname: string): string {
  return pathname.replace(/\/unsubscribe\/[^/]+/, '/unsubscribe/[token]').replace(/\/confirm\/[^/]+/, '/confirm/[token]');
}
