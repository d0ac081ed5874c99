import type { z } from 'zod';
import { NewsletterError, type ErrorCode } from './errors.js';
import { didYouMean } from './suggest.js';
import { lineOfJsonKey } from './text-position.js';

/**
 * Turning a zod failure of a config file, front matter or theme into the one error the user reads:
 * the key path, its line, and for an unknown key the known key it was probably meant to be. Shared
 * by the config, content and render stages, so it lives below all of them.
 */

type Issue = z.core.$ZodIssue;

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
  options?: { _zod: { def: SchemaDef } }[];
  in?: { _zod: { def: SchemaDef } };
  out?: { _zod: { def: SchemaDef } };
  valueType?: { _zod: { def: SchemaDef } };
  getter?: () => { _zod: { def: SchemaDef } };
}

/** The object shapes a value at `keyPath` may have (several under a union), innermost wrappers removed. */
function shapesAt(def: SchemaDef, keyPath: readonly PropertyKey[]): SchemaDef[] {
  const unwrapped = unwrap(def);
  if (keyPath.length === 0) return unwrapped.filter((d) => d.type === 'object');
  const [head, ...rest] = keyPath;
  const next: SchemaDef[] = [];
  for (const d of unwrapped) {
    if (d.type === 'object' && typeof head === 'string' && d.shape?.[head]) next.push(d.shape[head]._zod.def);
    else if (d.type === 'array' && typeof head === 'number' && d.element) next.push(d.element._zod.def);
    else if (d.type === 'record' && d.valueType) next.push(d.valueType._zod.def);
  }
  return next.flatMap((d) => shapesAt(d, rest));
}

function unwrap(def: SchemaDef, depth = 0): SchemaDef[] {
  if (depth > 20) return [];
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return def.innerType ? unwrap(def.innerType._zod.def, depth + 1) : [];
    case 'pipe':
      return [def.in, def.out].flatMap((s) => (s ? unwrap(s._zod.def, depth + 1) : []));
    case 'union':
      return (def.options ?? []).flatMap((s) => unwrap(s._zod.def, depth + 1));
    case 'lazy':
      return def.getter ? unwrap(def.getter()._zod.def, depth + 1) : [];
    default:
      return [def];
  }
}

/** The keys an object at `keyPath` of `schema` accepts (empty when unknown). */
export function knownKeysAt(schema: z.ZodType, keyPath: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const def of shapesAt((schema as unknown as { _zod: { def: SchemaDef } })._zod.def, keyPath)) {
    for (const key of Object.keys(def.shape ?? {})) keys.add(key);
  }
  return [...keys];
}

/**
 * A union failure (an article entry is a slug or an object with `slug`) reports every branch; the
 * branch that got past its own type check is the one the user was writing.
 */
function innermost(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const branches = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
  if (branches.length !== 1) return issue;
  const chosen = innermost(branches[0]![0]!);
  return { ...chosen, path: [...issue.path, ...chosen.path] } as Issue;
}

function isMissing(issue: Issue): boolean {
  return issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
}

/** Unknown keys first: `artciles:` also makes `articles` missing, and the typo is the cause. */
function firstIssue(error: z.ZodError): Issue {
  const unknown = error.issues.find((i) => i.code === 'unrecognized_keys');
  return innermost(unknown ?? error.issues[0]!);
}

const quote = (keyPath: readonly string[]) => `\`${keyPath.join('.')}\``;

type SchemaLike = { _zod: { def: SchemaDef } };

/** The schemas (wrappers included) that may describe the value at `keyPath`. */
function schemasAt(schema: SchemaLike, keyPath: readonly PropertyKey[], depth = 0): SchemaLike[] {
  if (depth > 40) return [];
  const def = schema._zod.def;
  const inner = [def.innerType, def.in, def.out, ...(def.options ?? []), def.type === 'lazy' && def.getter ? def.getter() : undefined].filter((s): s is SchemaLike => s !== undefined);
  const here = keyPath.length === 0 ? [schema] : [];
  const [head, ...rest] = keyPath;
  let next: SchemaLike[] = [];
  if (keyPath.length) {
    if (def.type === 'object' && typeof head === 'string' && def.shape?.[head]) next = schemasAt(def.shape[head], rest, depth + 1);
    else if (def.type === 'array' && def.element) next = schemasAt(def.element, rest, depth + 1);
    else if (def.type === 'record' && def.valueType) next = schemasAt(def.valueType, rest, depth + 1);
  }
  return [...here, ...next, ...inner.flatMap((s) => schemasAt(s, keyPath, depth + 1))];
}

