import type { ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { PREVIEW_SECRET } from '../render/links.js';
import { listIdFor } from '../render/list-id.js';
import { openStore } from '../store/index.js';
import { maskImapUrl, readBounceMailbox, type MailboxHooks, type MailboxSummary } from './mailbox.js';

/**
 * `newsletter bounces` as a library call: the mailbox from the request, the config or
 * BOUNCES_IMAP_URL (in that order); the store the sends use (files, or Redis with `storeUrl`).
 */

export interface BouncesRequest {
  config: ResolvedConfig;
  /** `--imap`: wins over `bounces.imap` and BOUNCES_IMAP_URL. */
  imap?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** `--store redis://…`: the shared store. */
  storeUrl?: string | null | undefined;
  hooks?: MailboxHooks | undefined;
}

export interface BouncesResult {
  mailbox: string;
  /** False when NEWSLETTER_SECRET is not set: VERP tags could not be read. */
  verp: boolean;
  summary: MailboxSummary;
}

export function imapUrlOf(request: Pick<BouncesRequest, 'imap' | 'config' | 'env'>): string {
  const url = request.imap ?? request.config.bounces.imap ?? request.env.BOUNCES_IMAP_URL;
  if (!url) {
    throw new NewsletterError('USAGE', 'no bounce mailbox to read: pass --imap imaps://user:pass@host/INBOX, set `bounces.imap` in the config or BOUNCES_IMAP_URL', {
      hint: 'the mailbox that receives mail for `bounces.address` (docs/bounces.md)',
    });
  }
  return url;
}

export async function processBounces(request: BouncesRequest): Promise<BouncesResult> {
  const { config } = request;
  const url = imapUrlOf(request);
  const secret = request.env.NEWSLETTER_SECRET && request.env.NEWSLETTER_SECRET !== PREVIEW_SECRET ? request.env.NEWSLETTER_SECRET : null;
  const store = await openStore(config, { cwd: request.cwd, url: request.storeUrl ?? undefined });
  try {
    const summary = await readBounceMailbox(
      { url, processed: config.bounces.processed, folder: config.bounces.folder, keyword: DEFAULTS.bounces.keyword, claimTtlMs: DEFAULTS.bounces.claimTtlMs },
      { store, listId: listIdFor(config), secret, verpBase: config.bounces.address, rules: { softBounceLimit: config.bounces.softBounceLimit } },
      request.hooks,
    );
    return { mailbox: maskImapUrl(url), verp: secret !== null && config.bounces.address !== null, summary };
  } finally {
    await store.close();
  }
}
