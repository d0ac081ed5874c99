import path from 'node:path';
import { displayPath } from '../../fs/display-path.js';
import type { JournalKey, Store } from '../types.js';
import { FileBounceStore } from './bounces.js';
import { FileJournal } from './journal.js';
import { acquireFileLock } from './lock.js';
import { FileSuppressionStore } from './suppressions.js';

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
  return {
    kind: 'files',
    suppressions: new FileSuppressionStore(options.suppressions, show(options.suppressions)),
    bounces,
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
