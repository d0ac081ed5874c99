import { setTimeout as delay } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { DEFAULTS, type Recipient, type ResolvedConfig } from '../config/defaults.js';
import { crlf, foldableSubject, listUnsubscribeValue, recipientAddress } from '../render/message.js';
import { headerSafe, listIdFor } from '../render/list-id.js';
import { dkimOptions } from '../send/transport.js';
import type { SignupEmail } from './emails.js';
import { rawComposer } from './raw-message.js';

/**
 * The mail of sign-ups (confirmations, welcomes) from `serve`: a pooled SMTP transport, each
 * message sent in the background so a POST /subscribe answers in milliseconds.
 *
 * - A refusal for now (4xx, a lost or refused connection) is tried again after each of
 *   `retryDelaysMs`: a relay restarting for a minute costs no reader their confirmation.
 * - A message that cannot go (a 5xx, the retries used up, `serve` stopping meanwhile) is
 *   reported without the address, and its `undelivered` callback runs, so the sign-up can give
 *   back the address's one-mail-a-day allowance and the reader's next try sends again.
 * - At most `maxInFlight` messages wait at once (retries and reserved places included):
 *   `reserve()` answers null, and the sign-up answers "try again in a minute" instead of
 *   promising a mail.
 */

export interface OutgoingSignupEmail extends Pick<SignupEmail, 'slots'> {
  to: Recipient;
  subject: string;
  html: string;
  text: string;
  /** The welcome's one-click unsubscribe (List-Unsubscribe + Post); null for a confirmation. */
  unsubscribeUrl: string | null;
}

export interface SignupMailer {
  /**
   * A place in the queue for a message about to be made, or null while the queue is full. Held
   * from the check to the send, so requests answered meanwhile cannot overfill it.
   */
  reserve(): MailSlot | null;
  /** Sends in the background without a reservation (dropped and reported when the queue is full); `undelivered` runs when the message will not be sent after all. */
  send(message: Promise<OutgoingSignupEmail>, kind: 'confirm' | 'welcome', undelivered?: () => void): void;
  /** Resolves once every message handed over so far was sent (or failed). */
  idle(): Promise<void>;
  /** Waits for the messages being sent (not for retries: those are given up), then closes the connections. */
  close(): Promise<void>;
}

export interface MailSlot {
  /** Sends the message in the reserved place (once). */
  send(message: Promise<OutgoingSignupEmail>, kind: 'confirm' | 'welcome', undelivered?: () => void): void;
  /** Gives the place back unused. */
  release(): void;
}

export interface SignupMailerOptions {
  maxInFlight?: number | undefined;
  retryDelaysMs?: readonly number[] | undefined;
  /** A message refused for now, to be tried again after `inMs` (the error without addresses). */
  onRetry?: ((kind: string, error: Error, inMs: number) => void) | undefined;
}

/**
 * The error as it may be logged: nodemailer puts the server's reply in the message, and replies
 * name the recipient (`550 5.1.1 <eli@example.com>: Recipient address rejected`); the log never
 * holds an address (docs/signup.md). Bounded parts: the reply is the server's text.
 */
