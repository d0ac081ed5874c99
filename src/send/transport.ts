import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { assertIssueSlug } from '../content/slug.js';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type { ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import type { Destination } from '../store/types.js';
import type { OutgoingMessage } from './message-template.js';
import { maskUrlPassword } from '../mask-url.js';

/**
 * Where messages go: an SMTP server through nodemailer's pooled transport (the finished message
 * handed over as `raw`, so nodemailer only adds DKIM and does the SMTP), or, with no SMTP URL
 * configured, the outbox: one .eml file per recipient, so the whole flow runs on a fresh machine.
 */

export type TransportChoice = { kind: 'smtp'; url: string; display: string } | { kind: 'outbox'; dir: string; display: string };

/** The SMTP URL as printed and journaled: never a password (mask-url.ts). */
export function maskSmtpUrl(url: string): string {
  return maskUrlPassword(url, 'SMTP');
}

/** Where a transport delivers, for the journal: host and user for SMTP (no password), or the folder. */
export function destinationOf(choice: TransportChoice): Destination {
  if (choice.kind === 'outbox') return { kind: 'outbox', id: choice.dir };
  try {
    const parsed = new URL(choice.url);
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
    return { kind: 'smtp', id: `${parsed.protocol}//${user}${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}` };
  } catch {
    return { kind: 'smtp', id: maskSmtpUrl(choice.url) };
  }
}

export function smtpChoice(url: string): TransportChoice {
  const display = maskSmtpUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NewsletterError('SEND_CONFIG', `\`${display}\` is not a URL`, { hint: 'expected smtp://user:pass@host:587 or smtps://user:pass@host:465' });
  }
  if ((parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') || !parsed.hostname) {
    throw new NewsletterError('SEND_CONFIG', `\`${display}\` is not an SMTP URL`, { hint: 'expected smtp://user:pass@host:587 or smtps://user:pass@host:465' });
  }
  return { kind: 'smtp', url, display };
}

export function outboxChoice(dir: string, issueSlug: string, cwd: string): TransportChoice {
  const folder = path.join(dir, assertIssueSlug(issueSlug));
  return { kind: 'outbox', dir: folder, display: `outbox (${displayPath(folder, cwd)}/)` };
}

export interface DeliveryOptions {
  concurrency: number;
  socketTimeoutMs: number;
  config: ResolvedConfig;
}

export interface DeliveryTarget {
  email: string;
  line: number;
}

export interface Deliverer {
  /** Resolves with the server's reply (or the file written); rejects with nodemailer's error. */
  deliver(message: OutgoingMessage, target: DeliveryTarget): Promise<string>;
  close(): Promise<void>;
}

export async function dkimOptions(config: ResolvedConfig) {
  if (!config.dkim) return undefined;
  let privateKey: string;
  try {
    privateKey = await readFile(config.dkim.privateKeyFile, 'utf8');
  } catch (error) {
    throw new NewsletterError('SEND_CONFIG', `cannot read the DKIM private key: ${(error as Error).message}`, { file: config.dkim.privateKeyFile });
  }
  if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(privateKey)) {
    throw new NewsletterError('SEND_CONFIG', 'the DKIM key file is not a PEM private key', { file: config.dkim.privateKeyFile });
  }
  return { domainName: config.dkim.domainName, keySelector: config.dkim.keySelector, privateKey };
}

/**
 * The opt-out, in the SMTP URL's query, that lets credentials go over a connection without TLS
 * (a relay on the same machine or a private network that cannot do STARTTLS). Named on purpose:
 * it must be written out by whoever wants it, and `check` and `send` warn while it is set.
 */
export const INSECURE_AUTH_PARAM = 'allowInsecureAuth';

export interface SmtpConnection {
  /** nodemailer's options for the URL, our parameter taken out. */
  options: Record<string, unknown>;
  /** The URL carries a user or password. */
  credentials: boolean;
  /** Credentials may be sent without TLS: the URL says allowInsecureAuth and the connection is not smtps. */
  insecureAuth: boolean;
}

