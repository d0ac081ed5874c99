import { closeSync, fdatasync as fdatasyncCallback, fstatSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import { AddressSet } from '../../send/hash-set.js';
import { normalizeEntry } from '../suppression-entry.js';
import type { SuppressionEntry, SuppressionProblem, SuppressionStore } from '../types.js';
import { bareAddress, canStore, changeLines, readSuppressionLine } from './suppression-lines.js';
import { erasedKey, mentions } from '../erased-address.js';
import { openReadStream } from '../../fs/open-read-stream.js';
import { rewriteWithout } from './append-file.js';

/**
 * `suppressions.txt`: one address per line, `#` starts a comment (users edit the file by hand, so
 * that format stays, and what people write is read: suppression-lines.ts). A resubscribe appends
 * a tombstone line `-address`; a later plain line adds the address again, so the file is a log
 * read top to bottom. An address that itself begins with `-` or `+` is written as `+address`.
 * Each change this tool writes is preceded by a `#: {json}` comment holding its entry (reason,
 * source, time…), which `get` and `entries` read back.
 *
 * Several processes (`serve` workers, a `send` recording bounces) may append at once: each change
 * is one write(2) on a descriptor opened with O_APPEND, so lines never interleave, and the file is
 * fdatasync'ed before the promise resolves, so an acknowledged unsubscribe survives a crash.
 */

const fdatasync = promisify(fdatasyncCallback);

type LineChange = { op: 'add' | 'remove'; email: string } | null;

/** The first address a line changes (for callers that read one line at a time), or null. */
export function parseSuppressionLine(raw: string): LineChange {
  const reading = readSuppressionLine(raw);
  return reading.kind === 'change' ? { op: reading.op, email: reading.emails[0]! } : null;
}

/** One change of the file's log, with the entry written before it (or made from a hand-written line). */
export interface FileChange {
  line: number;
  op: 'add' | 'remove';
  email: string;
  entry: SuppressionEntry;
}

/** Where each address stands after the whole file, and how many changes of it the file holds. */
export interface AddressHistory {
  present: boolean;
  changes: number;
  entry: SuppressionEntry;
}

export class FileSuppressionStore implements SuppressionStore {
  /** The last change of each address still in progress: the next one waits for it. */
  private readonly perAddress = new Map<string, Promise<void>>();
  private pending: PendingChange[] = [];
  private flushing: Promise<void> | null = null;
  /**
   * The file read up to `size` bytes, replayed into `set`. The file is a log that only grows
   * (every writer appends), so when it has grown, only the new bytes are read: with several
   * `serve` processes appending at once, each one's next request would otherwise read the whole
   * file again. Anything else (another file, a shorter one, the same length with another mtime,
   * other bytes where the cache stopped) is a hand edit: the whole file is read again.
   */
  private cache: FileView | null = null;
  private reading: Promise<AddressSet> | null = null;
  /** The file as `load` last saw it ending inside a line, and since when. */
  private partialSince: { info: FileInfo; at: number } | null = null;

  constructor(
    readonly file: string,
    private readonly display: string = file,
  ) {}

  private fail(action: string, error: unknown): NewsletterError {
    return new NewsletterError('LIST_INVALID', `cannot ${action} the suppression list: ${(error as Error).message}`, { file: this.display, cause: error });
  }

  private async *lines(end?: number): AsyncGenerator<string> {
    if (end === 0) return;
    let stream;
    try {
      stream = await openReadStream(this.file, end === undefined ? {} : { end: end - 1 });
    } catch (error) {
      throw this.fail('read', error);
    }
    if (!stream) return;
    try {
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) yield line;
    } catch (error) {
      throw this.fail('read', error);
    }
  }

  /**
   * Synchronous: a stat answers from the inode cache in microseconds, and an asynchronous one
   * could come back describing the file as it was before a write this store has already made.
   */
  private statNow(): FileInfo {
    try {
      return statSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fail('read', error);
      return MISSING;
    }
  }

  async load(): Promise<AddressSet> {
    // Reused while the file is unchanged: `serve` asks `has` per request.
    const cache = this.cache;
    if (!this.reading && cache) {
      const info = this.statNow();
      if (sameFile(cache, info)) return cache.set;
      const caught = this.catchUp(info, null);
      if (caught === true) return cache.set;
      // A last line without its newline: another process's write seen mid-way (it is whole a
      // moment later), or a hand edit that left it so, which the whole read takes in.
      if (caught === 'partial') {
        const seen = this.partialSince;
        if (!seen || !sameFile(seen.info, info)) this.partialSince = { info, at: performance.now() };
        if (performance.now() - this.partialSince!.at < PARTIAL_PATIENCE_MS) return cache.set;
      }
    }
    // One reading at a time: a burst of requests after a hand edit shares it.
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  /** Our writes wait while it runs (flushLoop), so the file grows only by others meanwhile: it reads up to the size it took first. */
  private async read(): Promise<AddressSet> {
    const info = this.statNow();
    const set = new AddressSet();
    const view = { lines: 0, problems: [] as SuppressionProblem[] };
    // A file made after the stat is read from its start by the next look, not now: what this
    // read took in must be exactly the bytes the cache says it holds.
    for await (const line of this.lines(info.size)) this.applyLine(set, view, line);
    this.cache = { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, set, print: this.printAt(info.size), ...view };
    this.partialSince = null;
    return set;
  }

  /** The bytes just before `size` (the cache's fingerprint); null when they cannot be read. */
  private printAt(size: number): Buffer | null {
    if (size === 0) return Buffer.alloc(0);
    try {
      const fd = openSync(this.file, 'r');
      try {
        const print = Buffer.alloc(Math.min(PRINT_BYTES, size));
        return readSync(fd, print, 0, print.length, size - print.length) === print.length ? print : null;
      } finally {
        closeSync(fd);
      }
    } catch {
      return null;
    }
  }

  /**
   * Brings the cache up to `info` by reading only what was appended since it was made: `true`
   * when it now holds all of it; `partial` when the file ends inside a line, which another
   * process may still be writing (a write of several pages is seen growing page by page): the
   * cache then holds the file up to the last whole line, and the rest is read next time. False
   * when the file changed in another way (the caller reads it whole, or drops the cache): the
   * bytes just before where the cache stopped must still be those it read there, which an edit
   * in place (an editor's save, `cp` over it, `>` and appends) does not keep. Reads through `fd`
   * when given (the descriptor a write holds), else opens the file.
   */
  private catchUp(info: FileInfo, fd: number | null): boolean | 'partial' {
    const cache = this.cache;
    if (!cache || !cache.print || info === MISSING) return false;
    if (cache.ino !== info.ino && cache.ino !== MISSING.ino) return false;
    if (info.size === cache.size) return cache.ino === info.ino && cache.mtimeMs === info.mtimeMs;
    const print = cache.print;
    if (info.size < cache.size || !endsLine(print) || info.size - cache.size > MAX_TAIL_BYTES) return false;
    let own = fd;
    try {
      own ??= openSync(this.file, 'r');
      const from = cache.size - print.length;
      const bytes = Buffer.allocUnsafe(info.size - from);
      if (readSync(own, bytes, 0, bytes.length, from) !== bytes.length) return false;
      if (!bytes.subarray(0, print.length).equals(print)) return false;
      const whole = bytes.lastIndexOf(0x0a) + 1;
      if (whole > print.length) {
        const text = bytes.toString('utf8', print.length, whole);
        // readSuppressionLine trims each line, a CR with it.
        const lines = text.split('\n');
        lines.pop();
        for (const line of lines) this.applyLine(cache.set, cache, line);
      }
      const end = Math.max(whole, print.length);
      cache.ino = info.ino;
      cache.size = from + end;
      cache.print = printOf(bytes, end);
      // Unknown while a line is unfinished: the next look reads on from `size` whatever the stat says.
      cache.mtimeMs = end === bytes.length ? info.mtimeMs : -1;
      return end === bytes.length ? true : 'partial';
    } catch {
      return false;
    } finally {
      if (fd === null && own !== null) closeSync(own);
    }
  }

  /** One line into `set`; a line that suppresses nothing is kept in `view.problems` with its number. */
  private applyLine(set: AddressSet, view: { lines: number; problems: SuppressionProblem[] }, line: string): void {
    view.lines++;
    // Most lines: one address and nothing else.
    const bare = bareAddress(line);
    if (bare !== null) {
      set.add(bare);
      return;
    }
    const reading = readSuppressionLine(line);
    if (reading.kind === 'change') {
      for (const email of reading.emails) {
        if (reading.op === 'add') set.add(email);
        else set.delete(email);
      }
    } else if (reading.kind === 'problem' && view.problems.length < MAX_PROBLEMS) {
      view.problems.push({ file: this.display, line: view.lines, message: `${reading.message}: this line suppresses nothing` });
    }
  }

  async has(email: string): Promise<boolean> {
    return (await this.load()).has(email);
  }

  async problems(): Promise<SuppressionProblem[]> {
    await this.load();
    return [...(this.cache?.problems ?? [])];
  }

  /** Every change in file order, each with its entry: the `#:` line before it, or one made from the line itself. */
  async *changes(): AsyncGenerator<FileChange> {
    let number = 0;
    let pending: SuppressionEntry | null = null;
    for await (const line of this.lines()) {
      number++;
      const reading = readSuppressionLine(line);
      if (reading.kind === 'entry') {
        pending = reading.entry;
        continue;
      }
      if (reading.kind === 'change') {
        // A line written by hand: a manual suppression from the file, its comment the note, no time.
        const entry = pending ?? normalizeEntry({ reason: reading.op === 'add' ? 'manual' : 'resubscribed', source: 'suppressions.txt', note: reading.note ?? undefined }, null);
        for (const email of reading.emails) yield { line: number, op: reading.op, email, entry };
      }
      pending = null;
    }
  }

  /** Per address: present or not after the whole file, its number of changes, its last entry. */
  async history(): Promise<Map<string, AddressHistory>> {
    const state = new Map<string, AddressHistory>();
    for await (const change of this.changes()) {
      const before = state.get(change.email);
      // Re-inserted so the order is that of the last change.
      state.delete(change.email);
      state.set(change.email, { present: change.op === 'add', changes: (before?.changes ?? 0) + 1, entry: change.entry });
    }
    return state;
  }

  async *iterate(): AsyncIterable<string> {
    for (const [email, { present }] of await this.history()) if (present) yield email;
  }

  async *entries(): AsyncIterable<{ email: string; entry: SuppressionEntry }> {
    for (const [email, { present, entry }] of await this.history()) if (present) yield { email, entry };
  }

  async get(email: string): Promise<SuppressionEntry | null> {
    const address = normalizeEmail(email);
    // The cached set answers most calls; only a suppressed address costs a read of the file.
    if (!(await this.has(address))) return null;
    // Only lines that mention the address are read closely (with the `#:` line before each).
    let found: SuppressionEntry | null = null;
    let previous = '';
    for await (const line of this.lines()) {
      if (line.toLowerCase().includes(address)) {
        const reading = readSuppressionLine(line);
        if (reading.kind === 'change' && reading.emails.includes(address)) {
          const meta = readSuppressionLine(previous);
          const entry = meta.kind === 'entry' ? meta.entry : normalizeEntry({ reason: 'manual', source: 'suppressions.txt', note: reading.note ?? undefined }, null);
          found = reading.op === 'add' ? entry : null;
        }
      }
      previous = line;
    }
    return found;
  }

  add(email: string, entry: SuppressionEntry): Promise<boolean> {
    const address = normalizeEmail(email);
    if (!canStore(address)) return Promise.reject(new NewsletterError('USAGE', `not an address: ${JSON.stringify(email)}`));
    return this.change(address, 'add', changeLines('add', address, normalizeEntry(entry)));
  }

  /**
   * The hashed line first, so the address is suppressed throughout; then every line naming the
   * address goes, with the comment this store wrote just before it (its reason and time).
   */
  async erase(email: string): Promise<void> {
    const address = normalizeEmail(email);
    await this.add(erasedKey(address), { reason: 'erased', source: 'subscribers remove --erase' });
    while (this.flushing) await this.flushing;
    try {
      await rewriteWithout(this.file, (lines) => dropNaming(lines, address));
    } catch (error) {
      throw new NewsletterError('OUTPUT_WRITE', `cannot erase an address from the suppression list: ${(error as Error).message}`, { file: this.display, cause: error });
    } finally {
      this.cache = null;
    }
  }

  async reason(email: string): Promise<string | null> {
    const address = normalizeEmail(email);
    if (!(await this.has(address))) return null;
    // Suppressed by its hash (an erased address) has no entry: '' then.
    return (await this.get(address))?.reason ?? '';
  }

  remove(email: string, source = 'unknown'): Promise<boolean> {
    const address = normalizeEmail(email);
    return this.change(address, 'remove', changeLines('remove', address, normalizeEntry({ reason: 'resubscribed', source })));
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
      if (op === 'add' && this.cache && !this.reading && !this.cache.set.has(address)) {
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
        // A write during a read would leave the cache with a size older than what it holds.
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
        const bytes = Buffer.from(before.size > 0 && lastByte(fd, before.size) !== 0x0a ? `\n${text}` : text, 'utf8');
        // O_APPEND: each write lands at the end, whole, whatever other processes append meanwhile.
        const bytesWritten = writeSync(fd, bytes, 0, bytes.length);
        if (bytesWritten !== bytes.length) throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
        // Updated before the fdatasync, so the requests arriving meanwhile find the cache current:
        // with our bytes alone, from the group itself; when others appended too, by reading back
        // everything after what the cache holds, in the file's order.
        const after = fstatSync(fd);
        const cache = this.cache;
        if (cache?.print && endsLine(cache.print) && sameFile(cache, before) && after.size === before.size + bytes.length) {
          for (const change of group) {
            if (change.op === 'add') cache.set.add(change.address);
            else cache.set.delete(change.address);
          }
          for (const byte of bytes) if (byte === 0x0a) cache.lines++;
          cache.ino = after.ino;
          cache.size = after.size;
          cache.mtimeMs = after.mtimeMs;
          const tail = Buffer.concat([cache.print, bytes]);
          cache.print = printOf(tail, tail.length);
        } else if (!this.catchUp(after, fd)) {
          this.cache = null;
        }
        await fdatasync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.cache = null;
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

interface FileInfo {
  ino: number;
  size: number;
  mtimeMs: number;
}

interface FileView extends FileInfo {
  set: AddressSet;
  /** Lines read, for the numbers of problems found in what is appended later. */
  lines: number;
  problems: SuppressionProblem[];
  /**
   * The last bytes read (up to PRINT_BYTES, ending at `size`): an append leaves them in place;
   * null when they could not be read (the next change is read in full).
   */
  print: Buffer | null;
}

/** A file that does not exist; the empty file the first write creates follows it. */
const MISSING: FileInfo = Object.freeze({ ino: -1, size: 0, mtimeMs: 0 });

/** How much of what the cache read last is compared before reading on from there. */
const PRINT_BYTES = 64;

/** A last line left unfinished this long is not a write in progress but the file's own. */
const PARTIAL_PATIENCE_MS = 100;

/** More appended than this since the last look is read like a new file (asynchronously). */
const MAX_TAIL_BYTES = 1 << 20;

/** More problems than this are not kept: the first ones are what the user fixes first. */
const MAX_PROBLEMS = 100;

/** A copy of the (up to) PRINT_BYTES bytes of `bytes` that end at `end`: kept, so not a view. */
function printOf(bytes: Buffer, end: number): Buffer {
  return Buffer.from(bytes.subarray(Math.max(0, end - PRINT_BYTES), end));
}

function sameFile(a: FileInfo, b: FileInfo): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** The cache stopped at the end of a line (or at the start of the file): what follows is whole lines. */
function endsLine(print: Buffer): boolean {
  return print.length === 0 || print[print.length - 1] === 0x0a;
}

/** The entry line this store writes before each change (`#: {json}`), or the older `# <reason> <ISO time> (<source>)`. */
const OWN_COMMENT = /^#(?:: \{.*\}|\s.*\d{4}-\d\d-\d\dT[\d:.]+Z.*)$/;

function dropNaming(lines: string[], address: string): boolean[] {
  const drop = lines.map((line) => parseSuppressionLine(line)?.email === address || mentions(line, address));
  for (let i = 1; i < lines.length; i++) if (drop[i] && !drop[i - 1] && OWN_COMMENT.test(lines[i - 1]!.trim())) drop[i - 1] = true;
  return drop;
}

function lastByte(fd: number, size: number): number {
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, size - 1);
  return byte[0]!;
}
