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
  /** Changes of this process are serialized, so `add` twice at once reports true once. */
  private queue: Promise<unknown> = Promise.resolve();
  private cache: { key: string; set: AddressSet } | null = null;

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
      const info = await stat(this.file);
      key = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fail('read', error);
    }
    if (this.cache?.key === key) return this.cache.set;
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
    return this.serialized(async () => {
      if (!address || /[\r\n]/.test(address)) throw new NewsletterError('USAGE', `not an address: ${JSON.stringify(email)}`);
      if (await this.has(address)) return false;
      await this.append(`# ${oneLine(entry.reason)} ${new Date().toISOString()} (${oneLine(entry.source, 100)})\n${storedLine(address)}\n`);
      return true;
    });
  }

  remove(email: string): Promise<boolean> {
    const address = normalizeEmail(email);
    return this.serialized(async () => {
      if (!(await this.has(address))) return false;
      await this.append(`# resubscribed ${new Date().toISOString()}\n-${address}\n`);
      return true;
    });
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async append(text: string): Promise<void> {
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      const handle = await open(this.file, 'a+');
      try {
        // A hand-edited file may lack its last newline; ours must not join that line.
        const { size } = await handle.stat();
        const last = Buffer.alloc(1);
        if (size > 0) await handle.read(last, 0, 1, size - 1);
        const bytes = Buffer.from(size > 0 && last[0] !== 0x0a ? `\n${text}` : text, 'utf8');
        // O_APPEND: each write lands at the end, whole, whatever other processes append meanwhile.
        const { bytesWritten } = await handle.write(bytes, 0, bytes.length);
        if (bytesWritten !== bytes.length) throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new NewsletterError('OUTPUT_WRITE', `cannot write the suppression list: ${(error as Error).message}`, { file: this.display, cause: error });
    }
    this.cache = null;
  }
}
