import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Recipient, ResolvedConfig, UtmParameters } from '../config/defaults.js';

/**
 * Every URL the email carries is made here: view-in-browser, unsubscribe (with its HMAC token)
 * and article links with UTM parameters.
 */

/** Used when NEWSLETTER_SECRET is not set: fine for previews, refused by `send` for real delivery. */
export const PREVIEW_SECRET = 'newsletter-preview-secret-not-for-sending';

export function viewInBrowserUrl(config: ResolvedConfig, issueSlug: string): string {
  const base = config.baseUrl;
  if (base.includes('{issue}')) return base.replaceAll('{issue}', encodeURIComponent(issueSlug));
  return `${base.replace(/\/?$/, '/')}${encodeURIComponent(issueSlug)}/`;
}

/** The newsletter's home: the base URL without the issue part. */
export function homeUrl(config: ResolvedConfig): string {
  const base = config.baseUrl.split('{issue}')[0]!;
  return base;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Marks tokens signed with the preview key: `serve` refuses them whatever key it has. */
export const PREVIEW_TOKEN_PREFIX = 'preview-';

/**
 * Unsubscribe token: HMAC-SHA256 of the normalized address, base64url, 128 bits. Signed with the
 * preview key it carries PREVIEW_TOKEN_PREFIX, so a token seen in a preview never unsubscribes.
 */
export function unsubscribeToken(email: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(normalizeEmail(email)).digest('base64url').slice(0, 22);
  return secret === PREVIEW_SECRET ? `${PREVIEW_TOKEN_PREFIX}${mac}` : mac;
}

export function isPreviewToken(token: string): boolean {
  return token.startsWith(PREVIEW_TOKEN_PREFIX);
}

/** For the unsubscribe endpoint: is `token` the one this address was sent? Constant-time; never a preview token. */
export function verifyUnsubscribeToken(email: string, token: string, secret: string): boolean {
  if (isPreviewToken(token) || secret === PREVIEW_SECRET) return false;
  const expected = Buffer.from(unsubscribeToken(email, secret));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function unsubscribeUrl(config: ResolvedConfig, recipient: Recipient, issueSlug: string, secret: string): string {
  return config.unsubscribeUrl
    .replaceAll('{email}', encodeURIComponent(recipient.email))
    .replaceAll('{token}', unsubscribeToken(recipient.email, secret))
    .replaceAll('{issue}', encodeURIComponent(issueSlug));
}

/** Adds utm_source/medium/campaign to an http(s) link unless it already carries them. */
export function withUtm(url: string, utm: UtmParameters | null, issueSlug: string): string {
  if (!utm) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return url;
  if (utm.hosts.length && !utm.hosts.some((host) => parsed.hostname === host || parsed.hostname.endsWith(`.${host}`))) return url;
  const params: [string, string][] = [
    ['utm_source', utm.source],
    ['utm_medium', utm.medium],
    ['utm_campaign', utm.campaign.replaceAll('{issue}', issueSlug)],
  ];
  for (const [key, value] of params) if (!parsed.searchParams.has(key)) parsed.searchParams.set(key, value);
  return parsed.toString();
}

const HREF = /href="([^"]*)"/g;

function decodeAttribute(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

function encodeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

/** Adds UTM parameters to every link of sanitized HTML (whose attributes are always double-quoted). */
export function addUtmToHtml(html: string, utm: UtmParameters | null, issueSlug: string): string {
  if (!utm) return html;
  return html.replace(HREF, (_, href: string) => `href="${encodeAttribute(withUtm(decodeAttribute(href), utm, issueSlug))}"`);
}
