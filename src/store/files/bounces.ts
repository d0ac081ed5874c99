import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import type { JournalRecord } from '../../send/journal.js';
import type { BounceStore, BounceTallies, JournalKey, SentIssue, TallyKind } from '../types.js';
import { journalLines } from './journal.js';

/**
 * The files backend of the bounce state, `.newsletter/bounces/events.jsonl` next to the send
 * journals: soft bounces, deliveries, tallies and once-only claims, one JSON line each.
 *
 * - Writes are group-committed: the lines of concurrent calls go out in one write(2) on an
 *   O_APPEND descriptor (lines of several processes never interleave) and one fdatasync, and
 *   each call resolves once its line is durable (a `serve` under load or a mailbox read with
 *   many reports in flight pays one sync per batch, not per event).
 * - Every process folds the file into memory, reading only what was appended since its last
 *   look; an answer is read after the caller's own line was written, so it includes every line
 *   written before it, by any process.
 * - A claim is a line with a random nonce: the first claim line of an id in the file (not yet
 *   expired) wins, and the file's order is the same for every process, so of several processes
 *   claiming one report at once exactly one is told it was first.
 */

type EventLine =
  | { t: 'soft'; email: string; issue: string; at: string }
  | { t: 'delivered'; email: string; at: string }
  | { t: 'tally'; list: string; issue: string; kind: TallyKind; email: string; at: string }
  | { t: 'claim'; id: string; nonce: string; at: number; ttl: number };

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class FileBounceStore implements BounceStore {
  private readonly events: string;
  private offset = 0;
  private rest = '';
  private readonly soft = new Map<string, Set<string>>();
  private readonly tallySets = new Map<string, Record<TallyKind, Set<string>>>();
  private readonly claimed = new Map<string, { nonce: string; until: number }>();
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private handle: FileHandle | null = null;
  /** A read of the file not started yet: callers whose lines are written share it. */
  private queuedRead: Promise<void> | null = null;
  private lastRead: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly journalDir: string,
    private readonly journalFile: (key: JournalKey) => string,
    private readonly display: string = dir,
  ) {
    this.events = path.join(dir, 'events.jsonl');
  }

  private fail(action: string, error: unknown): NewsletterError {
    if (error instanceof NewsletterError) return error;
    return new NewsletterError('OUTPUT_WRITE', `cannot ${action} the bounce state: ${(error as Error).message}`, { file: this.display, cause: error });
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const key = createHash('sha256').update(id).digest('hex').slice(0, 32);
    const nonce = randomBytes(8).toString('hex');
    await this.append({ t: 'claim', id: key, nonce, at: Date.now(), ttl: ttlMs });
    await this.refresh();
    return this.claimed.get(key)?.nonce === nonce;
  }

  async softBounce(email: string, issue: string): Promise<string[]> {
    const address = normalizeEmail(email);
    await this.append({ t: 'soft', email: address, issue, at: new Date().toISOString() });
    await this.refresh();
    return [...(this.soft.get(address) ?? [])];
  }

  async delivered(email: string): Promise<void> {
    await this.append({ t: 'delivered', email: normalizeEmail(email), at: new Date().toISOString() });
  }

  async tally(key: JournalKey, kind: TallyKind, email: string): Promise<void> {
    const address = normalizeEmail(email);
    // Counted already, as this process last read the file: nothing to write. Written twice
    // (another process, or a read not yet made), it still counts once: the fold keeps sets.
    if (this.tallySets.get(tallyKey(key))?.[kind].has(address)) return;
    await this.append({ t: 'tally', list: key.listId, issue: key.issueSlug, kind, email: address, at: new Date().toISOString() });
  }

  async tallies(key: JournalKey): Promise<BounceTallies> {
    await this.refresh();
    const sets = this.tallySets.get(tallyKey(key));
    return { hard: sets?.hard.size ?? 0, soft: sets?.soft.size ?? 0, complaint: sets?.complaint.size ?? 0 };
  }

  async close(): Promise<void> {
    await this.flushing;
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  /** Resolves once the line is written and synced, with the lines of every call made meanwhile. */
  private append(event: EventLine): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ line: `${JSON.stringify(event)}\n`, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (!this.handle) {
          await mkdir(this.dir, { recursive: true });
          this.handle = await open(this.events, 'a');
        }
        const bytes = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
        const { bytesWritten } = await this.handle.write(bytes, 0, bytes.length);
        if (bytesWritten !== bytes.length) throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes; is the disk full?)`);
        await this.handle.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        const failure = this.fail('write', error);
        for (const p of batch) p.reject(failure);
      }
    }
    this.flushing = null;
  }

  /**
   * Brings the fold up to the end of the file. A read already running may have started before
   * the caller's line was written, so the caller waits for the next one, which every caller
   * arriving before it starts shares.
   */
  private refresh(): Promise<void> {
    if (this.queuedRead) return this.queuedRead;
    const read = this.lastRead.then(() => {
      this.queuedRead = null;
      return this.catchUp();
    });
    this.queuedRead = read;
    this.lastRead = read.catch(() => undefined);
    return read;
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
    } else if (event.t === 'claim') {
      const held = this.claimed.get(event.id);
      // The first claim wins until it expires; a claim made after that takes over.
      if (!held || held.until < event.at) this.claimed.set(event.id, { nonce: event.nonce, until: event.at + event.ttl });
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
