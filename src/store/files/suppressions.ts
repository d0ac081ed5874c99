import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
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
  private pending: Required<PendingChange>[] = [];
  private flushing: Promise<void> | null = null;
  private cache: { key: string; set: AddressSet } | null = null;
  private reading: Promise<AddressSet> | null = null;
  /** While a write of ours is on its way: the file's key before it. */
  private writing: string | null = null;

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

  async load(): Promise<AddressSet> {
    // Reused while the file is unchanged: `serve` asks `has` per request.
    let key = 'missing';
    try {
      key = keyOf(await stat(this.file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fail('read', error);
    }
    if (this.cache?.key === key) return this.cache.set;
    // Our own write is landing: the set is right for every address but those being written, and
    // their next change waits for that write (`change`). Another process's change is seen after it.
    if (this.writing && this.cache?.key === this.writing) return this.cache.set;
    // One reading at a time: a burst of requests after a foreign change shares it.
    this.reading ??= this.read(key).finally(() => (this.reading = null));
    return this.reading;
  }

  private async read(key: string): Promise<AddressSet> {
    const set = new AddressSet();
    for await (const line of this.lines()) {
      const change = parseSuppressionLine(line);
      if (change?.op === 'add') set.add(change.email);
      else if (change?.op === 'remove') set.delete(change.email);
    }
    this.cache = { key, set };
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
    const previous = this.perAddress.get(address) ?? Promise.resolve();
    const run = previous.then(async () => {
      // An add the cached set does not know is written without a stat: at worst another process
      // added it meanwhile and the file gets the line twice. Anything else asks the file.
      if (op === 'add' && this.cache && !this.cache.set.has(address)) {
        await this.commit({ op, address, text });
        return true;
      }
      const present = (await this.load()).has(address);
      if (present === (op === 'add')) return false;
      await this.commit({ op, address, text });
      return true;
    });
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.perAddress.set(address, settled);
    void settled.then(() => {
      if (this.perAddress.get(address) === settled) this.perAddress.delete(address);
    });
    return run;
  }

  private commit(change: PendingChange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ...change, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length) {
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

  private async append(group: readonly PendingChange[]): Promise<void> {
    const text = group.map((change) => change.text).join('');
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      const handle = await open(this.file, 'a+');
      try {
        // A hand-edited file may lack its last newline; ours must not join that line.
        const before = await handle.stat();
        const last = Buffer.alloc(1);
        if (before.size > 0) await handle.read(last, 0, 1, before.size - 1);
        const bytes = Buffer.from(before.size > 0 && last[0] !== 0x0a ? `\n${text}` : text, 'utf8');
        this.writing = keyOf(before);
        // O_APPEND: each write lands at the end, whole, whatever other processes append meanwhile.
        const { bytesWritten } = await handle.write(bytes, 0, bytes.length);
        if (bytesWritten !== bytes.length) throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
        // The cached set stays valid only if the file is exactly what it read plus our bytes:
        // otherwise another process appended too, and the next `load` reads the file again.
        // Updated before the fdatasync, so the requests arriving meanwhile find it current.
        const after = await handle.stat();
        const cache = this.cache;
        if (cache && cache.key === keyOf(before) && after.size === before.size + bytes.length) {
          for (const change of group) {
            if (change.op === 'add') cache.set.add(change.address);
            else cache.set.delete(change.address);
          }
          cache.key = keyOf(after);
        } else if (cache?.key !== keyOf(after)) {
          this.cache = null;
        }
        this.writing = null;
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      this.cache = null;
      this.writing = null;
      throw new NewsletterError('OUTPUT_WRITE', `cannot write the suppression list: ${(error as Error).message}`, { file: this.display, cause: error });
    }
  }
}

interface PendingChange {
  op: 'add' | 'remove';
  address: string;
  text: string;
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

function keyOf(info: { ino: number; size: number; mtimeMs: number }): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}
