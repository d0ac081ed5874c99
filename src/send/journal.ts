import { z } from 'zod';
import { NewsletterError } from '../errors.js';
import type { Destination, JournalState } from '../store/types.js';
import { AddressSet } from './hash-set.js';

/**
 * The send journal's records and what a rerun makes of them, for every store backend: one JSON
 * record per recipient outcome, written before the worker that produced it takes its next
 * recipient. A rerun skips every address with an `accepted` record for the same kind of
 * destination, so after a crash the only possible duplicates are the messages in flight.
 *
 * Every record is validated. A run record opens each run and says where that run delivered;
 * outcome records carry their destination kind too (journals written before that field existed
 * take it from the run record above them, so an old outbox run never counts for a real send).
 */

export type OutcomeStatus = 'accepted' | 'failed-permanent' | 'failed-temporary' | 'skipped-invalid' | 'skipped-duplicate' | 'skipped-suppressed';

export interface OutcomeRecord {
  status: OutcomeStatus;
  email: string;
  /** Line of the list the recipient came from. */
  line: number;
  at: string;
  /** Where the message went (absent in journals from before destinations were recorded). */
  destination?: Destination['kind'] | undefined;
  messageId?: string | undefined;
  /** The server's reply (or the outbox file written). */
  response?: string | undefined;
  reason?: string | undefined;
  attempts?: number | undefined;
}

export interface RunRecord {
  status: 'run';
  at: string;
  pid: number;
  transport: string;
  list: string | null;
  destination?: Destination | undefined;
}

export type JournalRecord = OutcomeRecord | RunRecord;

const destinationKind = z.enum(['smtp', 'outbox']);
const text = z.string().max(100_000);

const outcomeSchema = z.object({
  status: z.enum(['accepted', 'failed-permanent', 'failed-temporary', 'skipped-invalid', 'skipped-duplicate', 'skipped-suppressed']),
  email: z.string().max(1000),
  line: z.number().int().nonnegative(),
  at: text,
  destination: destinationKind.optional(),
  messageId: text.optional(),
  response: text.optional(),
  reason: text.optional(),
  attempts: z.number().int().nonnegative().optional(),
});

const runSchema = z.object({
  status: z.literal('run'),
  at: text,
  pid: z.number().int(),
  transport: text,
  list: text.nullable(),
  destination: z.object({ kind: destinationKind, id: text }).optional(),
});


export const REPAIR_HINT = 'run `newsletter send ISSUE --repair-journal` to move the bad lines aside (into a file next to the journal), then send again';

/** Parses one journal line; throws JOURNAL_INVALID naming the line. */
export function parseJournalLine(line: string, lineNumber: number, display: string): JournalRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new NewsletterError('JOURNAL_INVALID', `the send journal has a line that is not JSON: \`${line.slice(0, 80)}\``, { file: display, line: lineNumber, hint: REPAIR_HINT });
  }
  // Chosen by status rather than a union, so the error names the field that is wrong.
  const schema = value && typeof value === 'object' && (value as { status?: unknown }).status === 'run' ? runSchema : outcomeSchema;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `\`${issue.path.join('.')}\`: ` : '';
    throw new NewsletterError('JOURNAL_INVALID', `the send journal has a record of the wrong shape: ${where}${issue?.message ?? 'invalid'}`, { file: display, line: lineNumber, hint: REPAIR_HINT });
  }
  return parsed.data as JournalRecord;
}

/** The destination kind a legacy run record (no `destination`) delivered to, from its transport. */
function legacyKind(record: RunRecord): Destination['kind'] {
  return /^outbox\b/.test(record.transport) ? 'outbox' : 'smtp';
}

/** Folds records, in journal order, into the state a run to `destination` resumes from. */
export class JournalStateBuilder {
  private readonly accepted = new AddressSet();
  private outboxCopies = 0;
  private current: Destination['kind'] = 'smtp';

  constructor(private readonly destination: Destination) {}

  add(record: JournalRecord): void {
    if (record.status === 'run') {
      this.current = record.destination?.kind ?? legacyKind(record);
      return;
    }
    if (record.status !== 'accepted') return;
    const kind = record.destination ?? this.current;
    if (kind === 'outbox') this.outboxCopies++;
    if (kind === this.destination.kind) this.accepted.add(record.email);
  }

  state(tornTail: boolean): JournalState {
    return { accepted: this.accepted, outboxCopies: this.outboxCopies, tornTail };
  }
}
