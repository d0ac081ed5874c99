import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type { ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import type { OutgoingMessage } from './message-template.js';

/**
 * Where messages go: an SMTP server through nodemailer's pooled transport (the finished message
 * handed over as `raw`, so nodemailer only adds DKIM and does the SMTP), or, with no SMTP URL
 * configured, the outbox: one .eml file per recipient, so the whole flow runs on a fresh machine.
 */

export type TransportChoice = { kind: 'smtp'; url: string; display: string } | { kind: 'outbox'; dir: string; display: string };

/** The URL with its password replaced by `****`: the form that is printed and journaled. */
export function maskSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@');
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
  const folder = path.join(dir, issueSlug);
  return { kind: 'outbox', dir: folder, display: `outbox (${path.relative(cwd, folder) || folder}/)` };
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

async function dkimOptions(config: ResolvedConfig) {
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

function smtpDeliverer(url: string, options: DeliveryOptions, dkim: Awaited<ReturnType<typeof dkimOptions>>): Deliverer {
  const transporter = nodemailer.createTransport({
    ...parseConnectionUrl(url),
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
      return `saved ${path.relative(cwd, file) || file}`;
    },
    async close() {},
  };
}

export async function createDeliverer(choice: TransportChoice, options: DeliveryOptions, cwd: string): Promise<Deliverer> {
  if (choice.kind === 'outbox') return outboxDeliverer(choice.dir, cwd);
  return smtpDeliverer(choice.url, options, await dkimOptions(options.config));
}
