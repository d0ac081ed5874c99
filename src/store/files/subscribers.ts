import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import { AddressSet } from '../../send/hash-set.js';
import { mentions } from '../erased-address.js';
import type { ConsentRecord, Subscriber, SubscriberStore } from '../types.js';
import { openReadStream } from '../../fs/open-read-stream.js';
import { AppendFile, rewriteWithout } from './append-file.js';

/**
 * `subscribers.jsonl`, beside `suppressions.txt`: a log of JSON lines read top to bottom.
 *
 *   {"op":"consent","email":…,"fields":{…},"signedUpAt":…,"confirmedAt":…,"page":…,"consentText":…,"ip":…,"source":…}
 *   {"op":"remove","email":…,"at":…}
 *
 * A consent for an address already there is a renewal: the earlier consent moves to the
 * subscriber's history. Appends go through AppendFile (one write per group, fdatasync), so
 * several `serve` processes and the CLI can add at once. Only an erasure rewrites the file.
 */

type Line = ({ op: 'consent' } & ConsentRecord) | { op: 'remove'; email: string; at: string };

export class FileSubscriberStore implements SubscriberStore {
  private readonly log: AppendFile;
  /**
   * Who is subscribed, as of `size` bytes of the file (8 bytes an address): a confirmation asks
   * about one address, and reading a million-subscriber file for it took a second. The file only
   * grows between erasures, so only what was appended since is read; anything else (shorter,
   * another inode) reads it again.
   */
  private index: { ino: number; size: number; set: AddressSet } | null = null;

  constructor(
    readonly file: string,
    private readonly display: string = file,
  ) {
    this.log = new AppendFile(file);
  }

  private fail(action: string, error: unknown): NewsletterError {
    if (error instanceof NewsletterError) return error;
    return new NewsletterError(action === 'read' ? 'LIST_INVALID' : 'OUTPUT_WRITE', `cannot ${action} the subscribers: ${(error as Error).message}`, { file: this.display, cause: error });
  }

