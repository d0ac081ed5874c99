import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';

/**
 * `<mj-include path="…">` as the MJML gallery writes it, resolved by us at template load rather
 * than by MJML at compile time, so that it can only ever read a file inside the templates folder:
 * the path is taken relative to the file that includes it (as MJML does), entities decoded (as
 * MJML's parser would), then resolved through symlinks; an absolute path, a path that leaves the
 * folder, or a symlink pointing out of it is refused with the including file and line.
 *
 * Each include becomes a Handlebars partial named `mj-include:<path under templates/>`: an MJML
 * include is a template like any partial (its fields are filled, its errors name its own file and
 * line); `type="css"` becomes an `<mj-style>` and `type="html"` an `<mj-raw>` of the file's text,
 * as MJML makes them, never run as a template.
 */

export interface IncludedFile {
  /** The partial name the include tag was replaced with. */
  name: string;
  absolute: string;
  source: string;
  kind: 'mjml' | 'css' | 'html';
}

const INCLUDE = /<mj-include\b((?:[^>"']|"[^"]*"|'[^']*')*?)\/?>(?:\s*<\/mj-include>)?/g;
const ATTRIBUTE = /([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const MAX_DEPTH = 10;
/** Marks the `<mj-style>` of a CSS include, which MJML places in the head wherever the include is. */
const HOIST = 'data-mj-include-css';
const HOISTED = new RegExp(`<mj-style ${HOIST}( inline="inline")?>([\\s\\S]*?)</mj-style>`, 'g');

/**
 * Moves the stylesheets of CSS includes into `<mj-head>`, as MJML's own mj-include does, without
 * changing any line number of the MJML (its errors are mapped back to template lines): each is
 * replaced by as many line breaks as it had, and joined onto the line that closes the head.
 */
export function hoistIncludedStyles(mjml: string): string {
  if (!mjml.includes(HOIST)) return mjml;
  const styles: string[] = [];
  const rest = mjml.replace(HOISTED, (whole, inline: string | undefined, css: string) => {
    styles.push(`<mj-style${inline ?? ''}>${css.replace(/\s*\n\s*/g, ' ')}</mj-style>`);
    return '\n'.repeat(whole.split('\n').length - 1);
  });
  const head = rest.indexOf('</mj-head>');
  if (head >= 0) return rest.slice(0, head) + styles.join('') + rest.slice(head);
  const open = /<mjml\b[^>]*>/.exec(rest);
  if (!open) return rest;
  const at = open.index + open[0].length;
  return `${rest.slice(0, at)}<mj-head>${styles.join('')}</mj-head>${rest.slice(at)}`;
}
const MAX_BYTES = 1024 * 1024;

/** Entities decoded as MJML's parser (and a browser, for an attribute) would. */
export function decodeEntities(value: string): string {
  return value.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi, (_, dec: string, hex: string, name: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name.toLowerCase() as 'amp']!;
  });
}

export function lineAt(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/** Whether `file` is strictly under `root` (both resolved). */
export function inside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * MJML's wrapper of a whole document (`<mjml><mj-body>…</mj-body></mjml>`) is dropped from an
 * included file, leaving the sections; each tag is blanked in place so line numbers still match.
 */
function unwrap(source: string): string {
  return source.replace(/<\/?mjml\b[^>]*>|<\/?mj-body\b[^>]*>/g, '');
}

/** Replaces every `<mj-include>` of `source` with a partial call; returns the files to register. */
export function expandIncludes(source: string, absolute: string, templatesDir: string, cwd: string, depth = 0, seen: readonly string[] = []): { source: string; files: IncludedFile[] } {
  const file = displayPath(absolute, cwd);
  const files: IncludedFile[] = [];
  let root: string;
  try {
    root = realpathSync(templatesDir);
  } catch {
    root = path.resolve(templatesDir);
  }
  const expanded = source.replace(INCLUDE, (tag, attributes: string, offset: number) => {
    const line = lineAt(source, offset);
    const attrs = new Map([...attributes.matchAll(ATTRIBUTE)].map((m) => [m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? '')]));
    const written = attrs.get('path');
    const place = { file, line };
    if (!written) throw new NewsletterError('TEMPLATE_SYNTAX', '<mj-include> has no `path`', place);
    const kind = (attrs.get('type') ?? 'mjml').toLowerCase();
    if (kind !== 'mjml' && kind !== 'css' && kind !== 'html') {
      throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include type="${kind}">: expected mjml, css or html`, place);
    }
    if (path.isAbsolute(written) || /^[a-z]:|^[\\/]|\0/i.test(written)) {
      throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include path="${written}">: an absolute path is refused; write it relative to this file, inside the templates folder`, place);
    }
    const base = path.resolve(path.dirname(absolute), written);
    const candidates = kind === 'mjml' && path.extname(base) !== '.mjml' ? [base, `${base}.mjml`] : [base];
    let real: string | null = null;
    for (const candidate of candidates) {
      try {
        real = realpathSync(candidate);
        if (statSync(real).isFile()) break;
        real = null;
      } catch {
        real = null;
      }
    }
    if (real === null) {
      // Say "outside" before "missing": whether a file exists outside the folder is not for a template to learn.
      if (!inside(path.resolve(templatesDir), base)) {
        throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include path="${written}"> is outside the templates folder; only files under it can be included`, place);
      }
      throw new NewsletterError('TEMPLATE_NOT_FOUND', `<mj-include path="${written}">: no such file (looked for ${candidates.map((c) => displayPath(c, cwd)).join(', ')})`, place);
    }
    if (!inside(root, real)) {
      throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include path="${written}"> is outside the templates folder (through a symlink or \`..\`); only files under it can be included`, place);
    }
    if (seen.includes(real) || real === absolute) throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include path="${written}"> includes itself`, place);
    if (depth >= MAX_DEPTH) throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include path="${written}">: includes nested more than ${MAX_DEPTH} deep`, place);
    if (statSync(real).size > MAX_BYTES) throw new NewsletterError('TEMPLATE_SYNTAX', `<mj-include path="${written}">: the file is over 1 MB`, place);
    const text = readFileSync(real, 'utf8').replace(/\r\n?/g, '\n');
    const name = `mj-include:${path.relative(root, real).split(path.sep).join('/')}`;
    if (kind === 'mjml') {
      const nested = expandIncludes(unwrap(text), real, templatesDir, cwd, depth + 1, [...seen, absolute]);
      files.push({ name, absolute: real, source: nested.source, kind }, ...nested.files);
    } else {
      files.push({ name, absolute: real, source: text, kind });
    }
    const call = `{{> "${name}"}}`;
    const wrapped = kind === 'css' ? `<mj-style ${HOIST}${attrs.get('css-inline') === 'inline' ? ' inline="inline"' : ''}>${call}</mj-style>` : kind === 'html' ? `<mj-raw>${call}</mj-raw>` : call;
    // Keep the including file's line numbers: the tag's line breaks stay.
    return wrapped + '\n'.repeat(tag.split('\n').length - 1);
  });
  return { source: expanded, files };
}
