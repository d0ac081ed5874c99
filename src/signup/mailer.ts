import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { crlf, foldableSubject, listUnsubscribeValue, recipientAddress } from '../render/message.js';
import { headerSafe, listIdFor } from '../render/list-id.js';
import { dkimOptions } from '../send/transport.js';
import type { SignupEmail } from './emails.js';
import { rawComposer } from './raw-message.js';

/**
 * The mail of sign-ups (confirmations, welcomes) from `serve`: a pooled SMTP transport, each
 * message sent in the background so a POST /subscribe answers in milliseconds. A failure is
 * reported (without the address) and not retried here: the reader can sign up again. At most
 * MAX_IN_FLIGHT messages wait at once; more are dropped and reported, so a flood cannot make
 * `serve` hold an unbounded queue.
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
  send(message: Promise<OutgoingSignupEmail>, kind: 'confirm' | 'welcome'): void;
  /** Resolves once every message handed over so far was sent (or failed). */
  idle(): Promise<void>;
  /** Waits for the messages in flight, then closes the connections. */
  close(): Promise<void>;
}

const MAX_IN_FLIGHT = 5000;

export async function smtpSignupMailer(smtpUrl: string, config: ResolvedConfig, onError: (kind: string, error: unknown) => void): Promise<SignupMailer> {
  const dkim = await dkimOptions(config);
  const transporter = nodemailer.createTransport({ ...parseConnectionUrl(smtpUrl), pool: true, maxConnections: 2, maxMessages: 100, ...(dkim ? { dkim } : {}) } as never);
  const raw = rawComposer(config, (email) => signupMailOptions(config, email));
  const inFlight = new Set<Promise<void>>();
  let dropped = 0;
  const idle = async () => {
    while (inFlight.size) await Promise.all(inFlight);
  };
  return {
    send(message, kind) {
      if (inFlight.size >= MAX_IN_FLIGHT) {
        message.catch(() => undefined);
        // Said once a second at most, with the count: a flood must not also flood the log.
        if (dropped++ === 0) {
          setTimeout(() => {
            onError(kind, new Error(`${dropped} sign-up email${dropped > 1 ? 's' : ''} dropped: ${MAX_IN_FLIGHT} were already waiting for the SMTP server`));
            dropped = 0;
          }, 1000).unref();
        }
        return;
      }
      const sending = message
        .then(async (email) => {
          const prepared = raw(email);
          await transporter.sendMail((prepared ? { raw: prepared.raw, envelope: { from: prepared.from, to: [prepared.to] } } : signupMailOptions(config, email)) as never);
        })
        .catch((error: unknown) => onError(kind, error))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    },
    idle,
    async close() {
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
