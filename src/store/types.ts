import type { AddressSet } from '../send/hash-set.js';
import type { JournalRecord } from '../send/journal.js';


/**
 * The contract of the state that outlives a run: suppressions, send journals and send locks.
 * `send`, `serve`, the preview and `worker` use only this interface; the backends are
 * `store/files/` (the default: `suppressions.txt`, `.newsletter/sends/`) and `store/redis/`
 * (`--store`/`--queue redis://…`). Both must pass the same contract tests
 * (tests/store-contract.test.ts), so a behaviour that one backend has, the other has too.
 *
 * Addresses are compared normalized (`normalizeEmail`): every method takes any spelling.
 */

/** The words a suppression's reason is one of (store/suppression-entry.ts normalizes older ones). */
export type SuppressionReason = 'unsubscribed' | 'bounced' | 'complained' | 'manual';

export interface SuppressionEntry {
  /** Why: `unsubscribed`, `bounced`, `complained`, `manual` (other words are kept as given). */
  reason: SuppressionReason | (string & {});
  /** Who recorded it: `serve`, `smtp-5xx`, `imap`, `ses`, `suppressions.txt`, … */
  source: string;
  /** The issue slug it came from (a bounce or complaint about that issue's message). */
  issue?: string | undefined;
  /** An enhanced status code, e.g. `5.1.1`. */
  status?: string | undefined;
  /** The server's words, e.g. `550 5.1.1 user unknown`. */
  diagnostic?: string | undefined;
  /** A note written by hand (`a@x # asked by phone`). */
  note?: string | undefined;
  /** ISO time it was recorded; set by the store when absent. */
  at?: string | undefined;
}

/** A line of a hand-edited suppression list that suppresses nothing: `send` stops on it. */
export interface SuppressionProblem {
  /** The file, as shown. */
  file: string;
  line: number;
  /** Why the line suppresses nothing, quoting it. */
  message: string;
}

export interface SuppressionStore {
  /**
   * Records the address. Durable before it resolves (fsync for files, the AOF for Redis), so an
   * acknowledged unsubscribe survives a kill -9. Idempotent: false when it was already there
   * (the first entry is kept). The entry is normalized (suppression-entry.ts).
   */
  add(email: string, entry: SuppressionEntry): Promise<boolean>;
  /** Removes it (resubscribe). Durable before it resolves. False when it was not there. */
  remove(email: string, source?: string): Promise<boolean>;
  has(email: string): Promise<boolean>;
  /** The address's entry while it is suppressed, else null. */
  get(email: string): Promise<SuppressionEntry | null>;
  /** Every suppressed address for a send's filter: flat memory, one pass. */
  load(): Promise<AddressSet>;
  /** Every suppressed address as stored (normalized), in no particular order. */
  iterate(): AsyncIterable<string>;
  /** Every suppressed address with its entry (for `newsletter suppressions`). */
  entries(): AsyncIterable<{ email: string; entry: SuppressionEntry }>;
  /** Lines of suppressions.txt that suppress nothing (for Redis: those of the file it imported). */
  problems(): Promise<SuppressionProblem[]>;
  /**
   * Answers within about a second whether the store can record an unsubscribe now (`serve`'s
   * /healthz); rejects with the reason when it cannot.
   */
  ping?(): Promise<void>;
  /**
   * GDPR erasure: forgets every record naming the address and keeps it suppressed by its one-way
   * hash (store/erased-address.ts). `has` and `load` answer for it as before. Optional so other
   * implementations can land before it; `subscribers remove --erase` refuses a store without it.
   */
  erase?(email: string): Promise<void>;
  /**
   * Why the address is suppressed (`unsubscribed`, `bounced: 550 …`, `complained`, …): '' when it
   * is but no reason was written (a line added by hand, an erased address), null when it is not.
   * A sign-up may lift an unsubscribe only (signup/sign-up.ts). Optional, as `erase`.
   */
  reason?(email: string): Promise<string | null>;
}

/**
 * Where a delivery went. A real send counts only earlier deliveries to the same kind of
 * destination: an outbox run or a `--test-to` never makes a real send skip anyone.
 */
export interface Destination {
  kind: 'smtp' | 'outbox';
  /** `smtp://user@host:port` (never a password) or the outbox folder. */
  id: string;
}

export interface JournalState {
  /** Addresses accepted by a destination of the asked kind. */
  accepted: AddressSet;
  /** Messages written to an outbox by earlier runs (shown in a real send's plan). */
  outboxCopies: number;
  /** A torn last record (a crash mid-write) was found and ignored. */
  tornTail: boolean;
}

export interface IssueJournal {
  /** Where it is, as shown to the user (files: the journal's path). */
  readonly location?: string;
  /** The state for a run that delivers to `destination`; validates every record. */
  read(destination: Destination): Promise<JournalState>;
  /** Resolves once the record is stored; rejects with OUTPUT_WRITE when it cannot be. */
  append(record: JournalRecord): Promise<void>;
  close(): Promise<void>;
  /**
   * `send --restart`: the send starts over; the old journal is kept as a backup (its name, or
   * null when there was none). Optional so a backend can land before it; `send` says so.
   */
  restart?(): Promise<string | null>;
  /** `send --repair-journal`: moves records that do not validate aside, keeps the rest. */
  repair?(): Promise<JournalRepair>;
}

export interface JournalRepair {
  kept: number;
  moved: number;
  /** Where the bad lines went (files: a file next to the journal), null when none were bad. */
  aside: string | null;
}

