import { createCipheriv, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type Cipher, type KeyObject } from 'node:crypto';
import type { Recipient, ResolvedConfig, UtmParameters } from '../config/defaults.js';
import { listIdFor } from './list-id.js';
import { escapeHtml } from '../content/html/escape.js';

/**
 * Every URL the email carries is made here: view-in-browser, unsubscribe (with its HMAC token)
 * and article links with UTM parameters.
 */

/** Used when NEWSLETTER_SECRET is not set: fine for previews, refused by `send` and `serve`. */
export const PREVIEW_SECRET = 'newsletter-preview-secret-not-for-sending';

/** The web edition of an issue: `baseUrl` when the config sets one, else `{siteUrl}issues/<slug>/`. */
export function viewInBrowserUrl(config: ResolvedConfig, issueSlug: string): string {
  const base = config.baseUrl;
  if (base.includes('{issue}')) return base.replaceAll('{issue}', encodeURIComponent(issueSlug));
  return `${base.replace(/\/?$/, '/')}${encodeURIComponent(issueSlug)}/`;
}

/** The newsletter's home: the archive `newsletter publish` writes at `siteUrl`. */
export function homeUrl(config: ResolvedConfig): string {
  return config.siteUrl;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/*
 * Unsubscribe tokens carry the address, so the endpoint needs no database to know who clicked,
 * but never in clear (it would leak into logs and referrers, and SpamAssassin scores an address
 * in a URL). The construction is SIV with HMAC-SHA256 as the PRF, keys derived from
 * NEWSLETTER_SECRET by HKDF:
 *
 *   siv   = HMAC(macKey, version ‖ listId ‖ 0x00 ‖ address)[0..16]
 *   token = base64url(version ‖ siv ‖ AES-256-CTR(encKey, iv = siv, address))
 *
 * Deterministic (one address has one token per newsletter, so a copy can be made from a
 * template), unforgeable without the secret, and bound to the list id: a token moved to another
 * address or another newsletter fails the check. Tokens made with the preview key carry their own
 * version byte, which `readUnsubscribeToken` refuses whatever the key.
 */
const TOKEN_VERSION = 1;
const PREVIEW_TOKEN_VERSION = 0x70;
const SIV_BYTES = 16;
/** RFC 5321 caps a path at 256 octets; anything longer is not one of ours. */
const MAX_ADDRESS_BYTES = 320;

interface TokenKeys {
  mac: KeyObject;
  /** AES-256 in ECB mode, no padding, kept for the key's lifetime: the CTR keystream is made with it. */
  blocks: Cipher;
}
const keyCache = new Map<string, TokenKeys>();

function keysFor(secret: string): TokenKeys {
  let keys = keyCache.get(secret);
  if (!keys) {
    // KeyObjects: imported once, not on every HMAC and cipher (the endpoint reads a token per request).
    const derive = (info: string) => createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'newsletter-unsubscribe', info, 32)));
    const blocks = createCipheriv('aes-256-ecb', derive('enc v1'), null).setAutoPadding(false);
    keys = { mac: derive('mac v1'), blocks };
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(secret, keys);
  }
  return keys;
}

function syntheticIv(keys: TokenKeys, version: number, listId: string, address: Buffer): Buffer {
  return createHmac('sha256', keys.mac).update(Buffer.of(version)).update(listId).update(Buffer.of(0)).update(address).digest().subarray(0, SIV_BYTES);
}

/**
 * AES-256-CTR of `data` from the counter block `iv`, exactly as OpenSSL's `aes-256-ctr` (the
 * 128-bit block incremented big-endian), made from the one ECB cipher of the key: a new CTR
 * cipher per token cost more than the rest of reading one, and the endpoint reads one per request.
 */
