import yaml from 'js-yaml';
import { parse as parseToml, TomlDate } from 'smol-toml';
import { NewsletterError } from '../errors.js';
import { lineOfJsonKey, lineOfOffset } from '../text-position.js';
import { hasControlCharacter } from './control-characters.js';
import { CONTENT_LIMITS } from './limits.js';
import { yamlHint } from './yaml-hint.js';

/**
 * Front matter as static-site generators write it: YAML between `---` lines (Jekyll, Eleventy,
 * Hugo), TOML between `+++` lines (the default of Hugo and Zola), or a JSON object at the top of
 * the file (Hugo). Values stay as written: dates are text, never a Date that a timezone could
 * shift or that `2024-02-30` could roll over into March.
 */

export type FrontMatterFormat = 'yaml' | 'toml' | 'json' | 'none';

export interface FrontMatter {
  data: Record<string, unknown>;
  /** The text after the front matter. */
  body: string;
  /** 1-based line of the file where `body` starts. */
  bodyLine: number;
  /** The raw front-matter text including its opening line, for finding the line of a key. */
  yaml: string;
  format: FrontMatterFormat;
}

const DELIMITER = { yaml: '---', toml: '+++' } as const;

/** 1-based line of a key path in front matter of any of the three formats. */
export function lineOfFrontMatterKey(front: Pick<FrontMatter, 'yaml' | 'format'>, keyPath: readonly string[]): number | undefined {
  if (front.format !== 'toml') return lineOfJsonKey(front.yaml, keyPath);
  // TOML: `key = value`, or a `[table]` header for a table.
  const key = keyPath[0];
  if (!key) return undefined;
  const lines = front.yaml.split('\n');
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\s*(?:["']?${escaped}["']?\\s*=|\\[\\[?\\s*${escaped}\\s*\\]?\\])`);
  const index = lines.findIndex((line) => pattern.test(line));
  return index < 0 ? undefined : index + 1;
}

function closingLine(lines: readonly string[], delimiter: string): number {
  for (let i = 1; i < lines.length; i++) if (lines[i]!.trimEnd() === delimiter) return i;
  return -1;
}

/** A key path as a chain from the innermost key: built without copying an array per value. */
interface KeyPath {
  key: string;
  parent: KeyPath | null;
}

function keysOf(path: KeyPath | null): string[] {
  const keys: string[] = [];
  for (let at = path; at; at = at.parent) keys.unshift(at.key);
  return keys;
}

/** Why front matter is refused after parsing: too many values, too deep, or a control character. */
class PlainLimit extends Error {
  constructor(
    readonly kind: 'values' | 'depth' | 'control',
    readonly keyPath: readonly string[] = [],
  ) {
    super(kind);
  }
}

/**
 * Parsed front matter as plain data. YAML aliases are shared nodes in the parser's result, and
 * copying them here is where a chain of 30 aliases becomes 2^30 values: the copy stops at a budget
 * of values and a depth, long before the memory or the stack runs out.
 */
function plain(value: unknown, budget: { left: number }, depth = 0, path: KeyPath | null = null): unknown {
  if (--budget.left < 0) throw new PlainLimit('values');
  if (depth > CONTENT_LIMITS.frontMatterDepth) throw new PlainLimit('depth');
  if (typeof value === 'string' && hasControlCharacter(value)) throw new PlainLimit('control', keysOf(path));
  if (value instanceof TomlDate) return value.toISOString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Array.isArray(value)) return value.map((item, index) => plain(item, budget, depth + 1, { key: String(index), parent: path }));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, budget, depth + 1, { key: k, parent: path })]));
  }
  return value;
}

/**
 * The line where brackets in front-matter text nest past `limit`, outside strings and comments,
 * or null. Read before parsing: the TOML parser recurses once per level.
 */
function tooDeepLine(text: string, limit: number): number | null {
  let depth = 0;
  let line = 1;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      // Only a triple-quoted TOML string goes on past its line.
      if (quote.length !== 3) quote = '';
      continue;
    }
    if (quote) {
      if (c === '\\' && quote[0] === '"') i++;
      else if (text.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = '';
      }
      continue;
    }
    if (c === '"' || c === "'") {
      quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    } else if (c === '[' || c === '{') {
      if (++depth > limit) return line;
    } else if (c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    } else if (c === '#' && /\s/.test(text[i - 1] ?? ' ')) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end - 1;
    }
  }
  return null;
}

