import { createReadStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { NewsletterError } from '../errors.js';
import { AddressSet } from './hash-set.js';

/**
 * The send journal, `.newsletter/sends/<issue>.jsonl`: append-only, one JSON record per recipient
 * outcome, written to the file before the worker that produced it takes its next recipient. A
 * rerun skips every address with an `accepted` record, so after a crash (kill -9 included: a
 * completed write survives the process) the only possible duplicates are the messages that were in
 * flight, at most one per worker. Records of concurrent workers go out in one write.
 *
 * fdatasync runs in the background, at most every SYNC_INTERVAL_MS and at close: waiting for it
 * after every message made each connection idle for the disk's sync latency (a third of the
 * throughput here). The cost: after a power loss (not a process crash) the outcomes of the last
 * SYNC_INTERVAL_MS may be missing, and those recipients would get the issue again.
 */

const SYNC_INTERVAL_MS = 200;

export type OutcomeStatus = 'accepted' | 'failed-permanent' | 'failed-temporary' | 'skipped-invalid' | 'skipped-duplicate' | 'skipped-suppressed';

export interface OutcomeRecord {
  status: OutcomeStatus;
  email: string;
  /** Line of the list the recipient came from. */
  line: number;
  at: string;
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
}

export type JournalRecord = OutcomeRecord | RunRecord;

export interface JournalState {
  accepted: AddressSet;
  /** A torn last line (a crash mid-write) was found and ignored. */
  tornTail: boolean;
}

export async function readJournal(file: string): Promise<JournalState> {
  const accepted = new AddressSet();
  let tornTail = false;
  let stream;
  try {
    stream = createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => stream!.once('open', () => resolve()).once('error', reject));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { accepted, tornTail };
    throw new NewsletterError('OUTPUT_WRITE', `cannot read the send journal: ${(error as Error).message}`, { file });
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!line) continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      tornTail = true;
      continue;
    }
    tornTail = false;
    if (record.status === 'accepted') accepted.add(record.email);
  }
  return { accepted, tornTail };
}

export class SendJournal {
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private lastSync = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
    private readonly sync: boolean,
  ) {}

  static async open(file: string, options: { sync?: boolean } = {}): Promise<SendJournal> {
    let handle: FileHandle;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      handle = await open(file, 'a+');
    } catch (error) {
      throw new NewsletterError('OUTPUT_WRITE', `cannot open the send journal: ${(error as Error).message}`, { file });
    }
    // A crash can leave half a line; start ours on a fresh one so both stay readable.
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await handle.write('\n');
    }
    return new SendJournal(handle, file, options.sync ?? true);
  }

  /** Resolves once the record is on disk. */
  append(record: JournalRecord): Promise<void> {
    this.pending.push(`${JSON.stringify(record)}\n`);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const text = this.pending.join('');
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.handle.write(text);
        for (const waiter of waiters) waiter.resolve();
        this.syncSoon();
      } catch (error) {
        const failure = new NewsletterError('OUTPUT_WRITE', `cannot write the send journal: ${(error as Error).message}`, { file: this.file, cause: error });
        for (const waiter of waiters) waiter.reject(failure);
      }
    }
    this.flushing = null;
  }

  /** Starts a background fdatasync when none is running and the last one is old enough. */
  private syncSoon(): void {
    if (!this.sync || this.syncing || performance.now() - this.lastSync < SYNC_INTERVAL_MS) return;
    this.lastSync = performance.now();
    this.syncing = this.handle
      .datasync()
      .catch(() => undefined)
      .finally(() => {
        this.syncing = null;
      });
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.syncing;
    try {
      if (this.sync) await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
  }
}
