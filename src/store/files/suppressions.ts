import { closeSync, createReadStream, fdatasync as fdatasyncCallback, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import { AddressSet } from '../../send/hash-set.js';
import type { SuppressionEntry, SuppressionStore } from '../types.js';

/**
 * `suppressions.txt`: one address per line, `#` starts a comment line (users edit the file by
 * hand, so that format stays). A resubscribe appends a tombstone line `-address`; a later plain
 * line adds the address again, so the file is a log read top to bottom. An address that itself
 * begins with `-` or `+` is written as `+address`.
 *
 * Several processes (`serve` workers, a `send` recording bounces) may append at once: each change
 * is one write(2) on a descriptor opened with O_APPEND, so lines never interleave, and the file is
 * fdatasync'ed before the promise resolves, so an acknowledged unsubscribe survives a crash.
 */

const fdatasync = promisify(fdatasyncCallback);

type LineChange = { op: 'add' | 'remove'; email: string } | null;

export function parseSuppressionLine(raw: string): LineChange {
  const line = raw.trim();
  if (!line || line.startsWith('#')) return null;
  if (line.startsWith('-')) return { op: 'remove', email: normalizeEmail(line.slice(1)) };
  if (line.startsWith('+')) return { op: 'add', email: normalizeEmail(line.slice(1)) };
  return { op: 'add', email: normalizeEmail(line) };
}

function oneLine(text: string, max = 200): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').slice(0, max);
}

function storedLine(email: string): string {
  return /^[-+]/.test(email) ? `+${email}` : email;
}

export class FileSuppressionStore implements SuppressionStore {
  /** The last change of each address still in progress: the next one waits for it. */
  private readonly perAddress = new Map<string, Promise<void>>();
  private pending: PendingChange[] = [];
  private flushing: Promise<void> | null = null;
  private cache: { key: string; set: AddressSet } | null = null;
  private reading: Promise<AddressSet> | null = null;
  /**
   * The keys the file had just before our latest writes, each of which the cache followed: a
   * stat that ran before one of those writes and is read after it still describes a file that
   * only we have changed since, so the cache stands. Without this, each such stat started a read
   * of the whole file, which under load raced with further writes and came back stale, again.
   */
  private ownKeys: string[] = [];

  constructor(
    readonly file: string,
    private readonly display: string = file,
  ) {}

  private fail(action: string, error: unknown): NewsletterError {
    return new NewsletterError('LIST_INVALID', `cannot ${action} the suppression list: ${(error as Error).message}`, { file: this.display, cause: error });
  }

