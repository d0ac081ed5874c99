/**
 * What a delivery error means for the recipient. SMTP replies decide it where there is one: 4xx is
 * temporary (retry with backoff), 5xx permanent (record, never retry; an address the server
 * rejects joins the suppression list). No reply at all (refused, dropped, timed out) is temporary.
 * Failed authentication stops the whole send: no recipient can get through.
 */

export interface Failure {
  kind: 'temporary' | 'permanent' | 'fatal';
  reason: string;
  /** The address itself bounced (RCPT rejected, or a 5.1.x/5.2.x status): suppress it. */
  bounce: boolean;
  /** For a fatal failure: what to fix. */
  hint?: string | undefined;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

export function classifyFailure(error: unknown): Failure {
  const e = (error ?? {}) as SmtpError;
  const reason = oneLine(e.response || e.message || String(error));
  if (e.code === 'EAUTH') return { kind: 'fatal', reason: `authentication failed: ${reason}`, bounce: false, hint: 'check the user and password in the SMTP URL' };
  // TLS could not be started (no STARTTLS with requireTLS, a certificate refused): no recipient
  // can get through; a configuration error, not a failure of each recipient.
  if (e.code === 'ETLS' || (e.code === 'ESOCKET' && /certificate|\b(ssl|tls)\b|handshake/i.test(e.message ?? ''))) {
    return {
      kind: 'fatal',
      reason: `TLS could not be started with the SMTP server: ${reason}`,
      bounce: false,
      hint: 'use a server that offers STARTTLS (or smtps:// on port 465); to send the password without TLS anyway, add ?allowInsecureAuth=true to the SMTP URL (docs/suppressions.md)',
    };
  }
  const status = typeof e.responseCode === 'number' ? e.responseCode : null;
  if (status !== null && status >= 500) {
    const rcpt = /^RCPT/i.test(e.command ?? '');
    const mailboxStatus = /\b5\.[12]\.\d+\b/.test(e.response ?? '');
    return { kind: 'permanent', reason, bounce: rcpt || mailboxStatus };
  }
  if (status !== null && status >= 400) return { kind: 'temporary', reason, bounce: false };
  return { kind: 'temporary', reason: e.code ? `${e.code}: ${reason}` : reason, bounce: false };
}

/** Exponential backoff with jitter: base, 2×base, 4×base… each between 50 % and 100 %, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(full * (0.5 + random() / 2));
}

/** Resolves after `ms`, or early (false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Spaces message starts evenly: at most `perSecond` per second over the whole send. */
export class RateLimiter {
  private next = 0;
  private readonly interval: number;

  constructor(perSecond: number) {
    this.interval = 1000 / perSecond;
  }

  async take(signal?: AbortSignal): Promise<boolean> {
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + this.interval;
    return at > now ? sleep(at - now, signal) : true;
  }
}
