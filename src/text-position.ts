/** Turning positions in a source text into the 1-based line numbers that error messages show. */

export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Offset of the n-th YAML list item (`- ...`) in the block that starts at `from`, or -1 when the
 * block holds no such item (a JSON array, a flow list `[a, b]`): then the index is skipped.
 */
function offsetOfListItem(text: string, from: number, index: number): number {
  const lineStart = text.lastIndexOf('\n', from - 1) + 1;
  const keyIndent = /^[ \t]*/.exec(text.slice(lineStart))![0].length;
  let seen = -1;
  let offset = text.indexOf('\n', from);
  while (offset !== -1) {
    const start = offset + 1;
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? undefined : end);
    const indent = /^[ \t]*/.exec(line)![0].length;
    if (/^[ \t]*-(\s|$)/.test(line)) {
      if (++seen === index) return start + indent;
    } else if (line.trim() && indent <= keyIndent) {
      return -1;
    }
    offset = end;
  }
  return -1;
}

/**
 * Best-effort line of a key path (`['theme', 'colors', 'text']`, `['articles', '1', 'title']`) in
 * JSON or YAML text: each segment is searched after the previous one, so nested keys with common
 * names resolve to the right place. A numeric segment is the n-th `- ` item of a YAML list (skipped
 * in JSON). Returns undefined when the key cannot be found (e.g. it is missing).
 */
export function lineOfJsonKey(text: string, keyPath: readonly string[]): number | undefined {
  let from = 0;
  let found = -1;
  for (const segment of keyPath) {
    if (/^\d+$/.test(segment)) {
      const item = found < 0 ? -1 : offsetOfListItem(text, found, Number(segment));
      if (item >= 0) {
        found = item;
        from = item + 1;
      }
      continue;
    }
    const key = escapeRegExp(segment);
    const pattern = new RegExp(`(?:"${key}"|'${key}'|^[ \\t-]*${key})\\s*:`, 'gm');
    pattern.lastIndex = from;
    const match = pattern.exec(text);
    if (!match) break;
    found = match.index + (match[0].length - match[0].trimStart().length);
    from = pattern.lastIndex;
  }
  return found < 0 ? undefined : lineOfOffset(text, found);
}
