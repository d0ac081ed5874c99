import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../../errors.js';
import { displayPath } from '../../fs/display-path.js';
import { readContentBytes } from '../../content/read-file.js';
import { stripMetadata } from './strip-metadata.js';

/**
 * One local image made fit for mail clients, once: resized to at most `maxWidth` (2× the width
 * it is shown at), turned upright from its EXIF orientation, re-encoded in a format every client
 * shows (SVG rasterized to PNG, WebP/AVIF/HEIC/TIFF to JPEG or PNG, animated GIF kept as GIF),
 * with every piece of metadata stripped: no EXIF, GPS position or camera serial leaves the machine.
 *
 * Results are cached by content hash, in memory and in `cacheDir`, so a second build or a preview
 * reload pays only for reading and hashing the source.
 */

/** Bump when the processing changes, so cached results of the old processing are not reused. */
const PROCESS_VERSION = 3;

export interface ProcessedImage {
  /** Content hash of the source and the processing: the cache key, part of the file name. */
  key: string;
  /** File name under `assets/`: `<source name>-<hash>.<ext>`. */
  name: string;
  /** The processed file, in the cache folder. */
  file: string;
  contentType: string;
  /** Pixel size of the processed file. */
  width: number;
  height: number;
  /** Width of the source in CSS pixels (an SVG's own width), to show it no larger than it was drawn. */
  sourceWidth: number;
  bytes: number;
}

export interface ProcessOptions {
  maxWidth: number;
  cacheDir: string;
  /** The content folder: only images inside it are read. */
  root: string;
  /** The request's working folder, which paths in errors are shown relative to. */
  cwd: string;
}

const memory = new Map<string, Promise<ProcessedImage>>();
const MAX_MEMORY_ENTRIES = 2_000;

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | null = null;
/** sharp loads libvips (~100 ms): only when an issue has a local image. */
function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

