import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { normalizeEmail } from '../render/links.js';
import { VERP_TAG_LENGTH } from './verp-tag-length.js';

/*
 * VERP: each message's envelope sender is `bounces+<tag>@domain`, so a bounce names its recipient
 * and issue even when the report quotes nothing of the original. The tag is opaque and signed,
 * 24 base32 characters (lower case: some relays fold the case of local parts):
 *
 *   issue = HMAC(key, "issue" ‖ listId ‖ 0x00 ‖ slug)[0..4]
 *   mac   = HMAC(key, "rcpt"  ‖ listId ‖ 0x00 ‖ slug ‖ 0x00 ‖ address)[0..10]
 *   tag   = base32(version ‖ issue ‖ mac)
 *
 * An address does not fit (a 64-octet local part leaves room for some 35 bytes of anything), so
 * the tag refers to it: `resolve` finds the issue among those sent and the address among that
 * issue's accepted recipients (the send journal), by recomputing the MAC. A tag nobody was sent
 * matches nothing; 80 bits of MAC make a forged one match with odds of 2^-80 per address.
 */

const VERSION = 1;
const ISSUE_BYTES = 4;
const MAC_BYTES = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

const keyCache = new Map<string, Buffer>();

function keyFor(secret: string): Buffer {
  let key = keyCache.get(secret);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, 'newsletter-verp', 'verp v1', 32));
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer | null {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

export function verpIssueCode(secret: string, listId: string, issueSlug: string): Buffer {
  return createHmac('sha256', keyFor(secret)).update('issue').update(listId).update(Buffer.of(0)).update(issueSlug).digest().subarray(0, ISSUE_BYTES);
}

function recipientMac(secret: string, listId: string, issueSlug: string, email: string): Buffer {
  return createHmac('sha256', keyFor(secret))
    .update('rcpt')
    .update(listId)
    .update(Buffer.of(0))
    .update(issueSlug)
    .update(Buffer.of(0))
    .update(normalizeEmail(email))
    .digest()
    .subarray(0, MAC_BYTES);
}

/** The tag of `email` in issue `issueSlug` of the newsletter `listId`. */
export function verpTag(secret: string, listId: string, issueSlug: string, email: string): string {
  return base32(Buffer.concat([Buffer.of(VERSION), verpIssueCode(secret, listId, issueSlug), recipientMac(secret, listId, issueSlug, email)]));
}

/** `bounces+<tag>@domain` for one recipient of one issue. */
export function verpAddress(base: string, secret: string, listId: string, issueSlug: string, email: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+${verpTag(secret, listId, issueSlug, email)}${base.slice(at)}`;
}

export interface VerpTag {
  tag: string;
  issueCode: Buffer;
  mac: Buffer;
}

/** The tag's parts, or null when `text` is not a tag of ours (wrong length, alphabet, version). */
export function parseVerpTag(text: string): VerpTag | null {
  const tag = text.toLowerCase();
  if (tag.length !== VERP_TAG_LENGTH) return null;
  const bytes = unbase32(tag);
  if (!bytes || bytes.length !== 1 + ISSUE_BYTES + MAC_BYTES || bytes[0] !== VERSION || base32(bytes) !== tag) return null;
  return { tag, issueCode: bytes.subarray(1, 1 + ISSUE_BYTES), mac: bytes.subarray(1 + ISSUE_BYTES) };
}

const TAG_IN_ADDRESS = new RegExp(`\\+([a-z2-7]{${VERP_TAG_LENGTH}})@`, 'gi');

/** Every VERP tag found in `text` (a To, Delivered-To or X-Original-To header) whose local part starts as `base`'s. */
export function findVerpTags(text: string, base: string): VerpTag[] {
  const local = base.slice(0, base.lastIndexOf('@')).toLowerCase();
  const tags: VerpTag[] = [];
  for (const match of text.matchAll(TAG_IN_ADDRESS)) {
    const before = text.slice(0, match.index).toLowerCase();
    if (!before.endsWith(local)) continue;
    const parsed = parseVerpTag(match[1]!);
    if (parsed && !tags.some((t) => t.tag === parsed.tag)) tags.push(parsed);
  }
  return tags;
}

/** The recipients of the issues sent, as the send journals hold them. */
export interface SentRecipients {
  issues(): Promise<string[]>;
  recipients(issueSlug: string): AsyncIterable<string>;
}

/**
 * Resolves tags to (issue, address) by recomputing them over what was sent: each issue's map of
 * MACs is built on the first tag that names it, and kept while the list of issues sent is the
 * same one (`sent.issues()` returns a new list when it reads again: new sends, new recipients).
 */
export class VerpResolver {
  /** Issue code → slug and the MAC maps, for one list of issues: promises, so reports resolved at once share one build. */
  private built: { slugs: string[]; issueCodes: Map<string, string>; macs: Map<string, Promise<Map<string, string>>> } | null = null;

  constructor(
    private readonly secret: string,
    private readonly listId: string,
    private readonly sent: SentRecipients,
  ) {}

  async resolve(tag: VerpTag): Promise<{ issue: string; email: string } | null> {
    const slugs = await this.sent.issues();
    if (this.built?.slugs !== slugs) {
      this.built = { slugs, issueCodes: new Map(slugs.map((slug) => [verpIssueCode(this.secret, this.listId, slug).toString('hex'), slug])), macs: new Map() };
    }
    const built = this.built;
    const issue = built.issueCodes.get(tag.issueCode.toString('hex'));
    if (!issue) return null;
    let macs = built.macs.get(issue);
    if (!macs) {
      macs = this.buildMacs(issue);
      built.macs.set(issue, macs);
      // A failed read of the journal is not kept: the next tag of the issue reads again.
      macs.catch(() => built.macs.get(issue) === macs && built.macs.delete(issue));
    }
    const email = (await macs).get(tag.mac.toString('hex'));
    if (!email) return null;
    // The map's lookup is by the MAC's text; the comparison that decides is constant-time.
    return timingSafeEqual(recipientMac(this.secret, this.listId, issue, email), tag.mac) ? { issue, email } : null;
  }

  private async buildMacs(issue: string): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for await (const email of this.sent.recipients(issue)) map.set(recipientMac(this.secret, this.listId, issue, email).toString('hex'), normalizeEmail(email));
    return map;
  }
}
