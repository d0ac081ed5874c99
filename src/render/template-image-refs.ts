import { randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { decodeEntities, inside, lineAt } from './mj-include.js';

/**
 * Images a template writes as a path next to it, as the MJML gallery does: `<mj-image
 * src="./img/logo.png">`, `<img src="img/x.png">`, `background-url="./img/bg.jpg"`,
 * `<mj-social-element src>`, `url(./img/x.png)` in an `<mj-style>` or a `style` attribute. Sent
 * as written they are broken in every inbox, so at template load each is resolved relative to the
 * file that writes it, inside the templates folder only (through symlinks, as mj-include.ts does),
 * and its written value replaced by a marker. The image stage processes the file like an article
 * image (images/template-images.ts) and puts its URL or `cid:` where the marker is, after
 * Handlebars runs and before MJML compiles.
 *
 * Left as written: a value with `{{` (filled at render time), a URL with a scheme (`https:`,
 * `cid:`, `data:`), `//host/…`, `#…`, and anything inside a comment. An absolute path, a path
 * leaving the folder or a missing file is an error at the template's file and line.
 */

export interface TemplateImageRef {
  /** Index in `TemplateImageRefs.all`, spelt into the marker. */
  index: number;
  /** The value as the template writes it. */
  written: string;
  /** The image file (symlinks resolved), inside the templates folder. */
  absolute: string;
  /** The template that writes it, as shown in messages, and the line. */
  file: string;
  line: number;
}

export interface TemplateImageRefs {
  /** Random per load, so no article text can spell a marker. */
  nonce: string;
  all: TemplateImageRef[];
  /** The refs each template file writes (by `TemplateFile.file`). */
  byFile: Map<string, TemplateImageRef[]>;
}

export function createTemplateImageRefs(): TemplateImageRefs {
  return { nonce: randomBytes(8).toString('hex'), all: [], byFile: new Map() };
}

/** What stands in the template for an image's value until the image stage places it. */
export const MARKER_PATTERN = 'nltplimg(\\d+)x([0-9a-f]{16})';
/** The same, without groups, for a pattern that matches any marker. */
export const ANY_MARKER = 'nltplimg\\d+x[0-9a-f]{16}';

function marker(refs: TemplateImageRefs, index: number): string {
  return `nltplimg${index}x${refs.nonce}`;
}

/** Attributes holding an image URL, by tag; `mj-*` covers MJML's `background-url` on any element. */
const IMAGE_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  img: ['src'],
  'mj-image': ['src'],
  'mj-social-element': ['src'],
  'mj-carousel-image': ['src', 'thumbnails-src'],
  'mj-carousel': ['left-icon', 'right-icon'],
  'mj-accordion': ['icon-wrapped-url', 'icon-unwrapped-url'],
  'mj-accordion-element': ['icon-wrapped-url', 'icon-unwrapped-url'],
  'v:image': ['src'],
  'v:fill': ['src'],
  // Outlook's bulletproof backgrounds write the HTML 4 attribute.
  table: ['background'],
  td: ['background'],
  th: ['background'],
  body: ['background'],
});

function isImageAttribute(tag: string, attribute: string): boolean {
  if (attribute === 'background-url' && tag.startsWith('mj-')) return true;
  return IMAGE_ATTRIBUTES[tag]?.includes(attribute) ?? false;
}

/** Only these are images when written in CSS: `url()` also names fonts and stylesheets. */
const CSS_IMAGE = /\.(?:png|jpe?g|gif|webp|avif|svg|tiff?|heic|heif|bmp)$/i;

