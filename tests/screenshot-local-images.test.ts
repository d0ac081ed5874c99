import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { journeyProject } from './helpers/journey-project.js';

/**
 * Screenshots show local images (issue 18, item 8), answered from the image cache as the preview
 * does, while every network request is still refused. Needs Chromium (apt-get install chromium).
 *
 * The lead image of the Harbour Letter is a gradient whose blue channel is 160 everywhere, red
 * rising left to right and green top to bottom: the PNG is read back with sharp (not with the
 * code under test) and its pixels counted.
 */

let server: http.Server;
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'image/png' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

/** Pixels of the lead image's gradient in an RGB(A) picture. */
async function gradientPixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  let count = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (Math.abs(b - 160) <= 12 && g >= 70 && g <= 170 && r >= 10 && r <= 220 && Math.abs(r - g) > 3) count++;
  }
  return count;
}

describe('newsletter screenshot, local images', () => {
  it('shows the local lead image and still asks the network for nothing', async () => {
    const dir = await journeyProject();
    const remote = `http://127.0.0.1:${(server.address() as AddressInfo).port}/map.png`;
    const article = path.join(dir, 'content/articles/ferry/index.md');
    await writeFile(article, `${await readFile(article, 'utf8')}\n![A map of the crossing](${remote})\n`);
    const run = await runCli(['screenshot', 'harbour-1', '--width', '600', '--out', 'shots'], { cwd: dir, timeoutMs: 90_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // The remote image was refused, not fetched; the local one was not counted as blocked.
    expect(requests).toEqual([]);
    expect(run.stdout).toMatch(/harbour-1-600\.png {2}600×\d+ {2}1 network request blocked$/m);
    const png = await readFile(path.join(dir, 'shots/harbour-1-600.png'));
    // The image is shown 64×40 CSS pixels: most of its 2,560 pixels are in the picture.
    expect(await gradientPixels(png)).toBeGreaterThan(2000);
  }, 120_000);
});