export function withoutAddresses(error: unknown): Error {
  const message = ((error as Error)?.message ?? String(error)).slice(0, 2000).replace(/[^\s<>()"',;:@]{1,64}@[^\s<>()"',;:@]{1,255}/g, '<address>');
  return Object.assign(new Error(message), { code: (error as { code?: unknown }).code, responseCode: (error as { responseCode?: unknown }).responseCode });
}

/** A refusal for now: a 4xx reply, or no reply at all (the connection failed or was lost). */
function temporary(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' ? code >= 400 && code < 500 : true;
}

export async function smtpSignupMailer(smtpUrl: string, config: ResolvedConfig, onError: (kind: string, error: unknown) => void, options: SignupMailerOptions = {}): Promise<SignupMailer> {
  const maxInFlight = options.maxInFlight ?? DEFAULTS.signup.maxMailsInFlight;
  const retryDelaysMs = options.retryDelaysMs ?? DEFAULTS.signup.mailRetryDelaysMs;
  const dkim = await dkimOptions(config);
  const transporter = nodemailer.createTransport({ ...parseConnectionUrl(smtpUrl), pool: true, maxConnections: 2, maxMessages: 100, ...(dkim ? { dkim } : {}) } as never);
  const raw = rawComposer(config, (email) => signupMailOptions(config, email));
  const inFlight = new Set<Promise<void>>();
  // Aborted by close(): the waits before retries end at once, and those messages are given up.
  const closing = new AbortController();
  let dropped = 0;
  const idle = async () => {
    while (inFlight.size) await Promise.all(inFlight);
  };
  const deliver = async (email: OutgoingSignupEmail, kind: string) => {
    const prepared = raw(email);
    const mail = prepared ? { raw: prepared.raw, envelope: { from: prepared.from, to: [prepared.to] } } : signupMailOptions(config, email);
    for (let attempt = 0; ; attempt++) {
      try {
        await transporter.sendMail(mail as never);
        return;
      } catch (error) {
        const wait = retryDelaysMs[attempt];
        if (wait === undefined || !temporary(error) || closing.signal.aborted) throw error;
        options.onRetry?.(kind, withoutAddresses(error), wait);
        await delay(wait, undefined, { signal: closing.signal }).catch(() => undefined);
        if (closing.signal.aborted) throw new Error(`not sent: serve stopped while the SMTP server was refusing it for now (${(error as Error).message})`);
      }
    }
  };
  let reserved = 0;
  const full = () => inFlight.size + reserved >= maxInFlight || closing.signal.aborted;
  const enqueue = (message: Promise<OutgoingSignupEmail>, kind: string, undelivered: (() => void) | undefined) => {
    const sending = message
      .then((email) => deliver(email, kind))
      .catch((error: unknown) => {
        undelivered?.();
        onError(kind, withoutAddresses(error));
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };
  return {
    reserve() {
      if (full()) return null;
      reserved++;
      let held = true;
      const letGo = () => {
        if (!held) return false;
        held = false;
        reserved--;
        return true;
      };
      return {
        send(message, kind, undelivered) {
          if (letGo()) enqueue(message, kind, undelivered);
        },
        release: () => void letGo(),
      };
    },
    send(message, kind, undelivered) {
      if (full()) {
        message.catch(() => undefined);
        undelivered?.();
        // Said once a second at most, with the count: a flood must not also flood the log.
        if (dropped++ === 0) {
          setTimeout(() => {
            onError(kind, new Error(`${dropped} sign-up email${dropped > 1 ? 's' : ''} not sent: ${maxInFlight} were already waiting for the SMTP server`));
            dropped = 0;
          }, 1000).unref();
        }
        return;
      }
      enqueue(message, kind, undelivered);
    },
    idle,
    async close() {
      closing.abort();
      await idle();
      transporter.close();
    },
  };
}

export function signupMailOptions(config: ResolvedConfig, email: OutgoingSignupEmail) {
  const headers: Record<string, { prepared: true; value: string }> = { 'List-Id': { prepared: true, value: listIdFor(config) } };
  if (email.unsubscribeUrl) {
    headers['List-Unsubscribe'] = { prepared: true, value: listUnsubscribeValue(config, headerSafe(email.unsubscribeUrl), 'welcome') };
    headers['List-Unsubscribe-Post'] = { prepared: true, value: 'List-Unsubscribe=One-Click' };
  }
  return {
    from: config.from,
    ...(config.replyTo ? { replyTo: config.replyTo } : {}),
    to: recipientAddress(email.to),
    subject: foldableSubject(headerSafe(email.subject)),
    text: crlf(email.text),
    html: crlf(email.html),
    textEncoding: 'quoted-printable' as const,
    headers,
  };
}