/** The most deeply indented (or `- - -` stacked) line: where block-nested YAML goes too deep. */
function deepestIndentLine(text: string): number {
  let best = 0;
  let bestDepth = -1;
  text.split('\n').forEach((line, index) => {
    const depth = /^[\s-]*/.exec(line)![0].length;
    if (depth > bestDepth) [best, bestDepth] = [index, depth];
  });
  return best + 1;
}

function tooDeepError(file: string, line: number, format: FrontMatterFormat): NewsletterError {
  return new NewsletterError('CONTENT_YAML', `${formatName(format)} front matter is nested more than ${CONTENT_LIMITS.frontMatterDepth} levels deep`, {
    file,
    line,
    hint: 'front matter holds a few keys and short lists; data nested this deep belongs elsewhere',
  });
}

/** The line of the first YAML alias (`*name`): where an alias bomb starts repeating. */
function firstAliasLine(text: string): number | undefined {
  const index = text.search(/(?:^|[\s,[{:-])\*[^\s,\]}]/m);
  return index < 0 ? undefined : lineOfOffset(text, index + 1);
}

function formatName(format: FrontMatterFormat): string {
  return format === 'json' ? 'JSON' : format.toUpperCase();
}

/**
 * An impossible calendar date (`2024-02-30`) is refused where it is written. Parsers disagree on
 * it (smol-toml rolls it into March, YAML timestamps do the same), so look at the text itself.
 */
function checkCalendarDates(text: string, file: string, firstLine: number): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^\s*"?[\w-]+"?\s*[:=]\s*["']?(\d{4})-(\d{2})-(\d{2})(?![\d])/.exec(lines[i]!);
    if (!match) continue;
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const day = new Date(Date.UTC(y, m - 1, d));
    if (m < 1 || m > 12 || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
      throw new NewsletterError('CONTENT_INVALID', `\`${match[1]}-${match[2]}-${match[3]}\` is not a date in the calendar`, {
        file,
        line: firstLine + i,
        hint: 'write the day that was meant, as YYYY-MM-DD',
      });
    }
  }
}

/**
 * The parsed front matter as a plain object. `raw` is the file's text up to the end of the front
 * matter, so that its lines are the file's lines.
 */
function asObject(data: unknown, file: string, raw: string, format: FrontMatterFormat): Record<string, unknown> {
  const firstLine = format === 'json' ? 1 : 2;
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new NewsletterError('CONTENT_YAML', `${formatName(format)} front matter must be a set of keys and values`, { file, line: firstLine });
  }
  try {
    return plain(data, { left: CONTENT_LIMITS.frontMatterValues }) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof PlainLimit)) throw error;
    if (error.kind === 'depth') throw tooDeepError(file, deepestIndentLine(raw), format);
    if (error.kind === 'values') {
      const alias = format === 'yaml' ? firstAliasLine(raw) : undefined;
      throw new NewsletterError('CONTENT_YAML', `${formatName(format)} front matter expands to more than ${CONTENT_LIMITS.frontMatterValues} values${alias ? ' (a YAML alias `*name` repeats all it names)' : ''}`, {
        file,
        line: alias ?? firstLine,
        hint: 'front matter holds a few keys and short lists; an alias of aliases multiplies them',
      });
    }
    throw new NewsletterError('CONTENT_INVALID', `\`${error.keyPath.join('.')}\` holds a control character (written as an escape) that no email or feed can carry`, {
      file,
      line: lineOfFrontMatterKey({ yaml: raw, format }, error.keyPath.slice(0, 1)) ?? firstLine,
      hint: 'remove the escape (`\\e`, `\\u001b`, `\\0`, …) from the value',
    });
  }
}

/**
 * Hugo reads a file whose first character is `{` as JSON front matter, one line or many; a body
 * that starts with `{{<` (a shortcode) or `{.class}` is not JSON.
 */
