import path from 'node:path';

/**
 * A path as messages and findings show it: relative to the request's `cwd` (never the process's,
 * which a library caller's request does not have to match) when it is inside it, else absolute,
 * which says more than a chain of `../`. `cwd` itself is shown as `self`: the path as given, or `.`
 * for a caller that appends `/` to it.
 */
export function displayPath(file: string, cwd: string, self = file): string {
  const relative = path.relative(cwd, file);
  if (!relative) return self;
  return relative.startsWith('..') ? file : relative;
}
