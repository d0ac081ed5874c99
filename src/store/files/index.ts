import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../../config/defaults.js';
import { NewsletterError } from '../../errors.js';
import { displayPath } from '../../fs/display-path.js';
import { normalizeEmail } from '../../render/links.js';
import { mentions } from '../erased-address.js';
import { MemoryRateLimiter } from '../memory-limiter.js';
import type { JournalKey, Store } from '../types.js';
import { FileBounceStore } from './bounces.js';
import { FileJournal } from './journal.js';
import { acquireFileLock } from './lock.js';
import { FileSuppressionStore } from './suppressions.js';
import { FileSubscriberStore } from './subscribers.js';
import { rewriteWithout } from './append-file.js';

/**
 * The files backend (the default): `suppressions.txt` for suppressions, and per issue
 * `<journalDir>/<issue>.jsonl` (journal) and `<journalDir>/<issue>.lock` (lock). The journal
 * folder belongs to one newsletter (it sits next to its config), so the list id is not part of
 * the file names; journals written before it existed keep working.
 */

export interface FilesStoreOptions {
  /** Folder of journals and locks, e.g. `.newsletter/sends` next to the config. */
  journalDir: string;
  /** The suppression list file. */
  suppressions: string;
  /** Bounce state (store/files/bounces.ts); default `bounces/` next to the journal folder. */
  bouncesDir?: string | undefined;
  /** The subscribers' log; `subscribers.jsonl` beside the suppression list by default. */
  subscribers?: string | undefined;
  /** fdatasync journal commits (default true). */
  journalSync?: boolean | undefined;
  /** Paths in messages are shown relative to this folder. */
  cwd?: string | undefined;
}

const SAFE_SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function openFilesStore(options: FilesStoreOptions): Store {
  const show = (file: string) => (options.cwd ? displayPath(file, options.cwd) : file);
  const issueFile = (key: JournalKey, ext: string) => {
    // Slugs come from file names, but a library caller may pass anything: never a path.
    const slug = SAFE_SLUG.test(key.issueSlug) ? key.issueSlug : encodeURIComponent(key.issueSlug).replace(/^\./, '%2E');
    return path.join(options.journalDir, `${slug}.${ext}`);
  };
  const bouncesDir = options.bouncesDir ?? path.join(path.dirname(options.journalDir), 'bounces');
  const bounces = new FileBounceStore(bouncesDir, options.journalDir, (key) => issueFile(key, 'jsonl'), show(bouncesDir));
  const subscribersFile = options.subscribers ?? path.join(path.dirname(options.suppressions), DEFAULTS.signup.subscribersFile);
  const suppressions = new FileSuppressionStore(options.suppressions, show(options.suppressions));
  const subscribers = new FileSubscriberStore(subscribersFile, show(subscribersFile));
  return {
    kind: 'files',
    suppressions,
    bounces,
    subscribers,
    limits: new MemoryRateLimiter(DEFAULTS.signup.maxTrackedKeys),
    async erase(email) {
      const address = normalizeEmail(email);
      await suppressions.erase(address);
      const found = await subscribers.erase(address);
      await eraseFromJournals(options.journalDir, address, show);
      // Bounce state names addresses too (soft-bounce counts, tallies).
      await eraseFromJournals(bouncesDir, address, show);
      return found;
    },
    async journal(key) {
      const file = issueFile(key, 'jsonl');
      return new FileJournal(file, show(file), options.journalSync ?? true);
    },
    async lock(key) {
      const file = issueFile(key, 'lock');
      return acquireFileLock(file, show(file));
    },
    async close() {
      await bounces.close();
    },
  };
}

/** Every journal (and journal backup) of the folder, without the lines naming the address. */
async function eraseFromJournals(dir: string, address: string, show: (file: string) => string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new NewsletterError('OUTPUT_WRITE', `cannot list the send journals: ${(error as Error).message}`, { file: show(dir), cause: error });
  }
  for (const name of names) {
    if (name.endsWith('.lock')) continue;
    const file = path.join(dir, name);
    try {
      await rewriteWithout(file, (lines) => lines.map((line) => mentions(line, address)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') continue;
      throw new NewsletterError('OUTPUT_WRITE', `cannot erase an address from a send journal: ${(error as Error).message}`, { file: show(file), cause: error });
    }
  }
}
