import { z } from 'zod';
import { issueSlugProblem } from '../content/slug.js';
import { DEFAULTS } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import type { SendRequest } from './send-issue.js';

/**
 * `sendIssue`'s options, validated at the library's edge like the config is: a library caller
 * gets a USAGE error naming the option and the value, never a merge of raw values with DEFAULTS.
 */

const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'expected a function');
const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

const transportSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('smtp'), url: z.string().min(1), display: z.string() }),
  z.object({ kind: z.literal('outbox'), dir: z.string().min(1), display: z.string() }),
]);

const requestSchema = z.object({
  project: z.object({ config: z.object({ paths: z.object({ root: z.string() }).loose() }).loose(), templates: z.object({}).loose() }).loose(),
  issueSlug: z.string().refine((slug) => issueSlugProblem(slug) === null, { message: 'not an issue slug (a plain file name under content/issues/ without `.md`)' }),
  list: optional(z.string().min(1)),
  subscribers: optional(z.boolean()),
  testTo: optional(z.string()),
  transport: transportSchema,
  secret: z.string().min(1),
  dryRun: optional(z.boolean()),
  restart: optional(z.boolean()),
  concurrency: optional(z.number().int().min(1).max(1000)),
  rate: optional(z.number().positive().finite()),
  retries: optional(z.number().int().min(0).max(100)),
  retryDelayMs: optional(z.number().int().min(0).max(3_600_000)),
  cwd: z.string().min(1),
  onEvent: optional(fn),
  confirm: optional(fn),
  signal: optional(z.instanceof(AbortSignal)),
  journalSync: optional(z.boolean()),
  store: optional(z.object({ kind: z.enum(['files', 'redis']), journal: fn, lock: fn }).loose()),
});

/** The request with every default filled in. */
export interface SendSettings {
  testTo: string | null;
  dryRun: boolean;
  restart: boolean;
  concurrency: number;
  rate: number | null;
  retries: number;
  retryDelayMs: number;
  journalSync: boolean;
}

export function validateSendRequest(request: SendRequest): SendSettings {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.') || 'request';
      const value = issue.path.reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[part as PropertyKey] : undefined), request);
      const shown = typeof value === 'function' ? 'a function' : JSON.stringify(value) ?? String(value);
      return `\`${key}\`: ${issue.message} (got \`${shown?.slice(0, 60)}\`)`;
    });
    throw new NewsletterError('USAGE', `sendIssue: ${problems.join('; ')}`);
  }
  return {
    testTo: request.testTo?.trim() || null,
    dryRun: request.dryRun === true,
    restart: request.restart === true,
    concurrency: request.concurrency ?? DEFAULTS.send.concurrency,
    rate: request.rate ?? null,
    retries: request.retries ?? DEFAULTS.send.retries,
    retryDelayMs: request.retryDelayMs ?? DEFAULTS.send.retryDelayMs,
    journalSync: request.journalSync ?? true,
  };
}
