import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { NewsletterError } from '../../errors.js';
import { normalizeEmail } from '../../render/links.js';
import { AddressSet } from '../../send/hash-set.js';
import { mentions } from '../erased-address.js';
import type { ConsentRecord, Subscriber, SubscriberStore } from '../types.js';
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

  private async *lines(): AsyncGenerator<Line> {
    await this.log.settled();
    const stream = createReadStream(this.file, { encoding: 'utf8' });
    try {
      await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    } catch (error) {
      stream.destroy();
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.fail('read', error);
    }
    let number = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      number++;
      if (!text.trim()) continue;
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
    for await (const line of this.lines()) {
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
    return (await this.replay(address)).get(address) ?? null;
  }

  async put(record: ConsentRecord): Promise<'added' | 'renewed'> {
    const email = normalizeEmail(record.email);
    const before = await this.get(email);
    await this.write(consentLine({ ...record, email }));
    return before ? 'renewed' : 'added';
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
