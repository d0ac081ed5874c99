import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '../src/render/images/process-image.js';
import { checkProjectIssue, loadProject } from '../src/index.js';
import { FIXTURES, ROOT } from './helpers/cli.js';

/**
 * An image that re-encoding would make larger keeps its own bytes, metadata stripped without
 * decoding; and an issue whose linked images are very heavy gets a finding.
 */

async function processed(bytes: Buffer, name: string, maxWidth = 1200): Promise<{ out: Buffer; width: number; height: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-image-size-'));
  await writeFile(path.join(dir, name), bytes);
  const image = await processImage(path.join(dir, name), { maxWidth, cacheDir: path.join(dir, '.cache'), root: dir, cwd: dir });
  return { out: await readFile(image.file), width: image.width, height: image.height };
}

const W = 200;
const H = 120;
const FRAMES = 6;

/** Six frames of a box moving over stripes, four colours: the kind of GIF its maker optimised. */
function frames(): Buffer {
  const raw = Buffer.alloc(W * H * FRAMES * 3);
  for (let f = 0; f < FRAMES; f++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const moving = y > 40 && y < 80 && x > f * 25 && x < f * 25 + 30;
        const colour = moving ? [220, 80, 40] : (Math.floor(x / 9) + Math.floor(y / 11)) % 2 ? [20, 60, 140] : [30, 160, 90];
        raw.set(colour, ((f * H + y) * W + x) * 3);
      }
    }
  }
  return raw;
}

function animatedGif(): Promise<Buffer> {
  return sharp(frames(), { raw: { width: W, height: H * FRAMES, channels: 3, pageHeight: H } })
    .gif({ colours: 4, dither: 0, effort: 10, loop: 0, delay: 100 })
    .toBuffer();
}

/** What process-image does to a GIF it re-encodes. */
function reencodedGif(gif: Buffer): Promise<Buffer> {
  return sharp(gif, { animated: true }).resize({ width: 1200, withoutEnlargement: true }).gif().toBuffer();
}