/** What a value of this type is, in plain words. */
const FORMS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text (a string)',
  boolean: '`true` or `false`',
  array: 'a list',
  object: 'an object (`{ … }`)',
  date: 'a date',
};

/** The expected form of the value at `keyPath`: its schema's description (`.describe()`), else its type in words. */
function expectedForm(schema: z.ZodType | undefined, keyPath: readonly string[], expected: string): string {
  const described = schema ? schemasAt(schema as unknown as SchemaLike, keyPath.map((k) => (/^\d+$/.test(k) ? Number(k) : k))).map((s) => (s as unknown as z.ZodType).description).find(Boolean) : undefined;
  return described ?? FORMS[expected] ?? expected;
}

function valueAt(input: unknown, keyPath: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of keyPath) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A value as the user wrote it, short: `"6px"`, `12`, `a list`. */
function shownValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return `the date ${value.toISOString().slice(0, 10)}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Names the first problem's key path and, when it can be found, its line in the source text. */
export function zodToError(
  error: z.ZodError,
  sourceText: string,
  file: string,
  code: Extract<ErrorCode, 'CONFIG_INVALID' | 'CONTENT_INVALID' | 'THEME_INVALID'>,
  lineOffset = 0,
  schema?: z.ZodType,
  /** The value that was validated, to quote what was written. */
  input?: unknown,
): NewsletterError {
  const issue = firstIssue(error);
  let keyPath = issue.path.map(String);
  let message = issue.message;
  let hint: string | undefined;
  if (issue.code === 'unrecognized_keys') {
    const known = schema ? knownKeysAt(schema, issue.path) : [];
    const [first, ...others] = issue.keys as [string, ...string[]];
    keyPath = [...keyPath, first];
    message = `unknown key ${quote(keyPath)}${didYouMean(first, known)}`;
    if (others.length) message += ` (also ${others.map((k) => `\`${k}\`${didYouMean(k, known)}`).join(', ')})`;
    if (known.length && !didYouMean(first, known)) hint = `known keys here: ${known.map((k) => `\`${k}\``).join(', ')}`;
  } else if (isMissing(issue)) {
    const key = keyPath.at(-1)!;
    const parent = keyPath.slice(0, -1);
    message = parent.length && /^\d+$/.test(parent.at(-1)!)
      ? `${quote(parent)} (entry ${Number(parent.at(-1)) + 1} of \`${parent.slice(0, -1).join('.')}\`) has no \`${key}\`, which is required`
      : `${quote(keyPath)} is required`;
  } else if (issue.code === 'invalid_type') {
    // zod says `Invalid input: expected number, received string`; the user reads what to write.
    const form = expectedForm(schema, keyPath, issue.expected);
    message = `${keyPath.length ? `${quote(keyPath)}: ` : ''}expected ${form}, got ${input === undefined ? issue.message.replace(/^.*received /, 'a ') : shownValue(valueAt(input, issue.path))}`;
  } else if (keyPath.length) {
    message = `${quote(keyPath)}: ${message}`;
  }
  // A missing key is not written anywhere: point at the object it belongs in (line 1 at the top).
  const missingFrom = isMissing(issue) ? keyPath.slice(0, -1) : null;
  const line = missingFrom ? (missingFrom.length ? lineOfJsonKey(sourceText, missingFrom) : 1) : lineOfJsonKey(sourceText, keyPath);
  return new NewsletterError(code, message, { file, line: line === undefined ? undefined : line + lineOffset, hint });
}