function safeBaseName(file: string): string {
  return (
    path
      .basename(file, path.extname(file))
      .normalize('NFKD')
      .replace(/[^\w-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase()
      .slice(0, 40) || 'image'
  );
}

async function writeAtomically(file: string, content: Buffer | string): Promise<void> {
  const temporary = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

async function fromDiskCache(cacheDir: string, key: string): Promise<ProcessedImage | null> {
  try {
    const meta = JSON.parse(await readFile(path.join(cacheDir, `${key}.json`), 'utf8')) as ProcessedImage;
    // The metadata is written after the image, so an image named by it is complete.
    return { ...meta, file: path.join(cacheDir, meta.name) };
  } catch {
    return null;
  }
}

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({ jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif' });

type SourceMetadata = Awaited<ReturnType<ReturnType<Sharp>['metadata']>>;

interface Encoded {
  data: Buffer;
  ext: 'jpg' | 'png' | 'gif';
  width: number;
  height: number;
  sourceWidth: number;
  /** What sharp read of the source. */
  meta: SourceMetadata;
}

async function encode(source: Buffer, absolute: string, maxWidth: number, cwd: string): Promise<Encoded> {
  const sharp = await loadSharp();
  const file = displayPath(absolute, cwd);
  const fail = (why: string, cause?: unknown) => new NewsletterError('CONTENT_INVALID', `image \`${file}\` cannot be used: ${why}`, { file, cause });
  let meta: SourceMetadata;
  try {
    meta = await sharp(source, { animated: true }).metadata();
  } catch (error) {
    throw fail(`not an image this tool can read (${(error as Error).message})`, error);
  }
  const format = meta.format;
  const upright = (meta.orientation ?? 1) >= 5 ? meta.height : meta.width;
  const sourceWidth = upright ?? maxWidth;
  const resize = { width: maxWidth, withoutEnlargement: true } as const;
  try {
    if (format === 'svg') {
      // Gmail and Outlook show no SVG: rasterize, sharp at twice its size (up to maxWidth).
      const intrinsic = meta.width ?? maxWidth / 2;
      const target = Math.min(maxWidth, intrinsic * 2);
      const density = Math.max(1, Math.min(2400, (72 * target) / intrinsic));
      const { data, info } = await sharp(source, { density }).resize({ width: Math.round(target), withoutEnlargement: false }).png({ compressionLevel: 9 }).toBuffer({ resolveWithObject: true });
      return { data, ext: 'png', width: info.width, height: info.height, sourceWidth, meta };
    }
    if (format === 'gif') {
      const { data, info } = await sharp(source, { animated: true }).resize(resize).gif().toBuffer({ resolveWithObject: true });
      return { data, ext: 'gif', width: info.width, height: info.pageHeight ?? info.height, sourceWidth, meta };
    }
    const image = sharp(source).rotate().resize(resize);
    const keepsAlpha = meta.hasAlpha && format !== 'jpeg';
    if (format === 'png' || keepsAlpha) {
      const { data, info } = await image.png({ compressionLevel: 9 }).toBuffer({ resolveWithObject: true });
      return { data, ext: 'png', width: info.width, height: info.height, sourceWidth, meta };
    }
    // JPEG, and opaque WebP, AVIF, HEIC, TIFF: JPEG, which every client shows.
    const { data, info } = await image.flatten({ background: '#ffffff' }).jpeg({ quality: 82, progressive: true, mozjpeg: false }).toBuffer({ resolveWithObject: true });
    return { data, ext: 'jpg', width: info.width, height: info.height, sourceWidth, meta };
  } catch (error) {
    throw fail((error as Error).message, error);
  }
}

/**
 * Re-encoding can make an image larger: a GIF optimised by its maker comes out 4–12% larger, a
 * well-compressed PNG or JPEG too. When the source needs no resize, no rotation and no colour
 * conversion, and is a format every client shows, its own bytes are kept, with the metadata
 * stripped without decoding them (strip-metadata.ts), if that is smaller than the re-encoded image.
 */
function smallerOriginal(source: Buffer, maxWidth: number, encoded: Encoded): Encoded | null {
  const { meta } = encoded;
  const format = meta.format;
  if (format !== 'gif' && format !== 'png' && format !== 'jpeg') return null;
  if (!meta.width || !meta.height || meta.width > maxWidth) return null;
  // Turned upright from its EXIF orientation, or converted from CMYK (which some clients cannot show): the re-encode is needed.
  if (format === 'jpeg' && ((meta.orientation ?? 1) !== 1 || (meta.space !== 'srgb' && meta.space !== 'b-w'))) return null;
  const stripped = stripMetadata(source, format);
  if (!stripped || stripped.length >= encoded.data.length) return null;
  const height = format === 'gif' ? (meta.pageHeight ?? meta.height) : meta.height;
  return { ...encoded, data: stripped, ext: format === 'jpeg' ? 'jpg' : format, width: meta.width, height };
}

async function processFresh(absolute: string, source: Buffer, key: string, options: ProcessOptions): Promise<ProcessedImage> {
  const cached = await fromDiskCache(options.cacheDir, key);
  if (cached) return cached;
  const encoded = await encode(source, absolute, options.maxWidth, options.cwd);
  const { data, ext, width, height, sourceWidth } = smallerOriginal(source, options.maxWidth, encoded) ?? encoded;
  const name = `${safeBaseName(absolute)}-${key.slice(0, 12)}.${ext}`;
  const image: ProcessedImage = { key, name, file: path.join(options.cacheDir, name), contentType: CONTENT_TYPES[ext]!, width, height, sourceWidth, bytes: data.length };
  try {
    await mkdir(options.cacheDir, { recursive: true });
    await writeAtomically(image.file, data);
    await writeAtomically(path.join(options.cacheDir, `${key}.json`), JSON.stringify({ ...image, file: undefined }));
  } catch (error) {
    const file = displayPath(options.cacheDir, options.cwd);
    throw new NewsletterError('OUTPUT_WRITE', `cannot write the image cache \`${file}\`: ${(error as Error).message}`, { file, cause: error });
  }
  return image;
}

/**
 * A warm build must not read and hash every camera original again (ten 12 MB photos take ~1 s):
 * the file's path, size and modification time point at the content hash computed last time.
 */
async function statKey(absolute: string, maxWidth: number): Promise<string | null> {
  try {
    const info = await stat(absolute);
    return createHash('sha256').update(`${PROCESS_VERSION}\n${maxWidth}\n${absolute}\n${info.size}\n${info.mtimeMs}\n${info.ino}`).digest('hex').slice(0, 32);
  } catch {
    return null;
  }
}

export async function processImage(absolute: string, options: ProcessOptions, generated?: string): Promise<ProcessedImage> {
  const display = displayPath(absolute, options.cwd);
  const byStat = generated === undefined ? await statKey(absolute, options.maxWidth) : null;
  if (byStat) {
    const known = await readFile(path.join(options.cacheDir, 'by-stat', byStat), 'utf8').catch(() => null);
    const cached = known && /^[0-9a-f]{32}$/.test(known) ? await fromDiskCache(options.cacheDir, known) : null;
    if (cached) return cached;
  }
  const source = generated !== undefined ? Buffer.from(generated, 'utf8') : await readContentBytes(absolute, display, options.root);
  if (source === null) throw new NewsletterError('CONTENT_NOT_FOUND', `image \`${display}\` does not exist`, { file: display });
  const key = createHash('sha256').update(`${PROCESS_VERSION}\n${options.maxWidth}\n`).update(source).digest('hex').slice(0, 32);
  const memoKey = `${options.cacheDir}\n${key}`;
  let result = memory.get(memoKey);
  if (!result) {
    if (memory.size >= MAX_MEMORY_ENTRIES) memory.clear();
    result = processFresh(absolute, source, key, options);
    memory.set(memoKey, result);
  }
  {
    if (byStat) {
      const pointer = byStat;
      result.then(
        () => mkdir(path.join(options.cacheDir, 'by-stat'), { recursive: true }).then(() => writeAtomically(path.join(options.cacheDir, 'by-stat', pointer), key)),
        () => undefined,
      ).catch(() => undefined); // only a shortcut: without it the next build hashes the file again
    }
    // A failure is not remembered: the next build tries again (the file may have been fixed).
    result.catch(() => memory.delete(memoKey));
  }
  return result;
}
