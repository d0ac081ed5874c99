/**
 * Hard or soft: whether an address should never be mailed again (it does not exist, its domain
 * does not, its account is closed), or the failure says something about this message, this
 * sender or this moment (a full mailbox, a spam filter, a block list, a greylist, a size limit, a
 * relay that gave up retrying).
 *
 * Hard needs evidence, because a wrong hard loses a reader for good while a wrong soft costs at
 * most a few more attempts (soft bounces suppress after `softBounceLimit` consecutive issues):
 *
 * - an enhanced status code (RFC 3463) that names the address or its domain as bad (5.1.1, 5.1.2,
 *   5.1.3, 5.1.6, 5.1.10, 5.2.1 disabled, and the account-disabled codes of HARD_EXCEPTIONS),
 *   unless the wording says the message was refused for policy (spam, block lists, filters);
 * - or, with any other permanent code or none, wording that says the user, mailbox or domain
 *   does not exist (DIAGNOSTIC_PHRASES), and no policy wording.
 *
 * Anything else permanent is soft: 5.1.7 and 5.1.8 are about our sender address, 5.2.0, 5.3.x,
 * 5.4.x, 5.5.x, 5.6.x and 5.7.x about the mailbox's state, the system, routing, the protocol, the
 * content and policy. The corpus of tests/fixtures/bounces/ and the real-world report
 * (scripts/bounce-corpus-report.js) hold this to what MTAs write.
 */

export type Severity = 'hard' | 'soft';

/** Permanent codes that name the recipient's address, mailbox or domain as bad. */
const HARD_CODES = /^5\.(?:1\.(?:1|2|3|6|10)|2\.1)$/;
/** Codes that say the account is gone or disabled whatever their class. */
const HARD_EXCEPTIONS = /^5\.(?:7\.13|7\.129|0\.350)$/;
/** Codes about the sender's own address: never the recipient's fault. */
const SENDER_CODES = /^5\.1\.[78]$/;

interface Phrase {
  pattern: RegExp;
  severity: Severity;
  status: string;
}

/** Wording to status, most specific first. The first match wins. */
export const DIAGNOSTIC_PHRASES: readonly Phrase[] = [
  { pattern: /mailbox (?:is )?full|over ?quota|quota exceeded|exceeded (?:the |its )?(?:storage|quota)|insufficient (?:system )?storage|inbox is full|out of storage/i, severity: 'soft', status: '4.2.2' },
  { pattern: /message (?:is )?too (?:big|large)|message size exceeds|size limit/i, severity: 'soft', status: '5.3.4' },
  { pattern: /(?:temporar(?:y|ily)|try (?:again )?later|not found, try again|greylist|rate limit|too many (?:connections|messages|recipients)|deferred|service unavailable)/i, severity: 'soft', status: '4.0.0' },
  { pattern: /spam|blocked|blacklist|block ?list|reputation|policy|not authori[sz]ed|denied|rejected for policy|dmarc|spf|dkim/i, severity: 'soft', status: '5.7.1' },
  { pattern: /account (?:has been |is )?(?:disabled|deactivated|suspended|inactive|closed)|mailbox (?:is )?(?:disabled|inactive)|no longer (?:active|valid|available)/i, severity: 'hard', status: '5.2.1' },
  {
    pattern:
      /host (?:or domain name )?not found|host [a-z0-9.-]+\.[a-z]{2,} not found|host unknown|domain (?:not found|does not exist|is not reachable)|invalid domain|no mx|couldn't find a mail exchanger|no smtp service|does not accept mail|unrouteable|unroutable|nxdomain|no such domain/i,
    severity: 'hard',
    status: '5.1.2',
  },
  {
    pattern:
      /user (?:unknown|not found|doesn't exist|does not exist)|unknown (?:user|recipient|local part|mailbox)|no such (?:user|mailbox|recipient|address)|(?:address|recipient|mailbox|account)(?: that you tried to reach)?(?: you entered)? (?:does ?n[o']t exist|not found|couldn't be found|could not be found|unknown|unavailable|is unavailable)|not a valid (?:mailbox|recipient|address)|not listed in (?:the )?(?:domino )?directory|(?:recipient|user) name is not recognized|recipient address rejected: access denied|invalid (?:recipient|mailbox|address)|no mailbox here|doesn't have a [\w.]+ account|recipientnotfound|mailbox unavailable|undeliverable address/i,
    severity: 'hard',
    status: '5.1.1',
  },
];

