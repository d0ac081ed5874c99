import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EndpointRequest } from './handler.js';

/**
 * Who may use the unsubscribe page's own forms (resubscribe, and its Unsubscribe button): the
 * page itself. A browser says where a POST comes from (`Sec-Fetch-Site`, `Origin`); a request from
 * another site is refused, so a page elsewhere cannot resubscribe a reader with a token it found
 * in an old, forwarded email. A browser that sends neither header proves it with the form token
 * the page carried: an HMAC of the unsubscribe token and the time the page was made, good for
 * DEFAULTS.serve.formTokenSeconds. A mail provider's one-click POST (RFC 8058) carries no Origin
 * and no form token: it is answered exactly as before.
 */

export type RequestSite = 'same-origin' | 'cross-site' | 'unknown';

/** What the browser says about where the request comes from, compared with `siteUrl`'s origin. */
export function requestSite(request: EndpointRequest, siteOrigin: string): RequestSite {
  const fetchSite = request.header('sec-fetch-site')?.trim().toLowerCase();
  if (fetchSite === 'same-origin') return 'same-origin';
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') return 'cross-site';
  const origin = request.header('origin')?.trim();
  if (origin) return origin.toLowerCase() === siteOrigin.toLowerCase() ? 'same-origin' : 'cross-site';
  return 'unknown';
}

function mac(secret: string, token: string, issued: number): string {
  return createHmac('sha256', secret).update(`newsletter form\u0000${token}\u0000${issued}`).digest('base64url').slice(0, 22);
}

export function makeFormToken(secret: string, token: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  return `${nowSeconds}.${mac(secret, token, nowSeconds)}`;
}

/** True when `value` is a form token made for `token` less than `ttlSeconds` ago. */
export function checkFormToken(secret: string, token: string, value: string | null | undefined, ttlSeconds: number, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(value ?? '');
  if (!match) return false;
  const issued = Number(match[1]);
  if (issued > nowSeconds + 60 || nowSeconds - issued > ttlSeconds) return false;
  const expected = Buffer.from(mac(secret, token, issued));
  const given = Buffer.from(match[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