/**
 * nodemailer's options for an SMTP URL, with TLS required before credentials are sent: without
 * `smtps://`, a URL with a user or password gets `requireTLS`, so a relay that does not offer
 * STARTTLS (or a man in the middle who strips it from the EHLO answer) gets no AUTH at all, and
 * the send stops as a configuration error. `?allowInsecureAuth=true` lifts that.
 */
export function smtpConnection(url: string): SmtpConnection {
  let insecureAsked = false;
  let cleaned = url;
  const query = url.indexOf('?');
  if (query >= 0) {
    const params = new URLSearchParams(url.slice(query + 1));
    const value = params.get(INSECURE_AUTH_PARAM);
    insecureAsked = value !== null && /^(1|true|yes|on)$/i.test(value.trim());
    params.delete(INSECURE_AUTH_PARAM);
    const rest = params.toString();
    cleaned = `${url.slice(0, query)}${rest ? `?${rest}` : ''}`;
  }
  const options = parseConnectionUrl(cleaned) as Record<string, unknown> & { auth?: { user?: string; pass?: string }; secure?: boolean };
  const credentials = Boolean(options.auth?.user || options.auth?.pass);
  const insecureAuth = credentials && insecureAsked && options.secure !== true;
  if (credentials && options.secure !== true && !insecureAsked) options.requireTLS = true;
  return { options, credentials, insecureAuth };
}

/** The warning `check` and `send` print while the SMTP URL lets credentials go without TLS; null otherwise. */
export function insecureAuthWarning(url: string | undefined): string | null {
  if (!url) return null;
  try {
    if (!smtpConnection(url).insecureAuth) return null;
  } catch {
    return null;
  }
  return `the SMTP URL has ${INSECURE_AUTH_PARAM}=true: its user and password are sent without TLS when the server offers no STARTTLS (anyone on the way can read them); remove it unless the relay is on this machine or a private network`;
}

function smtpDeliverer(url: string, options: DeliveryOptions, dkim: Awaited<ReturnType<typeof dkimOptions>>): Deliverer {
  const transporter = nodemailer.createTransport({
    ...smtpConnection(url).options,
    pool: true,
    maxConnections: options.concurrency,
    // Reuse each connection for the whole send; retries (ours) replace nodemailer's requeueing,
    // so every attempt is journaled and backs off the same way.
    maxMessages: Infinity,
    maxRequeues: 0,
    socketTimeout: options.socketTimeoutMs,
    greetingTimeout: Math.min(options.socketTimeoutMs, 30_000),
    ...(dkim ? { dkim } : {}),
  } as never);
  return {
    async deliver(message) {
      // The Message-ID given here spares nodemailer generating one for a raw message it cannot read.
      const info = (await transporter.sendMail({ raw: message.raw, envelope: message.envelope, messageId: message.messageId } as never)) as { response?: string };
      return info.response ?? '250 accepted';
    },
    async close() {
      transporter.close();
    },
  };
}

function outboxDeliverer(dir: string, cwd: string): Deliverer {
  let made: Promise<unknown> | null = null;
  return {
    async deliver(message, target) {
      made ??= mkdir(dir, { recursive: true });
      await made;
      const safe = target.email.toLowerCase().replace(/[^a-z0-9@._+-]/g, '_').slice(0, 120);
      const file = path.join(dir, `${String(target.line).padStart(7, '0')}-${safe}.eml`);
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, message.raw);
      await rename(temp, file);
      return `saved ${displayPath(file, cwd)}`;
    },
    async close() {},
  };
}

export async function createDeliverer(choice: TransportChoice, options: DeliveryOptions, cwd: string): Promise<Deliverer> {
  if (choice.kind === 'outbox') return outboxDeliverer(choice.dir, cwd);
  return smtpDeliverer(choice.url, options, await dkimOptions(options.config));
}
