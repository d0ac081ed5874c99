/**
 * Hard or soft: whether an address should never be mailed again (it does not exist, its domain
 * does not), or the failure says something about this message or this moment (a full mailbox, a
 * spam filter, a greylist, a message too large).
 *
 * The enhanced status code (RFC 3463) decides first; a few 5.x.x codes are soft because they
 * describe the mailbox's state or the sender, not the address. Without a code, the basic SMTP
 * code and the diagnostic's wording decide, from the table below (the phrases the common MTAs and
 * providers write).
 */

export type Severity = 'hard' | 'soft';

/** Permanent codes that do not mean the address is dead. */
const SOFT_PERMANENT = /^5\.(?:2\.2|2\.3|3\.4|4\.6|4\.7|7\.\d{1,3}|5\.\d{1,3}|3\.0|0\.0)$/;
/** …except these, which say the account is gone or disabled whatever their class. */
const HARD_EXCEPTIONS = /^5\.(?:7\.13|7\.129|0\.350)$/;

interface Phrase {
  pattern: RegExp;
  severity: Severity;
  status: string;
}

/** Wording to status, most specific first. The first match wins. */
export const DIAGNOSTIC_PHRASES: readonly Phrase[] = [
  { pattern: /mailbox (?:is )?full|over ?quota|quota exceeded|exceeded (?:the |its )?(?:storage|quota)|insufficient (?:system )?storage|inbox is full|out of storage/i, severity: 'soft', status: '4.2.2' },
  { pattern: /message (?:is )?too (?:big|large)|message size exceeds|size limit/i, severity: 'soft', status: '5.3.4' },
  { pattern: /(?:temporar(?:y|ily)|try (?:again )?later|greylist|rate limit|too many (?:connections|messages|recipients)|deferred|service unavailable)/i, severity: 'soft', status: '4.0.0' },
  { pattern: /spam|blocked|blacklist|block ?list|reputation|policy|not authori[sz]ed|denied|rejected for policy|dmarc|spf|dkim/i, severity: 'soft', status: '5.7.1' },
  { pattern: /account (?:has been |is )?(?:disabled|deactivated|suspended|inactive|closed)|mailbox (?:is )?(?:disabled|inactive)|no longer (?:active|valid|available)/i, severity: 'hard', status: '5.2.1' },
  { pattern: /host (?:or domain name )?not found|domain (?:not found|does not exist)|no mx|unrouteable|unroutable|name service error|nxdomain|no such domain/i, severity: 'hard', status: '5.1.2' },
  {
    pattern:
      /user (?:unknown|not found|doesn't exist|does not exist)|unknown (?:user|recipient|local part|mailbox)|no such (?:user|mailbox|recipient|address)|(?:address|recipient|mailbox|account)(?: that you tried to reach)?(?: you entered)? (?:does ?n[o']t exist|not found|couldn't be found|could not be found|unknown|unavailable|is unavailable|rejected)|not a valid (?:mailbox|recipient|address)|invalid (?:recipient|mailbox|address)|no mailbox here|doesn't have a [\w.]+ account|recipientnotfound|mailbox unavailable|undeliverable address/i,
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
  const text = diagnostic ?? '';
  const code = status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(status) ? status : enhancedStatusIn(text);
  const phrase = DIAGNOSTIC_PHRASES.find((p) => p.pattern.test(text));
  if (code) {
    if (code.startsWith('4')) return { severity: 'soft', status: code };
    if (code.startsWith('5')) {
      if (HARD_EXCEPTIONS.test(code)) return { severity: 'hard', status: code };
      // A generic code (5.0.0, 5.5.x) whose text says the user is unknown is a dead address.
      if (SOFT_PERMANENT.test(code)) return { severity: phrase?.severity === 'hard' && /^5\.(?:0\.0|5\.\d+|3\.0)$/.test(code) ? 'hard' : 'soft', status: code };
      return { severity: 'hard', status: code };
    }
  }
  const basic = basicCodeIn(text);
  if (basic?.startsWith('4')) return { severity: 'soft', status: code ?? phrase?.status.replace(/^5/, '4') ?? '4.0.0' };
  if (phrase) return { severity: temporary && phrase.severity === 'hard' ? 'soft' : phrase.severity, status: code ?? phrase.status };
  if (temporary) return { severity: 'soft', status: code ?? '4.0.0' };
  if (basic?.startsWith('5')) return { severity: 'hard', status: code ?? '5.0.0' };
  // A failure with no code and no wording we know: permanent by the report's own word.
  return { severity: 'hard', status: code ?? null };
}
