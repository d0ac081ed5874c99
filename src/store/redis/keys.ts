import { createHash } from 'node:crypto';
import type { JournalKey } from '../types.js';

/**
 * Every key the Redis store and the queue use, in one place. All start with the prefix (default
 * `newsletter`), so one Redis can serve several newsletters or be shared with other programs; a
 * send's keys share `{prefix}:send:{list}:{issue}` and can be listed or removed together.
 */

export const DEFAULT_PREFIX = 'newsletter';

export interface SendKeys {
  /** Short, stable id of the send (list id + issue) for job ids, which may not contain `:`. */
  id: string;
  accepted(kind: 'smtp' | 'outbox'): string;
  records: string;
  counts: string;
  lock: string;
  /** The holder of the lock, without expiry: still there at acquire time means it died holding it. */
  lastHolder: string;
  payload: string;
  /** Plan and state of the current run: total, started, streamed, finished. */
  run: string;
  /** Batch job ids queued and not finished. */
  pending: string;
  /** Per-worker counters: `NAME|sent`, `NAME|failed`, `NAME|batches`, `NAME|seen`. */
  workers: string;
  /** For `--rate`: the earliest time (ms) the next batch may start. */
  rateSlot: string;
}

export function listIdOf(key: JournalKey): string {
  return key.listId || '-';
}

export function sendKeys(prefix: string, key: JournalKey): SendKeys {
  const base = `${prefix}:send:${listIdOf(key)}:${key.issueSlug}`;
  const digest = createHash('sha256').update(`${listIdOf(key)}\n${key.issueSlug}`).digest('hex').slice(0, 8);
  return {
    id: `${key.issueSlug.replace(/[^A-Za-z0-9_-]/g, '_')}-${digest}`,
    accepted: (kind) => `${base}:accepted:${kind}`,
    records: `${base}:records`,
    counts: `${base}:counts`,
    lock: `${base}:lock`,
    lastHolder: `${base}:lock-holder`,
    payload: `${base}:payload`,
    run: `${base}:run`,
    pending: `${base}:pending`,
    workers: `${base}:workers`,
    rateSlot: `${base}:rate-slot`,
  };
}

export interface SuppressionKeys {
  /** The suppressed addresses. */
  set: string;
  /** address → its entry (JSON). */
  why: string;
  /** address → when it was last removed (a resubscribe), kept so an older line cannot undo it. */
  removed: string;
  /** address → how many changes of it suppressions.txt held at the last import (shared-store.ts). */
  fileChanges: string;
}

export function suppressionKeys(prefix: string): SuppressionKeys {
  return { set: `${prefix}:suppressions`, why: `${prefix}:suppressions:why`, removed: `${prefix}:suppressions:removed`, fileChanges: `${prefix}:suppressions:file-changes` };
}