const JSON_START = /^\{\s*("|\}|$)/;

/** Splits front matter from the body, mapping parser errors to the line in the file. */
export function parseFrontMatter(source: string, file: string): FrontMatter {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  const first = lines[0]!.trimEnd();

  if (first.startsWith('---') && first !== '---' && !/^---\s*ya?ml$/i.test(first)) {
    throw new NewsletterError('CONTENT_YAML', `front matter must be YAML, TOML or JSON; \`${first}\` blocks are never run`, {
      file,
      line: 1,
      hint: 'start the file with a line `---` and write the keys as YAML',
    });
  }
  const format: FrontMatterFormat = first.startsWith('---') ? 'yaml' : first === '+++' ? 'toml' : JSON_START.test(first) ? 'json' : 'none';
  if (format === 'none') return { data: {}, body: text, bodyLine: 1, yaml: '', format };

  if (format === 'json') return parseJsonFrontMatter(text, file);

  const delimiter = DELIMITER[format];
  const end = closingLine(lines, delimiter);
  if (end < 0) {
    throw new NewsletterError('CONTENT_YAML', `front matter is not closed: add a line \`${delimiter}\` after the last key`, { file, line: 1 });
  }
  const raw = lines.slice(0, end).join('\n');
  const inner = lines.slice(1, end).join('\n');
  const body = lines.slice(end + 1).join('\n');
  checkCalendarDates(inner, file, 2);
  const deep = tooDeepLine(raw, CONTENT_LIMITS.frontMatterDepth);
  if (deep !== null) throw tooDeepError(file, deep, format);
  let data: unknown;
  try {
    // CORE_SCHEMA: no timestamps, so a date stays the text the editor wrote.
    data = format === 'yaml' ? yaml.load(inner, { schema: yaml.CORE_SCHEMA, filename: file }) : parseToml(inner);
  } catch (error) {
    // Nesting the bracket scan cannot see (indented YAML) ends the parser's recursion.
    if (error instanceof RangeError) throw tooDeepError(file, deepestIndentLine(raw), format);
    const e = error as Error & { mark?: { line: number }; reason?: string; line?: number };
    const line = e.mark ? e.mark.line + 2 : typeof e.line === 'number' ? e.line + 1 : 1;
    const reason = e.reason ?? e.message.split('\n').find((l) => l.trim() && !/^Invalid TOML document/.test(l))?.trim() ?? e.message;
    const hint = format === 'yaml' ? (yamlHint(text, line) ?? yamlHint(text, line - 1)) : undefined;
    throw new NewsletterError('CONTENT_YAML', `invalid ${format === 'yaml' ? 'YAML' : 'TOML'} front matter: ${reason}`, { file, line, hint });
  }
  return { data: asObject(data, file, raw, format), body, bodyLine: end + 2, yaml: raw, format };
}

/** Hugo's JSON front matter: a JSON object that starts the file, the body after its closing brace. */
function parseJsonFrontMatter(text: string, file: string): FrontMatter {
  // Find the brace that closes the first one, outside strings.
  let depth = 0;
  let inString = false;
  let end = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new NewsletterError('CONTENT_YAML', 'JSON front matter is not closed: its `{` has no matching `}`', { file, line: 1 });
  const json = text.slice(0, end + 1);
  checkCalendarDates(json, file, 1);
  const deep = tooDeepLine(json, CONTENT_LIMITS.frontMatterDepth);
  if (deep !== null) throw tooDeepError(file, deep, 'json');
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    const line = position ? json.slice(0, Number(position[1])).split('\n').length : 1;
    throw new NewsletterError('CONTENT_YAML', `invalid JSON front matter: ${(error as Error).message.split('\n')[0]}`, { file, line });
  }
  const rest = text.slice(end + 1);
  const bodyStart = rest.startsWith('\n') ? 1 : 0;
  return {
    data: asObject(data, file, json, 'json'),
    body: rest.slice(bodyStart),
    bodyLine: json.split('\n').length + bodyStart,
    yaml: json,
    format: 'json',
  };
}