function subBlocks(text: string): Buffer {
  const data = Buffer.from(text, 'latin1');
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += 255) {
    const chunk = data.subarray(at, at + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** The GIF with a comment and an XMP application extension after its global colour table. */
function withGifMetadata(gif: Buffer): Buffer {
  const flags = gif[10]!;
  const at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  const comment = Buffer.concat([Buffer.from([0x21, 0xfe]), subBlocks('Made by Ann Author at 51.5074 N, 0.1278 W')]);
  const xmp = Buffer.concat([Buffer.from([0x21, 0xff, 0x0b]), Buffer.from('XMP DataXMP', 'latin1'), subBlocks('<x:xmpmeta><dc:creator>Ann Author</dc:creator></x:xmpmeta>')]);
  return Buffer.concat([gif.subarray(0, at), comment, xmp, gif.subarray(at)]);
}

function pngChunks(png: Buffer): { type: string; data: Buffer }[] {
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at + 12 <= png.length; ) {
    const length = png.readUInt32BE(at);
    chunks.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const STILL = () => sharp(frames().subarray(0, W * H * 3), { raw: { width: W, height: H, channels: 3 } });
const EXIF = { IFD0: { Copyright: 'Fixture Studio', Artist: 'Ann Author' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } };

describe('an image re-encoded larger than its original', () => {
  it('an animated GIF keeps its own bytes, its comment and XMP dropped, its frames and looping kept', async () => {
    const original = await animatedGif();
    // The case of the issue: sharp's re-encode of a maker-optimised GIF is larger.
    expect((await reencodedGif(original)).length).toBeGreaterThan(original.length);
    const source = withGifMetadata(original);
    const { out, width, height } = await processed(source, 'moving.gif');
    expect(out.equals(original)).toBe(true);
    expect(out.includes(Buffer.from('Ann Author'))).toBe(false);
    const meta = await sharp(out, { animated: true }).metadata();
    expect([meta.pages, meta.loop, width, height]).toEqual([FRAMES, 0, W, H]);
  });

  it('a GIF with nothing to strip is kept byte for byte; one wider than the email is still resized', async () => {
    const original = await animatedGif();
    expect((await processed(original, 'plain.gif')).out.equals(original)).toBe(true);
    const narrow = await processed(original, 'plain.gif', 100);
    expect([narrow.width, (await sharp(narrow.out, { animated: true }).metadata()).pages]).toEqual([100, FRAMES]);
  });

  it('a palette PNG keeps its pixel data, its EXIF (with GPS) and text chunks dropped', async () => {
    const exifPng = await STILL().png({ palette: true, compressionLevel: 9 }).withExif(EXIF).toBuffer();
    expect((await sharp(exifPng).metadata()).exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true); // the GPS IFD pointer
    const end = exifPng.length - 12; // before IEND
    const source = Buffer.concat([exifPng.subarray(0, end), pngChunk('tEXt', Buffer.from('Author\0Ann Author', 'latin1')), pngChunk('tIME', Buffer.from([7, 234, 3, 2, 10, 0, 0])), exifPng.subarray(end)]);
    const { out } = await processed(source, 'chart.png');
    const kept = pngChunks(out);
    expect(kept.map((c) => c.type)).toEqual(pngChunks(source).map((c) => c.type).filter((type) => !['eXIf', 'tEXt', 'tIME'].includes(type)));
    expect(Buffer.concat(kept.filter((c) => c.type === 'IDAT').map((c) => c.data)).equals(Buffer.concat(pngChunks(source).filter((c) => c.type === 'IDAT').map((c) => c.data)))).toBe(true);
    expect((await sharp(out).metadata()).exif).toBeUndefined();
    expect(out.includes(Buffer.from('Ann Author'))).toBe(false);
  });

  it('a JPEG smaller than its re-encode keeps its pixels exactly, with no EXIF or GPS', async () => {
    const source = await STILL().jpeg({ quality: 50 }).withExif(EXIF).toBuffer();
    const sourceMeta = await sharp(source).metadata();
    expect(sourceMeta.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true);
    expect((await sharp(source).rotate().jpeg({ quality: 82, progressive: true }).toBuffer()).length).toBeGreaterThan(source.length);
    const { out } = await processed(source, 'photo.jpg');
    expect(out.length).toBeLessThan(source.length);
    const meta = await sharp(out).metadata();
    expect(meta.exif).toBeUndefined();
    expect(out.includes(Buffer.from('Fixture Studio'))).toBe(false);
    expect((await sharp(out).raw().toBuffer()).equals(await sharp(source).raw().toBuffer())).toBe(true);
  });
});

describe('size/hosted-images', () => {
  it('warns when the linked local images of an issue weigh more than 2 MB', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-hosted-size-'));
    const fixture = path.join(FIXTURES, 'template-images');
    await cp(path.join(fixture, 'content'), path.join(dir, 'content'), { recursive: true });
    await cp(path.join(fixture, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
    await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
    await mkdir(path.join(dir, 'content/articles/heavy'));
    // Noise does not compress: about 2.5 MB as PNG, under the 1200 px the email needs.
    const noise = randomBytes(1100 * 760 * 3);
    await sharp(noise, { raw: { width: 1100, height: 760, channels: 3 } }).png({ compressionLevel: 9 }).toFile(path.join(dir, 'content/articles/heavy/noise.png'));
    await writeFile(path.join(dir, 'content/articles/heavy/index.md'), '---\ntitle: Heavy\ndate: 2026-03-02\n---\nA picture.\n\n![Static](noise.png)\n');
    await writeFile(path.join(dir, 'content/issues/heavy.md'), '---\nsubject: Heavy\narticles:\n  - heavy\n---\nIntro.\n');
    const { findings } = await checkProjectIssue(await loadProject({ cwd: dir }), 'heavy');
    const found = findings.filter((f) => f.rule === 'size/hosted-images');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: path.join('content', 'issues', 'heavy.md') });
    expect(found[0]!.message).toMatch(/the 1 local images of this issue weigh \d+\.\d KB.*largest: `noise-[0-9a-f]{12}\.png`/);
  });
});
