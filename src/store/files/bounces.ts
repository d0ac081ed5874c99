import { createHash } from 'node:crypto';
import { mkdir, open, readdir, stat, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import type { JournalRecord } from '../../send/journal.js';
import type { BounceStore, BounceTallies, JournalKey, SentIssue, TallyKind } from '../types.js';
import { journalLines } from './journal.js';

/**
 * The files backend of the bounce state, in `.newsletter/bounces/` next to the send journals:
 *
 * - `events.jsonl`: soft bounces, deliveries and tallies, one JSON line each, appended with one
 *   write(2) on an O_APPEND descriptor (lines of several processes never interleave) and
 *   fdatasync'ed before the promise resolves. Every process folds the file into its memory,
 *   reading only what others appended since its last look; a count is read after the append, so
 *   it includes every line written before it.
 * - `claims/`: one empty file per once-only mark, created with O_EXCL: of several processes
 *   claiming the same report, exactly one creates it. Its mtime is the claim's time (for the TTL).
 */

type EventLine =
  | { t: 'soft'; email: string; issue: string; at: string }
  | { t: 'delivered'; email: string; at: string }
  | { t: 'tally'; list: string; issue: string; kind: TallyKind; email: string; at: string };

export class FileBounceStore implements BounceStore {
  private readonly events: string;
  private readonly claims: string;
  private offset = 0;
  private rest = '';
  private readonly soft = new Map<string, Set<string>>();
  private readonly tallySets = new Map<string, Record<TallyKind, Set<string>>>();

  constructor(
    private readonly dir: string,
    private readonly journalDir: string,
    private readonly journalFile: (key: JournalKey) => string,
    private readonly display: string = dir,
  ) {
    this.events = path.join(dir, 'events.jsonl');
    this.claims = path.join(dir, 'claims');
  }

  private fail(action: string, error: unknown): NewsletterError {
    return new NewsletterError('OUTPUT_WRITE', `cannot ${action} the bounce state: ${(error as Error).message}`, { file: this.display, cause: error });
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const digest = createHash('sha256').update(id).digest('hex');
    const folder = path.join(this.claims, digest.slice(0, 2));
    const file = path.join(folder, digest.slice(2, 40));
    try {
      await mkdir(folder, { recursive: true });
      const handle = await open(file, 'wx');
      await handle.sync();
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.fail('record a claim in', error);
    }
    // Expired: taken again (two processes may both see it expired; a webhook's replay window is far shorter than any TTL).
    const info = await stat(file);
    if (Date.now() - info.mtimeMs <= ttlMs) return false;
    const now = new Date();
    await utimes(file, now, now);
    return true;
  }

  softBounce(email: string, issue: string): Promise<string[]> {
    const address = normalizeEmail(email);
    return this.serial(async () => {
      await this.append({ t: 'soft', email: address, issue, at: new Date().toISOString() });
      await this.catchUp();
      return [...(this.soft.get(address) ?? [])];
    });
  }

  delivered(email: string): Promise<void> {
    return this.serial(() => this.append({ t: 'delivered', email: normalizeEmail(email), at: new Date().toISOString() }));
  }

  tally(key: JournalKey, kind: TallyKind, email: string): Promise<void> {
    const address = normalizeEmail(email);
    return this.serial(async () => {
      await this.catchUp();
      // Another process may count it at the same moment: the fold keeps sets, so twice is once.
      if (this.tallySets.get(tallyKey(key))?.[kind].has(address)) return;
      await this.append({ t: 'tally', list: key.listId, issue: key.issueSlug, kind, email: address, at: new Date().toISOString() });
    });
  }

  tallies(key: JournalKey): Promise<BounceTallies> {
    return this.serial(async () => {
      await this.catchUp();
      const sets = this.tallySets.get(tallyKey(key));
      return { hard: sets?.hard.size ?? 0, soft: sets?.soft.size ?? 0, complaint: sets?.complaint.size ?? 0 };
    });
  }

  async sentIssues(): Promise<SentIssue[]> {
    let names: string[];
    try {
      names = await readdir(this.journalDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.fail('read the send journals for', error);
    }
    // The folder belongs to one newsletter (store/files/index.ts): every journal in it is its.
    const issues: SentIssue[] = [];
    for (const name of names.filter((n) => n.endsWith('.jsonl'))) {
      issues.push({ slug: decodeURIComponent(name.slice(0, -'.jsonl'.length)), firstSentAt: await firstRecordTime(path.join(this.journalDir, name)) });
    }
    return issues;
  }

  async *sentTo(key: JournalKey): AsyncIterable<string> {
    const file = this.journalFile(key);
    let current: 'smtp' | 'outbox' = 'smtp';
    for await (const line of journalLines(file, file)) {
      let record: JournalRecord;
      try {
        record = JSON.parse(line.text) as JournalRecord;
      } catch {
        continue;
      }
      if (record.status === 'run') current = record.destination?.kind ?? (/^outbox\b/.test(record.transport) ? 'outbox' : 'smtp');
      else if (record.status === 'accepted' && (record.destination ?? current) === 'smtp' && typeof record.email === 'string') yield record.email;
    }
  }

  /** Operations one at a time in this process: a fold is never interleaved with another. */
  private queue: Promise<unknown> = Promise.resolve();

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One line, one write(2) on O_APPEND, synced before it resolves. */
  private async append(event: EventLine): Promise<void> {
    const bytes = Buffer.from(`${JSON.stringify(event)}\n`, 'utf8');
    let handle: FileHandle | null = null;
    try {
      await mkdir(this.dir, { recursive: true });
      handle = await open(this.events, 'a');
      await handle.write(bytes);
      await handle.datasync();
    } catch (error) {
      throw this.fail('write', error);
    } finally {
      await handle?.close();
    }
  }

  /** Reads what was appended since the last look (by any process) and folds it in. */
  private async catchUp(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.events, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.fail('read', error);
    }
    try {
      const { size } = await handle.stat();
      if (size < this.offset) throw new Error('the file is shorter than when it was read: it was edited or replaced');
      while (this.offset < size) {
        const chunk = Buffer.allocUnsafe(Math.min(size - this.offset, 1 << 20));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.offset);
        if (bytesRead <= 0) break;
        this.offset += bytesRead;
        const lines = (this.rest + chunk.toString('latin1', 0, bytesRead)).split('\n');
        this.rest = lines.pop()!;
        for (const line of lines) this.fold(Buffer.from(line, 'latin1').toString('utf8'));
      }
    } catch (error) {
      throw this.fail('read', error);
    } finally {
      await handle.close();
    }
  }

  private fold(line: string): void {
    let event: EventLine;
    try {
      event = JSON.parse(line) as EventLine;
    } catch {
      return;
    }
    if (event.t === 'soft') {
      const set = this.soft.get(event.email) ?? new Set();
      set.add(event.issue);
      this.soft.set(event.email, set);
    } else if (event.t === 'delivered') {
      this.soft.delete(event.email);
    } else if (event.t === 'tally') {
      const key = tallyKey({ listId: event.list, issueSlug: event.issue });
      let sets = this.tallySets.get(key);
      if (!sets) {
        sets = { hard: new Set(), soft: new Set(), complaint: new Set() };
        this.tallySets.set(key, sets);
      }
      sets[event.kind]?.add(event.email);
    }
  }
}

/** The `at` of a journal's first record (its first run's), read from the start of the file only. */
async function firstRecordTime(file: string): Promise<string | null> {
  for await (const line of journalLines(file, file)) {
    try {
      const record = JSON.parse(line.text) as { at?: unknown };
      return typeof record.at === 'string' ? record.at : null;
    } catch {
      return null;
    }
  }
  return null;
}

function tallyKey(key: JournalKey): string {
  return `${key.listId}\0${key.issueSlug}`;
}
