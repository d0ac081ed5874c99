import path from 'node:path';
import { watch } from 'chokidar';
import type { WatchedPaths } from './change-plan.js';

/**
 * Watches the content folder, the templates folder and the config file, and hands over changed
 * paths in batches. The debounce is short on purpose: an editor's save is one or two events a few
 * milliseconds apart, and every millisecond here is added to the reload the user waits for.
 */

export interface ProjectWatcher {
  /** Resolves when the initial scan is done and changes from now on are reported. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Quiet time after the last event before a batch is handed over. */
  quietMs?: number;
  /** Longest a batch waits while events keep coming (a checkout writing many files). */
  maxWaitMs?: number;
  onError?: (error: Error) => void;
}

/** Editor droppings: swap and backup files, Vim's write probe, hidden files. */
export function isNoise(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  if (!relative || relative.startsWith('..')) return false;
  return relative.split(path.sep).some((part) => part.startsWith('.') || part.endsWith('~') || /\.sw[a-p]$/.test(part) || part === '4913');
}

export function watchProject(paths: WatchedPaths, onChange: (files: string[]) => void, options: WatchOptions = {}): ProjectWatcher {
  const quietMs = options.quietMs ?? 8;
  const maxWaitMs = options.maxWaitMs ?? 120;
  const roots = [paths.content, paths.templates];
  const watcher = watch([...roots, paths.config], {
    ignoreInitial: true,
    ignored: (file) => roots.some((root) => isNoise(root, path.resolve(file))),
  });

  let batch = new Set<string>();
  let firstAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const files = [...batch];
    batch = new Set();
    firstAt = 0;
    if (files.length) onChange(files);
  };

  watcher.on('all', (_event, file) => {
    const now = Date.now();
    if (!batch.size) firstAt = now;
    batch.add(path.resolve(file));
    clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, Math.min(quietMs, firstAt + maxWaitMs - now)));
  });
  watcher.on('error', (error) => options.onError?.(error as Error));

  // chokidar stops watching a folder that is deleted or moved away and never notices it coming
  // back. A second watcher on the parents (depth 0) sees the roots come and go; a root that
  // (re)appears is watched afresh, and either way the session hears about the root itself.
  const resolvedRoots = roots.map((root) => path.resolve(root));
  const parents = [...new Set(resolvedRoots.map((root) => path.dirname(root)))];
  const rootWatcher = watch(parents, {
    ignoreInitial: true,
    depth: 0,
    ignored: (file) => {
      const resolved = path.resolve(file);
      return !parents.includes(resolved) && !resolvedRoots.includes(resolved);
    },
  });
  const report = (file: string) => watcher.emit('all', 'change', file);
  rootWatcher.on('addDir', (dir) => {
    const resolved = path.resolve(dir);
    if (!resolvedRoots.includes(resolved)) return;
    watcher.unwatch(resolved);
    watcher.add(resolved);
    report(resolved);
  });
  rootWatcher.on('unlinkDir', (dir) => {
    if (resolvedRoots.includes(path.resolve(dir))) report(path.resolve(dir));
  });
  rootWatcher.on('error', (error) => options.onError?.(error as Error));

  const ready = Promise.all([
    new Promise<void>((resolve) => watcher.once('ready', () => resolve())),
    new Promise<void>((resolve) => rootWatcher.once('ready', () => resolve())),
  ]).then(() => undefined);
  return {
    ready,
    async close() {
      clearTimeout(timer);
      await Promise.all([watcher.close(), rootWatcher.close()]);
    },
  };
}
