import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EndpointRequest } from './handler.js';

/**
 * Who may use the unsubscribe page's own forms (resubscribe, and its Unsubscribe button): the
 * page itself. A browser says where a POST comes from (`Sec-Fetch-Site`, `Origin`); a request from
 * another site is refused, so a page elsewhere cannot resubscribe a reader with a token it found
 * in an old, forwarded email. A browser that sends neither header proves it with the form token
 * the page carried: an HMAC of the unsubscribe token and the day (UTC) the page was made, good
 * that day and the next. A day, not the second: every page of one day is the same, so the page
 * can still be made from pieces (page.ts) and two answers to the same request agree. A mail
 * provider's one-click POST (RFC 8058) carries no Origin and no form token: it is answered
 * exactly as before.
 */

const DAY_SECONDS = 86_400;

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
  const day = Math.floor(nowSeconds / DAY_SECONDS);
  return `${day}.${mac(secret, token, day)}`;
}

/** True when `value` is a form token made for `token` today or yesterday (UTC). */
export function checkFormToken(secret: string, token: string, value: string | null | undefined, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const match = /^(\d{1,8})\.([A-Za-z0-9_-]{22})$/.exec(value ?? '');
  if (!match) return false;
  const issued = Number(match[1]);
  const today = Math.floor(nowSeconds / DAY_SECONDS);
  if (issued > today || today - issued > 1) return false;
  const expected = Buffer.from(mac(secret, token, issued));
  const given = Buffer.from(match[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
