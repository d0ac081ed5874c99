import { createReadStream } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { NewsletterError } from '../errors.js';
import { AddressSet } from './hash-set.js';

/**
 * The suppression list: addresses never sent to (unsubscribed, bounced), one per line; `#` starts
 * a comment line. A missing file is an empty list. Permanent bounces are appended with a comment
 * saying when and why.
 */

export async function loadSuppressions(file: string): Promise<AddressSet> {
  const set = new AddressSet();
  let stream;
  try {
    stream = createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => stream!.once('open', () => resolve()).once('error', reject));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return set;
    throw new NewsletterError('LIST_INVALID', `cannot read the suppression list: ${(error as Error).message}`, { file });
  }
  for await (const raw of createInterface({ input: stream, crlfDelay: Infinity })) {
    const line = raw.trim();
    if (line && !line.startsWith('#')) set.add(line);
  }
  return set;
}

export class SuppressionWriter {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** Appends a bounced address; appends are serialized so lines never interleave. */
  add(email: string, reason: string, issueSlug: string): Promise<void> {
    const comment = `# bounced ${new Date().toISOString()} (${issueSlug}): ${reason.replace(/[\r\n]+/g, ' ').slice(0, 200)}`;
    const text = `${comment}\n${email.replace(/[\r\n]/g, '')}\n`;
    this.queue = this.queue.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      await appendFile(this.file, text, 'utf8');
    });
    return this.queue;
  }
}