  /** Every record; with `only`, the lines that cannot be about that address are not parsed. */
  private async *lines(only?: string): AsyncGenerator<Line> {
    await this.log.settled();
    let stream;
    try {
      stream = await openReadStream(this.file);
    } catch (error) {
      throw this.fail('read', error);
    }
    if (!stream) return;
    let number = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      number++;
      if (!text.trim() || (only !== undefined && !text.includes(JSON.stringify(only)))) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        // Another process's line seen half-written ends the file for this read; anything else is damage.
        throw new NewsletterError('LIST_INVALID', `line ${number} is not a JSON record`, { file: this.display, line: number });
      }
      if ((line.op !== 'consent' && line.op !== 'remove') || typeof line.email !== 'string') {
        throw new NewsletterError('LIST_INVALID', `line ${number} is not a subscriber record`, { file: this.display, line: number });
      }
      yield line;
    }
  }

  /** The state after every line, or of one address. */
  private async replay(only?: string): Promise<Map<string, Subscriber>> {
    const state = new Map<string, Subscriber>();
    for await (const line of this.lines(only)) {
      if (only !== undefined && line.email !== only) continue;
      if (line.op === 'remove') {
        state.delete(line.email);
        continue;
      }
      const { op: _op, ...record } = line;
      const before = state.get(line.email);
      const history = before ? [...before.history, withoutEmail(before)] : [];
      state.set(line.email, { ...record, history });
    }
    return state;
  }

  async get(email: string): Promise<Subscriber | null> {
    const address = normalizeEmail(email);
    if (!(await this.present()).has(address)) return null;
    return (await this.replay(address)).get(address) ?? null;
  }

  async put(record: ConsentRecord): Promise<'added' | 'renewed'> {
    const email = normalizeEmail(record.email);
    const before = (await this.present()).has(email);
    await this.write(consentLine({ ...record, email }));
    return before ? 'renewed' : 'added';
  }

  private async present(): Promise<AddressSet> {
    await this.log.settled();
    let info: { ino: number; size: number };
    try {
      info = statSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fail('read', error);
      this.index = null;
      return new AddressSet();
    }
    const index = this.index;
    if (index && index.ino === info.ino && index.size === info.size) return index.set;
    if (index && index.ino === info.ino && index.size < info.size) {
      const tail = await readRange(this.file, index.size, info.size);
      const whole = tail.lastIndexOf(0x0a) + 1;
      applyLines(index.set, tail.toString('utf8', 0, whole));
      index.size += whole;
      return index.set;
    }
    // The whole file, streamed (a million subscribers are some 250 MB), up to the size just seen.
    const set = new AddressSet();
    let size = 0;
    if (info.size > 0) {
      const stream = createReadStream(this.file, { encoding: 'utf8', start: 0, end: info.size - 1 });
      let rest = '';
      for await (const chunk of stream as AsyncIterable<string>) {
        const text = rest + chunk;
        const whole = text.lastIndexOf('\n') + 1;
        applyLines(set, text.slice(0, whole));
        size += Buffer.byteLength(text.slice(0, whole));
        rest = text.slice(whole);
      }
    }
    this.index = { ino: info.ino, size, set };
    return set;
  }

  async addMissing(batches: AsyncIterable<ConsentRecord[]>): Promise<{ added: number; present: number }> {
    // Flat memory (8 bytes an address): an import of a million rows must not hold a million records.
    const present = new AddressSet();
    for await (const line of this.lines()) {
      if (line.op === 'consent') present.add(line.email);
      else present.delete(line.email);
    }
    let added = 0;
    let already = 0;
    // One batch on its way to the disk while the next is read.
    let writing: Promise<void> = Promise.resolve();
    for await (const batch of batches) {
      let text = '';
      for (const record of batch) {
        const email = normalizeEmail(record.email);
        if (!present.add(email)) {
          already++;
          continue;
        }
        text += consentLine({ ...record, email });
        added++;
      }
      await writing;
      if (text) writing = this.write(text);
    }
    await writing;
    return { added, present: already };
  }

  async remove(email: string): Promise<boolean> {
    const address = normalizeEmail(email);
    if (!(await this.get(address))) return false;
    await this.write(`${JSON.stringify({ op: 'remove', email: address, at: new Date().toISOString() })}\n`);
    return true;
  }

  async erase(email: string): Promise<boolean> {
    const address = normalizeEmail(email);
    await this.log.settled();
    let found = false;
    try {
      await rewriteWithout(this.file, (lines) =>
        lines.map((line) => {
          const named = mentions(line, address);
          found ||= named;
          return named;
        }),
      );
    } catch (error) {
      throw this.fail('erase an address from', error);
    } finally {
      this.index = null;
    }
    return found;
  }

  async *iterate(): AsyncIterable<Subscriber> {
    yield* (await this.replay()).values();
  }

  private async write(text: string): Promise<void> {
    try {
      await this.log.append(text);
    } catch (error) {
      throw this.fail('record', error);
    }
  }
}

/**
 * One record, one line: JSON escapes every line break inside a value. Written key by key (an
 * import writes a million of them; a whole-object JSON.stringify cost twice as much).
 */
function consentLine(record: ConsentRecord): string {
  const j = JSON.stringify;
  return `{"op":"consent","email":${j(record.email)},"fields":${j(record.fields)},"signedUpAt":${j(record.signedUpAt)},"confirmedAt":${j(record.confirmedAt)},"page":${j(record.page)},"consentText":${j(record.consentText)},"ip":${j(record.ip)},"source":${j(record.source)}}\n`;
}

export function withoutEmail(subscriber: Subscriber): Omit<ConsentRecord, 'email'> {
  const { email: _email, history: _history, ...consent } = subscriber;
  return consent;
}

async function readRange(file: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const bytes = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, from);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Who the lines add and remove; a line that does not parse is left to `lines()` to report. */
function applyLines(set: AddressSet, text: string): void {
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    try {
      const line = JSON.parse(raw) as Line;
      if (line.op === 'consent') set.add(line.email);
      else if (line.op === 'remove') set.delete(line.email);
    } catch {
      // Reported by the read that replays the file.
    }
  }
}