const TAG = /<([a-zA-Z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
const ATTRIBUTE = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;
const STYLE_BLOCK = /(<(mj-style|style)\b(?:[^>"']|"[^"]*"|'[^']*')*>)([\s\S]*?)<\/\2\s*>/gi;
const CSS_URL = /(@import\s*)?url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]+))\s*\)/gi;

/**
 * Comments blanked (line breaks kept), so offsets in the result are offsets in the source. Not
 * Outlook's conditional comments (`<!--[if mso]>…<![endif]-->`): they hold its VML backgrounds.
 */
function withoutComments(source: string): string {
  return source.replace(/\{\{!--[\s\S]*?--\}\}|\{\{![\s\S]*?\}\}|<!--(?!\s*\[if\b|<!)[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

/** A value the image stage should place: a path, not a URL, not filled in at render time. */
function isLocalPath(value: string): boolean {
  const trimmed = value.trim();
  if (!trimmed || trimmed.includes('{{')) return false;
  return !/^(?:[a-z][a-z0-9+.-]*:|\/\/|#)/i.test(trimmed) || /^[a-z]:[\\/]/i.test(trimmed);
}

interface Found {
  start: number;
  end: number;
  value: string;
}

/** The spans of image values in CSS text that starts at `offset` of the source. */
function cssUrls(css: string, offset: number): Found[] {
  const found: Found[] = [];
  for (const match of css.matchAll(CSS_URL)) {
    if (match[1]) continue; // @import url(…) is a stylesheet
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    if (!CSS_IMAGE.test(value.replace(/[?#].*$/, '').trim())) continue;
    const start = offset + match.index + match[0].indexOf(value, match[0].indexOf('(') + 1);
    found.push({ start, end: start + value.length, value });
  }
  return found;
}

function htmlImages(masked: string): Found[] {
  const found: Found[] = [];
  for (const tag of masked.matchAll(TAG)) {
    const name = tag[1]!.toLowerCase();
    const attributesAt = tag.index + 1 + tag[1]!.length;
    for (const attribute of tag[2]!.matchAll(ATTRIBUTE)) {
      const key = attribute[1]!.toLowerCase();
      const value = attribute[2] ?? attribute[3] ?? attribute[4] ?? '';
      const valueAt = attributesAt + attribute.index + attribute[0].length - value.length - (attribute[4] === undefined ? 1 : 0);
      if (key === 'style') found.push(...cssUrls(value, valueAt));
      else if (isImageAttribute(name, key)) found.push({ start: valueAt, end: valueAt + value.length, value });
    }
  }
  for (const block of masked.matchAll(STYLE_BLOCK)) {
    found.push(...cssUrls(block[3]!, block.index + block[1]!.length));
  }
  return found;
}

/** The written value as a file path: entities and percent-escapes decoded, query and fragment dropped. */
function filePart(written: string): string {
  const decoded = decodeEntities(written.trim()).replace(/[?#].*$/, '');
  try {
    return decodeURIComponent(decoded);
  } catch {
    return decoded;
  }
}

function resolveImage(written: string, templateFile: string, templatesDir: string, place: { file: string; line: number }, cwd: string): string {
  const relative = filePart(written);
  if (path.isAbsolute(relative) || /^[a-z]:|^[\\/]|\0/i.test(relative)) {
    throw new NewsletterError('TEMPLATE_SYNTAX', `image \`${written}\`: an absolute path is refused; write it relative to this file, inside the templates folder, or as a full https URL`, place);
  }
  const base = path.resolve(path.dirname(templateFile), relative);
  let root: string;
  try {
    root = realpathSync(templatesDir);
  } catch {
    root = path.resolve(templatesDir);
  }
  let real: string | null;
  try {
    real = realpathSync(base);
    if (!statSync(real).isFile()) real = null;
  } catch {
    real = null;
  }
  // "Outside" before "missing": whether a file exists outside the folder is not for a template to learn.
  if (!inside(path.resolve(templatesDir), base) || (real !== null && !inside(root, real))) {
    throw new NewsletterError('TEMPLATE_SYNTAX', `image \`${written}\` is outside the templates folder; only images under it can be used (or write a full https URL)`, place);
  }
  if (real === null) {
    throw new NewsletterError('TEMPLATE_NOT_FOUND', `image \`${written}\`: no such file (looked for ${displayPath(base, cwd)})`, {
      ...place,
      hint: 'a template image is taken relative to the template file that writes it',
    });
  }
  return real;
}

/**
 * Replaces each local image of one template file's text by a marker and records it. `kind`: what
 * the text is (an MJML template or HTML include is scanned for tags and style blocks, a CSS
 * include as a stylesheet). Throws, at the image's line, for a path that cannot be used.
 */
export function markTemplateImages(refs: TemplateImageRefs, source: string, absolute: string, kind: 'mjml' | 'html' | 'css', templatesDir: string, cwd: string): string {
  const masked = withoutComments(source);
  const found = (kind === 'css' ? cssUrls(masked, 0) : htmlImages(masked)).filter((f) => isLocalPath(f.value)).sort((a, b) => a.start - b.start);
  if (!found.length) return source;
  const file = displayPath(absolute, cwd);
  const mine: TemplateImageRef[] = [];
  let out = '';
  let last = 0;
  for (const { start, end, value } of found) {
    if (start < last) continue; // a style block inside a scanned tag's attribute: already taken
    const line = lineAt(source, start);
    const ref: TemplateImageRef = { index: refs.all.length, written: value, absolute: resolveImage(value, absolute, templatesDir, { file, line }, cwd), file, line };
    refs.all.push(ref);
    mine.push(ref);
    out += source.slice(last, start) + marker(refs, ref.index);
    last = end;
  }
  refs.byFile.set(file, [...(refs.byFile.get(file) ?? []), ...mine]);
  return out + source.slice(last);
}
