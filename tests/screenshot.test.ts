import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { findChromium } from '../src/browser.js';
import { NewsletterError } from '../src/errors.js';
import { copyPreviewProject } from './helpers/preview-project.js';
import { memoryIo } from './helpers/memory-io.js';

// `newsletter screenshot` in the system Chromium, with a local image server that must never be
// asked for the article's image: screenshots are taken with the network blocked.

let project: Awaited<ReturnType<typeof copyPreviewProject>>;
let imageServer: http.Server;
const imageRequests: string[] = [];

/** Reads a PNG's IHDR and the RGB of its top-left pixel, without trusting the code under test. */
function readPng(png: Buffer): { width: number; height: number; topLeft: [number, number, number] } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(png.toString('latin1', 12, 16)).toBe('IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const bitDepth = png.readUInt8(24);
  const colorType = png.readUInt8(25);
  expect({ bitDepth, rgb: colorType === 2 || colorType === 6 }).toEqual({ bitDepth: 8, rgb: true });
  const idat: Buffer[] = [];
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT') idat.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  // Whatever the first row's filter, its first pixel has no left or upper neighbour: stored as is.
  return { width, height, topLeft: [raw[1]!, raw[2]!, raw[3]!] };
}


beforeAll(async () => {
  imageServer = http.createServer((request, response) => {
    imageRequests.push(request.url ?? '');
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', () => resolve()));
  project = await copyPreviewProject({ imageOrigin: `127.0.0.1:${(imageServer.address() as AddressInfo).port}` });
});

afterAll(async () => {
  await new Promise((resolve) => imageServer?.close(resolve));
  await project?.cleanup();
});

describe('newsletter screenshot', () => {
  it('writes full-page PNGs of the right widths with every network request blocked', async () => {
    const io = memoryIo(project.dir);
    const code = await main(['node', 'newsletter', 'screenshot', 'weekly-1', 'weekly-2', '--width', '375,600', '--out', 'shots'], io);
    expect({ code, stderr: io.err() }).toEqual({ code: 0, stderr: '' });

    const lines = io.out().trim().split('\n');
    expect(lines.map((line) => line.split(/\s+/)[0])).toEqual(['shots/weekly-1-375.png', 'shots/weekly-1-600.png', 'shots/weekly-2-375.png', 'shots/weekly-2-600.png']);
    for (const [slug, width] of [['weekly-1', 375], ['weekly-1', 600], ['weekly-2', 375], ['weekly-2', 600]] as const) {
      const png = readPng(await readFile(path.join(project.dir, 'shots', `${slug}-${width}.png`)));
      expect({ slug, width: png.width }).toEqual({ slug, width });
      // Full page: the whole email, taller than the 800 px viewport it was opened in.
      expect(png.height).toBeGreaterThan(800);
      const printed = lines.find((line) => line.startsWith(`shots/${slug}-${width}.png`));
      expect(printed).toContain(`${width}×${png.height}`);
    }
    // weekly-2's article has a remote image: the browser was refused it, and the server never saw it.
    expect(lines.find((line) => line.startsWith('shots/weekly-2-375.png'))).toMatch(/\d+ network requests? blocked$/);
    expect(imageRequests).toEqual([]);
  });

  it('shoots the dark-mode version with --dark', async () => {
    const theme = JSON.parse(await readFile(path.join(project.dir, 'templates/theme.json'), 'utf8')) as Record<'colors' | 'darkColors', { background: string }>;
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const io = memoryIo(project.dir);
    expect(await main(['node', 'newsletter', 'screenshot', 'weekly-1', '--dark', '--width', '600', '--out', 'shots'], io)).toBe(0);
    const dark = readPng(await readFile(path.join(project.dir, 'shots/weekly-1-600-dark.png')));
    const light = readPng(await readFile(path.join(project.dir, 'shots/weekly-1-600.png')));
    expect(dark.topLeft).toEqual(rgb(theme.darkColors.background));
    expect(light.topLeft).toEqual(rgb(theme.colors.background));
  });

  it('names the package to install when no Chromium is found', async () => {
    const io = memoryIo(project.dir, { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(await main(['node', 'newsletter', 'screenshot', 'weekly-1', '--out', 'shots-missing'], io)).toBe(1);
    expect(io.err()).toMatch(/^CHROMIUM_PATH is `\/nonexistent\/chromium`, which is not an executable file$/m);
    expect(io.err()).toMatch(/^ {2}hint: install it with `apt-get install chromium`/m);

    let thrown: unknown;
    try {
      findChromium({ PATH: '' }, []);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NewsletterError);
    expect((thrown as NewsletterError).code).toBe('BROWSER_NOT_FOUND');
    expect((thrown as NewsletterError).hint).toContain('apt-get install chromium');
  });

  it('rejects widths that are not pixel counts as a usage error', async () => {
    const io = memoryIo(project.dir);
    expect(await main(['node', 'newsletter', 'screenshot', 'weekly-1', '--width', '375,wide'], io)).toBe(2);
    expect(io.err()).toContain('`wide` is not a width from 200 to 2560 pixels');
  });
});
