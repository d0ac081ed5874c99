import { mkdir, open, rename, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../../errors.js';
import { JournalStateBuilder, parseJournalLine, type JournalRecord } from '../../send/journal.js';
import { openReadStream } from '../../fs/open-read-stream.js';
import type { Destination, IssueJournal, JournalRepair, JournalState } from '../types.js';

/**
 * The files journal, `.newsletter/sends/<issue>.jsonl`: append-only JSON lines. Records of
 * concurrent workers go out in one write; `append` resolves once that write returned, so a
 * process crash (kill -9 included) never loses an acknowledged record.
 *
 * fdatasync runs in the background, at most every SYNC_INTERVAL_MS and at close: waiting for it
 * after every message made each connection idle for the disk's sync latency (a third of the
 * throughput). The cost: after a power loss (not a process crash) the outcomes of the last
 * SYNC_INTERVAL_MS may be missing. A failed sync is not swallowed: the next append (or close)
 * rejects with it, and after any failure the journal refuses further records, so a send stops
 * instead of delivering messages it cannot record.
 */

const SYNC_INTERVAL_MS = 200;

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Reads a file line by line, saying for the last line whether it ended in a newline. */
export async function* journalLines(file: string, display: string): AsyncGenerator<{ text: string; number: number; terminated: boolean }> {
  let stream;
  try {
    stream = await openReadStream(file);
  } catch (error) {
    throw new NewsletterError('OUTPUT_WRITE', `cannot read the send journal: ${(error as Error).message}`, { file: display, cause: error });
  }
  if (!stream) return;
  let rest = '';
  let number = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      rest += chunk;
      let start = 0;
      for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n', start)) {
        yield { text: rest.slice(start, end).replace(/\r$/, ''), number: ++number, terminated: true };
        start = end + 1;
      }
      rest = rest.slice(start);
    }
  } catch (error) {
    throw new NewsletterError('OUTPUT_WRITE', `cannot read the send journal: ${(error as Error).message}`, { file: display, cause: error });
  }
  if (rest) yield { text: rest, number: ++number, terminated: false };
}

export class FileJournal implements IssueJournal {
  private handle: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private lastSync = 0;
  private broken: NewsletterError | null = null;

  constructor(
    readonly file: string,
    private readonly display: string,
    private readonly sync: boolean = true,
  ) {}

  get location(): string {
    return this.display;
  }

  async read(destination: Destination): Promise<JournalState> {
    const builder = new JournalStateBuilder(destination);
    let tornTail = false;
    for await (const line of journalLines(this.file, this.display)) {
      if (!line.text.trim()) continue;
      let record: JournalRecord;
      try {
        record = parseJournalLine(line.text, line.number, this.display);
      } catch (error) {
        // Half a record at the very end: a crash while writing it; that record was never acknowledged.
        if (!line.terminated) {
          tornTail = true;
          continue;
        }
        throw error;
      }
      builder.add(record);
    }
    return builder.state(tornTail);
  }

  append(record: JournalRecord): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    this.pending.push(`${JSON.stringify(record)}\n`);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flush();
    return done;
  }

  private failure(action: string, error: unknown): NewsletterError {
    return new NewsletterError('OUTPUT_WRITE', `cannot ${action} the send journal: ${(error as Error).message}`, { file: this.display, cause: error });
  }

  private openHandle(): Promise<FileHandle> {
    this.opening ??= (async () => {
      let handle: FileHandle;
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        handle = await open(this.file, 'a+');
      } catch (error) {
        throw this.failure('open', error);
      }
      try {
        // A crash can leave half a line (never acknowledged): drop it so the journal stays valid.
        const { size } = await handle.stat();
        if (size > 0) {
          const tail = Buffer.alloc(Math.min(size, 64 * 1024));
          await handle.read(tail, 0, tail.length, size - tail.length);
          if (tail[tail.length - 1] !== 0x0a) {
            const cut = tail.lastIndexOf(0x0a);
            if (cut >= 0) await handle.truncate(size - tail.length + cut + 1);
            else if (size <= tail.length) await handle.truncate(0);
            else await handle.write('\n');
          }
        }
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw this.failure('open', error);
      }
      this.handle = handle;
      return handle;
    })();
    return this.opening;
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const lines = this.pending;
      const text = lines.join('');
      let waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        if (this.broken) throw this.broken;
        const handle = await this.openHandle();
        const bytes = Buffer.from(text, 'utf8');
        const { bytesWritten } = await handle.write(bytes, 0, bytes.length);
        if (bytesWritten !== bytes.length) {
          // The records that made it whole are on disk (a rerun skips them): only the rest failed.
          let whole = 0;
          for (let offset = 0; whole < lines.length; whole++) {
            offset += Buffer.byteLength(lines[whole]!, 'utf8');
            if (offset > bytesWritten) break;
          }
          for (const waiter of waiters.slice(0, whole)) waiter.resolve();
          waiters = waiters.slice(whole);
          throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes; is the disk full?)`);
        }
        for (const waiter of waiters) waiter.resolve();
        this.syncSoon(handle);
      } catch (error) {
        this.broken ??= error instanceof NewsletterError ? error : this.failure('write', error);
        for (const waiter of waiters) waiter.reject(this.broken);
      }
    }
    this.flushing = null;
  }

  /** Starts a background fdatasync when none is running and the last one is old enough. */
  private syncSoon(handle: FileHandle): void {
    if (!this.sync || this.syncing || performance.now() - this.lastSync < SYNC_INTERVAL_MS) return;
    this.lastSync = performance.now();
    this.syncing = handle
      .datasync()
      .catch((error: unknown) => {
        this.broken ??= this.failure('sync', error);
      })
      .finally(() => {
        this.syncing = null;
      });
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.syncing;
    const handle = this.handle;
    this.handle = null;
    this.opening = null;
    if (!handle) return;
    try {
      if (this.sync && !this.broken) await handle.datasync();
    } catch (error) {
      this.broken ??= this.failure('sync', error);
    } finally {
      await handle.close().catch(() => undefined);
    }
    if (this.broken) throw this.broken;
  }

  async restart(): Promise<string | null> {
    await this.close();
    const backup = `${this.file}.${stamp()}.bak`;
    try {
      await rename(this.file, backup);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.failure('move aside', error);
    }
    return backup;
  }

  async repair(): Promise<JournalRepair> {
    await this.close();
    const good: string[] = [];
    const bad: string[] = [];
    for await (const line of journalLines(this.file, this.display)) {
      if (!line.text.trim()) continue;
      try {
        parseJournalLine(line.text, line.number, this.display);
        good.push(line.text);
      } catch {
        bad.push(`${line.number}\t${line.text}`);
      }
    }
    if (!bad.length) return { kept: good.length, moved: 0, aside: null };
    const aside = `${this.file}.${stamp()}.bad`;
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      // Bad lines first (with their line numbers), then the journal swapped in whole.
      await writeFile(aside, `${bad.join('\n')}\n`, { flush: true });
      await writeFile(temp, good.length ? `${good.join('\n')}\n` : '', { flush: true });
      await rename(temp, this.file);
    } catch (error) {
      throw this.failure('repair', error);
    }
    return { kept: good.length, moved: bad.length, aside };
  }
}
