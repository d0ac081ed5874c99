import { createHash } from 'node:crypto';

/**
 * An erased address (`subscribers remove --erase`, the GDPR right to erasure) stays suppressed by
 * a one-way hash of its normalized spelling, so nothing readable of it is left while no send can
 * reach it again. Stored where an address would be (a line of `suppressions.txt`, a member of the
 * Redis suppression set): `sha256:<64 hex digits>`, which no address can look like (no `@`).
 *
 * Unkeyed on purpose: NEWSLETTER_SECRET may change, and the suppression must outlive it. A
 * dictionary of known addresses can still be checked against the hashes; that is the usual
 * trade-off of hashed suppression lists (Mailchimp, SES) and is said in docs/signup.md.
 */

export const ERASED_PREFIX = 'sha256:';

/** `email` normalized before hashing by the caller (every store compares normalized addresses). */
export function erasedKey(normalizedEmail: string): string {
  return ERASED_PREFIX + createHash('sha256').update(normalizedEmail, 'utf8').digest('hex');
}

export function isErasedKey(value: string): boolean {
  return value.startsWith(ERASED_PREFIX) && /^sha256:[0-9a-f]{64}$/.test(value);
}

/**
 * Does `line` name `email` (already normalized)? Case-insensitive, and only as a whole address:
 * `a@b.example` is not found inside `ba@b.example`. Used to rewrite files that must forget it.
 */
export function mentions(line: string, email: string): boolean {
  const lower = line.toLowerCase();
  let at = lower.indexOf(email);
  while (at >= 0) {
    const before = at === 0 ? '' : lower[at - 1]!;
    const after = lower[at + email.length] ?? '';
    if (!/[a-z0-9._%+-]/.test(before) && !/[a-z0-9.-]/.test(after)) return true;
    at = lower.indexOf(email, at + 1);
  }
  return false;
}
