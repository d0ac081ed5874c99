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
 * Best-effort line of a key path (`['theme', 'colors', 'text']`) in JSON or YAML text: each segment
 * is searched after the previous one, so nested keys with common names resolve to the right place.
 * Array indices are skipped. Returns undefined when the key cannot be found (e.g. it is missing).
 */
export function lineOfJsonKey(text: string, keyPath: readonly string[]): number | undefined {
  let from = 0;
  let found = -1;
  for (const segment of keyPath) {
    if (/^\d+$/.test(segment)) continue;
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