  private async *lines(): AsyncGenerator<string> {
    const stream = createReadStream(this.file, { encoding: 'utf8' });
    try {
      await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    } catch (error) {
      stream.destroy();
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.fail('read', error);
    }
    try {
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) yield line;
    } catch (error) {
      throw this.fail('read', error);
    }
  }

  private async currentKey(): Promise<string> {
    try {
      return keyOf(await stat(this.file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fail('read', error);
      return MISSING;
    }
  }

  async load(): Promise<AddressSet> {
    // Reused while the file is unchanged: `serve` asks `has` per request.
    const key = await this.currentKey();
    if (this.cache && (this.cache.key === key || this.ownKeys.includes(key))) return this.cache.set;
    // One reading at a time: a burst of requests after a foreign change shares it.
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  /** Our writes wait while it runs (flushLoop), so the key it takes first is that of what it reads. */
  private async read(): Promise<AddressSet> {
    const key = await this.currentKey();
    const set = new AddressSet();
    for await (const line of this.lines()) {
      const change = parseSuppressionLine(line);
      if (change?.op === 'add') set.add(change.email);
      else if (change?.op === 'remove') set.delete(change.email);
    }
    this.cache = { key, set };
    this.ownKeys = [];
    return set;
  }

  async has(email: string): Promise<boolean> {
    return (await this.load()).has(email);
  }

  async *iterate(): AsyncIterable<string> {
    const state = new Map<string, boolean>();
    for await (const line of this.lines()) {
      const change = parseSuppressionLine(line);
      if (!change) continue;
      // Re-inserted so the order is that of the last change.
      state.delete(change.email);
      state.set(change.email, change.op === 'add');
    }
    for (const [email, present] of state) if (present) yield email;
  }

  add(email: string, entry: SuppressionEntry): Promise<boolean> {
    const address = normalizeEmail(email);
    if (!address || /[\r\n]/.test(address)) return Promise.reject(new NewsletterError('USAGE', `not an address: ${JSON.stringify(email)}`));
    return this.change(address, 'add', `# ${oneLine(entry.reason)} ${new Date().toISOString()} (${oneLine(entry.source, 100)})\n${storedLine(address)}\n`);
  }

  remove(email: string): Promise<boolean> {
    const address = normalizeEmail(email);
    return this.change(address, 'remove', `# resubscribed ${new Date().toISOString()}\n-${address}\n`);
  }

  /**
   * One change of one address. Changes of the same address run one after the other (so two adds
   * at once report true once); changes of different addresses that arrive while a write is on
   * the disk join the next write: one write(2) and one fdatasync for the whole group (group
   * commit), which is what lets `serve` answer hundreds of concurrent unsubscribes in a few ms
   * each instead of one fsync after another.
   */
  private change(address: string, op: 'add' | 'remove', text: string): Promise<boolean> {
    const apply = async () => {
      // An add the cached set does not know is written without a stat: at worst another process
      // added it meanwhile and the file gets the line twice. Anything else asks the file.
      if (op === 'add' && this.cache && !this.cache.set.has(address)) {
        await this.commit(op, address, text);
        return true;
      }
      const present = (await this.load()).has(address);
      if (present === (op === 'add')) return false;
      await this.commit(op, address, text);
      return true;
    };
    // Started at once when no change of this address is in progress (the usual case): a turn of
    // the microtask queue less per request.
    const previous = this.perAddress.get(address);
    const run = previous ? previous.then(apply) : apply();
    const done = () => {
      if (this.perAddress.get(address) === settled) this.perAddress.delete(address);
    };
    const settled: Promise<void> = run.then(done, done);
    this.perAddress.set(address, settled);
    return run;
  }

  private commit(op: 'add' | 'remove', address: string, text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ op, address, text, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length) {
        // A write during a read would leave the cache with a key older than what it holds.
        if (this.reading) await this.reading.catch(() => undefined);
        const group = this.pending;
        this.pending = [];
        try {
          await this.append(group);
          for (const change of group) change.resolve();
        } catch (error) {
          for (const change of group) change.reject(error);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * The calls that only touch the page cache (open, fstat, a 1-byte pread, the write, close) are
   * made synchronously: each takes microseconds, while each asynchronous one waited for a thread
   * of the pool and then for the event loop to come round again, which under load is what held a
   * group's answers back. Only the fdatasync, which waits for the disk, goes to the pool.
   */
  private async append(group: readonly PendingChange[]): Promise<void> {
    const text = group.map((change) => change.text).join('');
    try {
      const fd = this.openForAppend();
      try {
        // A hand-edited file may lack its last newline; ours must not join that line.
        const before = fstatSync(fd);
        const last = Buffer.alloc(1);
        if (before.size > 0) readSync(fd, last, 0, 1, before.size - 1);
        const bytes = Buffer.from(before.size > 0 && last[0] !== 0x0a ? `\n${text}` : text, 'utf8');
        // O_APPEND: each write lands at the end, whole, whatever other processes append meanwhile.
        const bytesWritten = writeSync(fd, bytes, 0, bytes.length);
        if (bytesWritten !== bytes.length) throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
        // The cached set stays valid only if the file is exactly what it read plus our bytes:
        // otherwise another process appended too, and the next `load` reads the file again.
        // Updated before the fdatasync, so the requests arriving meanwhile find it current.
        const after = fstatSync(fd);
        const cache = this.cache;
        const followed = cache && (cache.key === keyOf(before) || (cache.key === MISSING && before.size === 0));
        if (followed && after.size === before.size + bytes.length) {
          for (const change of group) {
            if (change.op === 'add') cache.set.add(change.address);
            else cache.set.delete(change.address);
          }
          this.ownKeys.push(cache.key);
          if (this.ownKeys.length > 16) this.ownKeys.shift();
          cache.key = keyOf(after);
        } else if (cache?.key !== keyOf(after)) {
          this.cache = null;
          this.ownKeys = [];
        }
        await fdatasync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.cache = null;
      this.ownKeys = [];
      throw new NewsletterError('OUTPUT_WRITE', `cannot write the suppression list: ${(error as Error).message}`, { file: this.display, cause: error });
    }
  }

  private openForAppend(): number {
    try {
      return openSync(this.file, 'a+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(path.dirname(this.file), { recursive: true });
      return openSync(this.file, 'a+');
    }
  }
}

interface PendingChange {
  op: 'add' | 'remove';
  address: string;
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The key of a file that does not exist; the empty file our first write creates follows it. */
const MISSING = 'missing';

function keyOf(info: { ino: number; size: number; mtimeMs: number }): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}
