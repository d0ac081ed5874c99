import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { normalizeEmail } from '../render/links.js';

/**
 * The confirmation token of a sign-up: what the reader gave, sealed with AES-256-GCM under a key
 * derived from NEWSLETTER_SECRET (HKDF, its own label: never the unsubscribe tokens' keys), the
 * list id as associated data, and an expiry inside. Opaque (nothing readable in the link, which
 * reaches logs and link scanners), unforgeable, bound to the address and to the list: a token of
 * another list or key, or with one bit changed, fails the tag; a stale one is `expired`.
 *
 * Nothing is stored until the confirmation: the sign-up lives in the link, so a flood of
 * sign-ups that are never confirmed fills no file.
 *
 *   token = base64url(version ‖ iv[12] ‖ AES-GCM(key, iv, aad = version ‖ listId, json) ‖ tag[16])
 */

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Address, fields, page and consent text, each capped before they get here: a link stays a link. */
const MAX_TOKEN_CHARS = 4096;

export interface SignupClaims {
  email: string;
  fields: Record<string, string>;
  page: string | null;
  consentText: string;
  /** Already truncated as the config asks. */
  ip: string | null;
  signedUpAt: string;
  /** Epoch ms after which the link no longer works. */
  expiresAt: number;
}

export type SignupTokenProblem = 'malformed' | 'forged' | 'expired';

const keys = new Map<string, KeyObject>();

function keyFor(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'newsletter-signup', 'confirm v1', 32)));
    if (keys.size > 16) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function aad(listId: string): Buffer {
  return Buffer.concat([Buffer.of(VERSION), Buffer.from(listId, 'utf8')]);
}

export function signupToken(claims: SignupClaims, secret: string, listId: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret), iv).setAAD(aad(listId));
  const body = JSON.stringify({ e: normalizeEmail(claims.email), f: claims.fields, p: claims.page, c: claims.consentText, i: claims.ip, s: claims.signedUpAt, x: claims.expiresAt });
  const sealed = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

export function readSignupToken(token: string, secret: string, listId: string, now = Date.now()): { claims: SignupClaims } | { problem: SignupTokenProblem } {
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return { problem: 'malformed' };
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES + 2 || bytes.toString('base64url') !== token || bytes[0] !== VERSION) return { problem: 'malformed' };
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  let text: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret), iv).setAAD(aad(listId)).setAuthTag(tag);
    text = Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return { problem: 'forged' };
  }
  const raw = JSON.parse(text) as { e: string; f: Record<string, string>; p: string | null; c: string; i: string | null; s: string; x: number };
  if (!(raw.x > now)) return { problem: 'expired' };
  return { claims: { email: raw.e, fields: raw.f, page: raw.p, consentText: raw.c, ip: raw.i, signedUpAt: raw.s, expiresAt: raw.x } };
}
