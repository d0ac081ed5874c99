/** Turning positions in a source text into the 1-based line numbers that error messages show. */

import { findNodeAtLocation, parseTree } from 'jsonc-parser';

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

/** The line of a key path in JSON (or JSONC) text, read with a real parser: exact, or undefined when missing. */
function lineOfKeyInJson(text: string, keyPath: readonly string[]): number | undefined {
  const root = parseTree(text);
  if (!root) return undefined;
  const node = findNodeAtLocation(root, keyPath.map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment)));
  if (!node) return undefined;
  // A property's value: point at its key (`"muted": …`), where the user edits it.
  const at = node.parent?.type === 'property' ? node.parent.offset : node.offset;
  return lineOfOffset(text, at);
}

/** Offset of the next non-blank line at or after `from` indented `indent` columns or fewer (the end of a block). */
function blockEndAfter(text: string, from: number, indent: number): number {
  const pattern = new RegExp(`^[ \\t]{0,${indent}}\\S`, 'gm');
  pattern.lastIndex = from;
  return pattern.exec(text)?.index ?? text.length;
}

/**
 * The line of a key path in YAML: each key is searched inside the block of the one before it (a
 * line indented deeper, up to the next line indented as little as the parent), so a nested key of
 * another object (`sampleRecipient.name` for `name`) never answers for a top-level one. A numeric
 * segment is the n-th `- ` item of a YAML list (skipped when the list is a flow list `[a, b]`).
 */
function lineOfKeyInYaml(text: string, keyPath: readonly string[]): number | undefined {
  let from = 0;
  let end = text.length;
  let parentIndent = -1;
  let found = -1;
  for (const segment of keyPath) {
    if (/^\d+$/.test(segment)) {
      const item = found < 0 ? -1 : offsetOfListItem(text, found, Number(segment));
      if (item >= 0) {
        found = item;
        from = item + 1;
        // The item's own block: up to the next line indented as little as its dash.
        parentIndent = item - (text.lastIndexOf('\n', item - 1) + 1);
        end = blockEndAfter(text, from, parentIndent);
      }
      continue;
    }
    const key = escapeRegExp(segment);
    const pattern = new RegExp(`^([ \\t]*(?:-[ \\t]+)?)(?:"${key}"|'${key}'|${key})[ \\t]*:`, 'gm');
    pattern.lastIndex = from;
    let match: RegExpExecArray | null;
    let hit = -1;
    while ((match = pattern.exec(text)) && match.index < end) {
      const indent = match[1]!.length;
      if (indent > parentIndent && (parentIndent >= 0 || indent === 0 || match[1]!.includes('-'))) {
        hit = match.index + match[1]!.replace(/-[ \t]+$/, '').length;
        parentIndent = indent;
        break;
      }
    }
    if (hit < 0) return undefined;
    found = hit;
    from = text.indexOf('\n', hit) + 1 || text.length;
    end = Math.min(end, blockEndAfter(text, from, parentIndent));
  }
  return found < 0 ? undefined : lineOfOffset(text, found);
}

/**
 * The line of a key path (`['theme', 'colors', 'muted']`, `['articles', '1', 'title']`) in JSON or
 * YAML text, or undefined when the key is not written there. Only the whole path answers: a path
 * whose last key is missing never points at its parent's line, which holds something else.
 */
export function lineOfJsonKey(text: string, keyPath: readonly string[]): number | undefined {
  if (keyPath.length === 0) return undefined;
  return /^\s*[{[]/.test(text) ? lineOfKeyInJson(text, keyPath) : lineOfKeyInYaml(text, keyPath);
}