export interface StoreLock {
  /** Set when a stale lock (its holder is gone) was taken over: who held it. */
  takenOverFrom: string | null;
  release(): Promise<void>;
}

export interface Store {
  readonly kind: 'files' | 'redis';
  readonly suppressions: SuppressionStore;
  /** What bounces and complaints leave besides suppressions. */
  readonly bounces: BounceStore;
  /** Confirmed subscribers with their proof of consent (store/files/subscribers.ts, store/redis/subscribers.ts). */
  readonly subscribers: SubscriberStore;
  /** Counters of `serve`'s sign-up limits: per process for files, shared through Redis. */
  readonly limits: RateLimiter;
  /** The journal of one send: `key` names the newsletter (list id) and the issue slug. */
  journal(key: JournalKey): Promise<IssueJournal>;
  /**
   * GDPR erasure: the subscriber's records, its suppression records and its send records all go;
   * the address stays suppressed by its one-way hash. True when a subscriber record was found.
   */
  erase(email: string): Promise<boolean>;
  /** One send of an issue at a time; throws SEND_LOCKED when another holds it. */
  lock(key: JournalKey): Promise<StoreLock>;
  close(): Promise<void>;
}

export interface JournalKey {
  listId: string;
  issueSlug: string;
}

/**
 * The state bounces and complaints leave besides suppressions (docs/bounces.md), on both
 * backends (files: `.newsletter/bounces/`; Redis: `{prefix}:bounces:*`), several processes safe
 * (`serve` workers answering webhooks, `bounces` reading a mailbox, at once):
 *
 * - once-only marks, so a report read twice (a rerun, a webhook delivered again) counts once;
 * - per address, the issues that soft-bounced since its last delivery (3 suppress, by default);
 * - per issue, the addresses that hard-bounced, soft-bounced and complained (`status`);
 * - read from the send journals: the issues sent and their accepted addresses, which VERP tags
 *   are resolved against.
 */

export type TallyKind = 'hard' | 'soft' | 'complaint';

export type BounceTallies = Record<TallyKind, number>;

export interface SentIssue {
  slug: string;
  /** ISO time of the first run record; null when the journal has none. */
  firstSentAt: string | null;
}

export interface BounceStore {
  /** True the first time `id` is claimed, false while the claim lasts (`ttlMs`). Durable before it resolves. */
  claim(id: string, ttlMs: number): Promise<boolean>;
  /** A soft bounce of `email` in `issue`: the issues that soft-bounced since its last delivery, this one included. */
  softBounce(email: string, issue: string): Promise<string[]>;
  /** A delivery to `email` (a delivery report or event): the soft bounces before it no longer count. */
  delivered(email: string): Promise<void>;
  /** Counts `email` for `status` under `kind` in the issue (each address once per kind). */
  tally(key: JournalKey, kind: TallyKind, email: string): Promise<void>;
  tallies(key: JournalKey): Promise<BounceTallies>;
  /** The issues of `listId` with a send journal, and when each was first sent (its first run record). */
  sentIssues(listId: string): Promise<SentIssue[]>;
  /** The addresses an issue's sends accepted (real sends, not outbox copies). */
  sentTo(key: JournalKey): AsyncIterable<string>;
}

/**
 * The proof of one consent: who, what they gave, when they signed up and confirmed, where and
 * what they were shown. `source`: `form` (serve), `cli`, `import:mailchimp`, `import:substack`,
 * `import:buttondown`, `import:csv`.
 */
export interface ConsentRecord {
  email: string;
  /** The optional fields given with the address (config `signup.fields`, or an import's columns). */
  fields: Record<string, string>;
  /** ISO times; null when an import did not say. */
  signedUpAt: string | null;
  confirmedAt: string | null;
  /** The page the form was on. */
  page: string | null;
  /** The consent text shown next to the button. */
  consentText: string | null;
  /** The client's address, truncated to its /24 (IPv4) or /48 (IPv6) unless `signup.fullIp`. */
  ip: string | null;
  source: string;
}

export interface Subscriber extends ConsentRecord {
  /** Earlier consents of the same address, oldest first: a re-subscribe keeps them. */
  history: Omit<ConsentRecord, 'email'>[];
}

export interface SubscriberStore {
  /**
   * Records a consent, durably: a new subscriber (`added`), or a new consent of one already
   * there (`renewed`: the earlier one moves to `history`).
   */
  put(record: ConsentRecord): Promise<'added' | 'renewed'>;
  /** Imports: adds those not there yet, leaves the others as they are; how many were added. */
  addMissing(records: AsyncIterable<ConsentRecord[]>): Promise<{ added: number; present: number }>;
  get(email: string): Promise<Subscriber | null>;
  /** Removes the subscriber (its consent stays in the history of the files until an erasure). */
  remove(email: string): Promise<boolean>;
  /** Forgets every record of the address, its history included (GDPR erasure). */
  erase(email: string): Promise<boolean>;
  /** Every subscriber once, in no particular order. */
  iterate(): AsyncIterable<Subscriber>;
}

export interface RateLimiter {
  /**
   * Counts one event under `key` in a fixed window of `windowMs`; true when it is within `max`
   * (the event may go ahead), false when the window already holds `max`.
   */
  take(key: string, max: number, windowMs: number): Promise<boolean>;
  /** Gives back one event taken under `key` (what it allowed did not happen), if its window is still open. */
  give(key: string): Promise<void>;
}
