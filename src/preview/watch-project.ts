import { statSync } from 'node:fs';
import path from 'node:path';
import { watch } from 'chokidar';
import type { WatchedPaths } from './change-plan.js';

/**
 * Watches the content folder, the templates folder and the config file, and hands over changed
 * paths in batches. The debounce is short on purpose: an editor's save is one or two events a few
 * milliseconds apart, and every millisecond here is added to the reload the user waits for.
 *
 * chokidar drops events: a `change` within 50 ms of the last one it reported for the same file is
 * thrown away, not delayed (its `_throttle('change', path, 50)`), as is a raw event within 5 ms of
 * the one before. A save that follows another within 50 ms (the fix right after a broken save
 * showed its error) was never reported, and the preview showed the broken version until some
 * later event. So every file handed over is looked at again once that window has passed
 * (`RECHECK_MS`): if it changed since it was handed over, it is handed over again.
 */

/** Longer than chokidar's 50 ms window in which it drops a second `change` of a file. */
export const RECHECK_MS = 60;

/** What a file looks like on disk; a changed signature is a change chokidar may not have reported. */
function signature(file: string): string {
  try {
    const stats = statSync(file, { bigint: true });
    return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

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
  /** Files handed over, with their signature then and the timer that looks at them again. */
  const handedOver = new Map<string, { signature: string; recheck: NodeJS.Timeout }>();
  let closed = false;

  const changed = (file: string) => {
    if (closed) return;
    const now = Date.now();
    if (!batch.size) firstAt = now;
    batch.add(file);
    clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, Math.min(quietMs, firstAt + maxWaitMs - now)));
  };
  const recheck = (file: string) => {
    const before = handedOver.get(file);
    handedOver.delete(file);
    if (before && signature(file) !== before.signature) changed(file);
  };
  const flush = () => {
    timer = undefined;
    const files = [...batch];
    batch = new Set();
    firstAt = 0;
    for (const file of files) {
      clearTimeout(handedOver.get(file)?.recheck);
      handedOver.set(file, { signature: signature(file), recheck: setTimeout(recheck, RECHECK_MS, file) });
    }
    if (files.length) onChange(files);
  };

  watcher.on('all', (_event, file) => changed(path.resolve(file)));
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
      closed = true;
      clearTimeout(timer);
      for (const { recheck: pending } of handedOver.values()) clearTimeout(pending);
      handedOver.clear();
      await Promise.all([watcher.close(), rootWatcher.close()]);
    },
  };
}