function ctr(keys: TokenKeys, iv: Buffer, data: Buffer): Buffer {
  const blocks = Math.ceil(data.length / 16);
  const counters = Buffer.allocUnsafe(blocks * 16);
  for (let b = 0; b < blocks; b++) {
    const at = b * 16;
    iv.copy(counters, at, 0, 16);
    // iv + b, carried through all 16 bytes.
    let carry = b;
    for (let i = at + 15; i >= at && carry > 0; i--) {
      const sum = counters[i]! + (carry & 0xff);
      counters[i] = sum & 0xff;
      carry = (carry >>> 8) + (sum >>> 8);
    }
  }
  const stream = keys.blocks.update(counters);
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ stream[i]!;
  return out;
}

/** The opaque token of `email` on the newsletter `listId` (its List-Id), signed with `secret`. */
export function unsubscribeToken(email: string, secret: string, listId: string): string {
  const keys = keysFor(secret);
  const version = secret === PREVIEW_SECRET ? PREVIEW_TOKEN_VERSION : TOKEN_VERSION;
  const address = Buffer.from(normalizeEmail(email), 'utf8');
  const iv = syntheticIv(keys, version, listId, address);
  return Buffer.concat([Buffer.of(version), iv, ctr(keys, iv, address)]).toString('base64url');
}

/** Made with the preview key (its own version byte): never unsubscribes anyone, whatever the key. */
export function isPreviewToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{2,}$/.test(token) && Buffer.from(token.slice(0, 4), 'base64url')[0] === PREVIEW_TOKEN_VERSION;
}

export type TokenProblem = 'malformed' | 'preview' | 'forged';

/**
 * The address a token was made for, or why it is refused: `malformed` (truncated, not base64url),
 * `preview` (made with the preview key: never unsubscribes anyone), `forged` (tampered, another
 * newsletter's, another key's). The comparison is constant-time.
 */
export function readUnsubscribeToken(token: string, secret: string, listId: string): { email: string } | { problem: TokenProblem } {
  if (!/^[A-Za-z0-9_-]+$/.test(token) || token.length > 4 * Math.ceil((1 + SIV_BYTES + MAX_ADDRESS_BYTES) / 3)) return { problem: 'malformed' };
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < 1 + SIV_BYTES + 3 || bytes.toString('base64url') !== token) return { problem: 'malformed' };
  if (bytes[0] === PREVIEW_TOKEN_VERSION) return { problem: 'preview' };
  if (bytes[0] !== TOKEN_VERSION) return { problem: 'malformed' };
  const keys = keysFor(secret);
  const iv = bytes.subarray(1, 1 + SIV_BYTES);
  const address = ctr(keys, Buffer.from(iv), bytes.subarray(1 + SIV_BYTES));
  const expected = syntheticIv(keys, TOKEN_VERSION, listId, address);
  if (!timingSafeEqual(expected, iv)) return { problem: 'forged' };
  return { email: address.toString('utf8') };
}

/** Is `token` the one `email` was sent for this newsletter? Constant-time. */
export function verifyUnsubscribeToken(email: string, token: string, secret: string, listId: string): boolean {
  const read = readUnsubscribeToken(token, secret, listId);
  return 'email' in read && read.email === normalizeEmail(email);
}

/** `unsubscribeUrl` with `{token}`, `{email}` and `{issue}` filled for one recipient. */
export function unsubscribeUrl(config: ResolvedConfig, recipient: Recipient, issueSlug: string, secret: string): string {
  const pattern = config.unsubscribeUrl;
  return pattern
    .replaceAll('{email}', encodeURIComponent(recipient.email))
    .replaceAll('{token}', pattern.includes('{token}') ? unsubscribeToken(recipient.email, secret, listIdFor(config)) : '')
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

/**
 * Adds UTM parameters to every link of sanitized HTML (whose attributes are always double-quoted).
 * The href is decoded to read it, so it is escaped again in full: a decoded `>` written back raw
 * would let a `mailto:` link carry `]]>` into the feeds.
 */
export function addUtmToHtml(html: string, utm: UtmParameters | null, issueSlug: string): string {
  if (!utm) return html;
  return html.replace(HREF, (_, href: string) => `href="${escapeHtml(withUtm(decodeAttribute(href), utm, issueSlug))}"`);
}
