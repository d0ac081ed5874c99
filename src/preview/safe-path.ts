import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from './change-plan.js';

/**
 * The preview answers only its own routes and files inside the content, templates and output
 * folders. A URL path is split into decoded segments first, and any segment that could climb out
 * (`..`, `.`, an encoded `/` or `\`, a NUL, an empty segment from `//`) makes the whole request a 404.
 */

/** Decoded path segments, or null when the path is not one we would ever serve. */
export function urlSegments(pathname: string): string[] | null {
  if (!pathname.startsWith('/')) return null;
  const raw = pathname.slice(1).split('/');
  const segments: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const part = raw[i]!;
    // A trailing slash is allowed (`/issues/weekly-1/`); an empty segment elsewhere is `//`.
    if (part === '') {
      if (i === raw.length - 1) continue;
      return null;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded)) return null;
    segments.push(decoded);
  }
  return segments;
}

/**
 * The file `segments` names inside `root`, or null when it does not exist, is not a regular file,
 * is hidden, or resolves (through a symlink) to somewhere outside the root.
 */
export async function fileInside(root: string, segments: readonly string[]): Promise<string | null> {
  if (!segments.length || segments.some((segment) => segment.startsWith('.'))) return null;
  const candidate = path.resolve(root, ...segments);
  if (!isInside(path.resolve(root), candidate)) return null;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!isInside(realRoot, realFile)) return null;
    return (await stat(realFile)).isFile() ? realFile : null;
  } catch {
    return null;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.mjml': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.eml': 'message/rfc822',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.avif': 'image/avif',
  '.xml': 'application/xml; charset=utf-8',
  '.ico': 'image/x-icon',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
