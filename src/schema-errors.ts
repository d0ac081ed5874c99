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

/** Names the first problem's key path and, when it can be found, its line in the source text. */
export function zodToError(
  error: z.ZodError,
  sourceText: string,
  file: string,
  code: Extract<ErrorCode, 'CONFIG_INVALID' | 'CONTENT_INVALID' | 'THEME_INVALID'>,
  lineOffset = 0,
  schema?: z.ZodType,
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
  } else if (keyPath.length) {
    message = `${quote(keyPath)}: ${message}`;
  }
  const line = lineOfJsonKey(sourceText, keyPath);
  return new NewsletterError(code, message, { file, line: line === undefined ? undefined : line + lineOffset, hint });
}
