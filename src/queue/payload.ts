import { createHash, createHmac } from 'node:crypto';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { NewsletterError } from '../errors.js';
import { unsubscribeUrl } from '../render/links.js';
import { slotPersonalizer, type CompiledIssue, type PersonalizedCopy, type SlotTemplate, type ValueClass } from '../render/personalize.js';
import { compileMessageTemplate, type MessageTemplate } from '../send/message-template.js';

/**
 * What the coordinator stores in Redis once per send, so that a worker on another machine builds
 * the same messages as a local send without the project's files: the compiled issue's slot
 * templates (rendered once), the resolved config the message skeleton is made from, and the send
 * rules (retries, rate). The secret that signs unsubscribe links is not in it: each worker has
 * NEWSLETTER_SECRET of its own, and the payload holds a check value so a worker with a different
 * secret refuses instead of sending links that do not verify.
 */

export const PAYLOAD_VERSION = 1;

export interface SendRules {
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Messages per second over all workers; null for no limit. */
  rate: number | null;
}

export interface SendPayload {
  version: typeof PAYLOAD_VERSION;
  issue: { slug: string; subject: string };
  config: ResolvedConfig;
  parts: {
    fields: string[];
    html: SlotTemplate;
    text: SlotTemplate;
    textRaw: SlotTemplate;
    textRobust: boolean[];
    safeClasses: ValueClass[];
  };
  /** Recipient fields carried in each batch row, in this order (`email` first). */
  rowFields: string[];
  secretCheck: string;
  rules: SendRules;
}

/** A row of a batch job: the list line, then the values of `rowFields` (null: not in the row). */
export type BatchRow = [line: number, ...values: (string | null)[]];

export interface BatchData {
  listId: string;
  issueSlug: string;
  /** Digest of the payload the rows were made for. */
  payload: string;
  batch: number;
  rows: BatchRow[];
  /** Copies rendered by the coordinator, by row index: recipients whose values slots cannot carry. */
  copies?: Record<number, PersonalizedCopy>;
}

export function secretCheck(secret: string): string {
  return createHmac('sha256', secret).update('newsletter queue secret check').digest('base64url').slice(0, 16);
}

export function makePayload(compiled: CompiledIssue, config: ResolvedConfig, secret: string, rules: SendRules): { payload: SendPayload; text: string; digest: string } {
  if (compiled.mode !== 'slots') {
    throw new NewsletterError('SEND_CONFIG', `the distributed send needs templates that compile once, and these do not: ${compiled.fallbackReason}`, {
      hint: 'send without --queue (each copy is rendered on its own), or change the template so recipient values are printed as plain text',
    });
  }
  const payload: SendPayload = {
    version: PAYLOAD_VERSION,
    issue: { slug: compiled.issue.slug, subject: compiled.issue.subject },
    config,
    parts: {
      fields: compiled.fields,
      html: compiled.html,
      text: compiled.text,
      textRaw: compiled.textRaw,
      textRobust: compiled.textRobust,
      safeClasses: [...compiled.safeClasses],
    },
    rowFields: [...new Set(['email', 'name', ...compiled.fields])],
    secretCheck: secretCheck(secret),
    rules,
  };
  const text = JSON.stringify(payload);
  return { payload, text, digest: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

export function rowOf(recipient: Recipient, line: number, rowFields: readonly string[]): BatchRow {
  const row: BatchRow = [line];
  for (const field of rowFields) {
    const value = recipient[field];
    row.push(value === undefined ? null : String(value));
  }
  return row;
}

export function recipientOf(row: BatchRow, rowFields: readonly string[]): Recipient {
  const recipient: Recipient = { email: '' };
  for (let i = 0; i < rowFields.length; i++) {
    const value = row[i + 1];
    if (value !== null && value !== undefined) recipient[rowFields[i]!] = value as string;
  }
  return recipient;
}

/** The payload as the worker uses it: the message template, and where coordinator-made copies go. */
export interface RestoredSend {
  payload: SendPayload;
  template: MessageTemplate;
  /** Copies the coordinator rendered, looked up by recipient object while a batch is sent. */
  copies: WeakMap<Recipient, PersonalizedCopy>;
}

export function parsePayload(text: string): SendPayload {
  let payload: SendPayload;
  try {
    payload = JSON.parse(text) as SendPayload;
  } catch (error) {
    throw new NewsletterError('QUEUE_UNAVAILABLE', `the send's payload in Redis is not JSON: ${(error as Error).message}`);
  }
  if (payload.version !== PAYLOAD_VERSION) {
    throw new NewsletterError('QUEUE_UNAVAILABLE', `the send was queued by another version of newsletter (payload version ${String(payload.version)}, this worker reads ${PAYLOAD_VERSION})`, {
      hint: 'run the same version of newsletter on the coordinator and every worker',
    });
  }
  return payload;
}

export async function restoreSend(payload: SendPayload, secret: string): Promise<RestoredSend> {
  if (secretCheck(secret) !== payload.secretCheck) {
    throw new NewsletterError('SEND_CONFIG', `NEWSLETTER_SECRET of this worker differs from the one \`send\` used for ${payload.issue.slug}: its unsubscribe links would not verify`, {
      hint: 'give every worker the same NEWSLETTER_SECRET as the machine that runs `send`',
    });
  }
  const { config, parts } = payload;
  const slug = payload.issue.slug;
  const personalizer = slotPersonalizer({ ...parts, safeClasses: new Set(parts.safeClasses) }, (recipient) => unsubscribeUrl(config, recipient, slug, secret));
  const copies = new WeakMap<Recipient, PersonalizedCopy>();
  // Only the message template reads `issue`, and only its slug and subject.
  const issue = { slug, subject: payload.issue.subject } as unknown as Issue;
  const compiled: CompiledIssue = {
    issue,
    mode: 'slots',
    fallbackReason: null,
    // queueSend refuses embedded images, so the queued issue links every image (no inline parts).
    assets: [],
    fields: parts.fields,
    html: parts.html,
    text: parts.text,
    textRaw: parts.textRaw,
    textRobust: parts.textRobust,
    safeClasses: new Set(parts.safeClasses),
    ...personalizer,
    async personalize(recipient) {
      const copy = copies.get(recipient);
      if (copy) return copy;
      const values = personalizer.values(recipient);
      if (personalizer.slotSafe(values)) return personalizer.fill(values);
      throw new NewsletterError('INTERNAL', `no copy was rendered for ${recipient.email}, whose values the slots cannot carry`);
    },
  };
  return { payload, template: await compileMessageTemplate(compiled, config, secret), copies };
}