/** The first enhanced status code in `text` (`5.1.1`, qmail's `#5.1.1`), or null. */
export function enhancedStatusIn(text: string): string | null {
  return /(?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(text)?.[1] ?? null;
}

/** The first basic SMTP reply code in `text` (`550`, `452`), or null. */
export function basicCodeIn(text: string): string | null {
  return /(?:^|[\s;:(])([245][0-5]\d)(?=[\s\-:)]|$)/.exec(text)?.[1] ?? null;
}

export interface Verdict {
  severity: Severity;
  /** The status as reported, or as the wording implies. */
  status: string | null;
}

/**
 * The verdict on one failed recipient. `temporary` is what the report itself said (a DSN's
 * `Action: delayed`, an MTA's "temporary error" wording), used when nothing more precise is there.
 */
export function verdictOf(status: string | null, diagnostic: string | null, temporary = false): Verdict {
  // What a server says fits in far less; the cap bounds every pattern below on hostile text.
  const text = (diagnostic ?? '').slice(0, 4096);
  const code = status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(status) ? status : enhancedStatusIn(text);
  const phrase = DIAGNOSTIC_PHRASES.find((p) => p.pattern.test(text));
  // Refused for what the message or its sender is, not for who it was sent to. Read in the
  // reply's words only: `mx1.spamexperts.net` or `[BL2NAM02…]` say nothing of the refusal.
  const words = withoutNames(text);
  const recipientDead = RECIPIENT_DEAD.test(words);
  const aboutSender = SENDER_WORDING.test(words) && (!recipientDead || /\bsender (?:address|domain)\b/i.test(words));
  const policy = (POLICY.test(words) && !recipientDead) || aboutSender;
  // Words that the address is dead, unless words of a full mailbox, a size or a delay come first.
  const dead = DIAGNOSTIC_PHRASES.find((p) => p.severity === 'hard' && p.pattern.test(text));
  const deadWording = !!dead && !policy && (phrase?.severity === 'hard' || phrase?.status === '5.7.1');
  if (code?.startsWith('4')) return { severity: 'soft', status: code };
  if (code?.startsWith('5')) {
    if (SENDER_CODES.test(code)) return { severity: 'soft', status: code };
    if (HARD_EXCEPTIONS.test(code)) return { severity: 'hard', status: code };
    if (HARD_CODES.test(code)) return { severity: policy ? 'soft' : 'hard', status: code };
    return { severity: deadWording && !temporary ? 'hard' : 'soft', status: code };
  }
  const basic = basicCodeIn(text);
  if (basic?.startsWith('4')) return { severity: 'soft', status: phrase?.status.replace(/^5/, '4') ?? '4.0.0' };
  if (phrase) return { severity: deadWording && !temporary ? 'hard' : 'soft', status: (deadWording ? dead!.status : phrase.status) };
  // A failure in words we do not know, or with none: what it says of the address is unknown.
  return { severity: 'soft', status: temporary ? '4.0.0' : basic?.startsWith('5') ? '5.0.0' : null };
}

/** Policy refusals: the wording of spam filters, block lists and sender checks (whole words). */
const POLICY = /\b(?:spam\w*|blocked|blacklist\w*|block ?list\w*|reputation|polic(?:y|ies)|not authori[sz]ed|denied|dmarc|spf|dkim|filter\w*|reverse dns|ptr|rbl|dnsbl|rate limit\w*|too many)\b/i;
/** About our sender address or domain (Postfix's "Sender address rejected: Domain not found"): not the recipient's. */
const SENDER_WORDING = /\bsender (?:address|domain)\b|\bfrom address\b|\benvelope sender\b|\bmail from\b|\bmy name was rejected\b|\b(?:helo|ehlo)\b/i;
/**
 * Words that the recipient does not exist, which win over policy-sounding words around them
 * (Microsoft's "Recipient address rejected: Access denied" is its answer for a missing one).
 */
const RECIPIENT_DEAD = new RegExp(`${DIAGNOSTIC_PHRASES.find((p) => p.status === '5.1.1')!.pattern.source}|recipient address rejected: access denied`, 'i');

/**
 * The text without the names in it: host names, addresses, URLs (a token with a dot inside) and
 * `[bracketed]` server ids. Token by token, not one pattern over the whole: linear on any input.
 */
function withoutNames(text: string): string {
  return text
    .replace(/\[[^\]\n]{0,200}\]/g, ' ')
    .split(/\s+/)
    .filter((token) => !/[^\s.]\.[^\s.]/.test(token))
    .join(' ');
}
