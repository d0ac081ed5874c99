import path from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { openFilesStore } from './files/index.js';
import type { Store } from './types.js';

/**
 * The one way the outputs reach state that outlives a run. The files backend is the default;
 * the Redis backend (store/redis/) plugs in here.
 */

export interface OpenStoreOptions {
  /** Shown paths are relative to this folder (the request's working directory). */
  cwd?: string | undefined;
  journalSync?: boolean | undefined;
  /** `redis://…` (`--store`, `--queue`, REDIS_URL): the Redis backend, shared by every machine. */
  url?: string | null | undefined;
  /** Redis only: a command fails at once while Redis is away, rather than wait for it (`serve`). */
  failFast?: boolean | undefined;
}

export async function openStore(config: Pick<ResolvedConfig, 'paths' | 'suppressions'>, options: OpenStoreOptions = {}): Promise<Store> {
  if (options.url) {
    const { openSharedStore } = await import('./redis/shared-store.js');
    return openSharedStore(options.url, filesStore(config, options), { failFast: options.failFast });
  }
  return filesStore(config, options);
}

function filesStore(config: Pick<ResolvedConfig, 'paths' | 'suppressions'>, options: OpenStoreOptions): Store {
  return openFilesStore({
    journalDir: path.resolve(config.paths.root, DEFAULTS.send.journalDir),
    suppressions: config.suppressions,
    journalSync: options.journalSync,
    cwd: options.cwd,
  });
}

export { openFilesStore, type FilesStoreOptions } from './files/index.js';
export type * from './types.js';
