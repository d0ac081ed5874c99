import yaml from 'js-yaml';
import { parse as parseToml, TomlDate } from 'smol-toml';
import { NewsletterError } from '../errors.js';
import { lineOfJsonKey } from '../text-position.js';
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

function plain(value: unknown): unknown {
  if (value instanceof TomlDate) return value.toISOString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
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

function asObject(data: unknown, file: string, line: number, format: string): Record<string, unknown> {
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new NewsletterError('CONTENT_YAML', `${format} front matter must be a set of keys and values`, { file, line });
  }
  return plain(data) as Record<string, unknown>;
}

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
  const format: FrontMatterFormat = first.startsWith('---') ? 'yaml' : first === '+++' ? 'toml' : first === '{' ? 'json' : 'none';
  if (format === 'none') return { data: {}, body: text, bodyLine: 1, yaml: '', format };

  if (format === 'json') return parseJsonFrontMatter(text, file);

  const delimiter = DELIMITER[format];
  const end = closingLine(lines, delimiter);
  if (end < 0) {
    throw new NewsletterError('CONTENT_YAML', `front matter is not closed: add a line \`${delimiter}\` after the last key`, { file, line: 1 });
  }
  const inner = lines.slice(1, end).join('\n');
  const body = lines.slice(end + 1).join('\n');
  checkCalendarDates(inner, file, 2);
  let data: unknown;
  try {
    // CORE_SCHEMA: no timestamps, so a date stays the text the editor wrote.
    data = format === 'yaml' ? yaml.load(inner, { schema: yaml.CORE_SCHEMA, filename: file }) : parseToml(inner);
  } catch (error) {
    const e = error as Error & { mark?: { line: number }; reason?: string; line?: number };
    const line = e.mark ? e.mark.line + 2 : typeof e.line === 'number' ? e.line + 1 : 1;
    const reason = e.reason ?? e.message.split('\n').find((l) => l.trim() && !/^Invalid TOML document/.test(l))?.trim() ?? e.message;
    const hint = format === 'yaml' ? (yamlHint(text, line) ?? yamlHint(text, line - 1)) : undefined;
    throw new NewsletterError('CONTENT_YAML', `invalid ${format === 'yaml' ? 'YAML' : 'TOML'} front matter: ${reason}`, { file, line, hint });
  }
  return { data: asObject(data, file, 2, format.toUpperCase()), body, bodyLine: end + 2, yaml: lines.slice(0, end).join('\n'), format };
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
    data: asObject(data, file, 1, 'JSON'),
    body: rest.slice(bodyStart),
    bodyLine: json.split('\n').length + bodyStart,
    yaml: json,
    format: 'json',
  };
}
