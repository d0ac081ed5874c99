import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../browser.js';
import { measureOverflow, type Overflow } from '../checks/overflow.js';
import { NewsletterError } from '../errors.js';
import { renderProjectIssue, type Project } from '../project.js';
import type { RenderedIssue } from '../render/render-issue.js';

/**
 * Full-page PNGs of rendered issues in the system Chromium. Every network request is refused, so
 * a screenshot depends only on the files of the project: remote images show their alt text, and
 * the same input gives the same picture offline or on CI. Local images are shown, as the preview
 * shows them: answered from the image cache, never fetched from `{siteUrl}assets/`.
 */

/** Where the page asks for a local image; `.invalid` can never reach the network. */
const LOCAL_IMAGES = 'https://local-images.invalid/';

interface LocalImage {
  file: string;
  contentType: string;
}

/** The email with each local image (`{siteUrl}assets/…` or `cid:…`) at LOCAL_IMAGES, and what answers it. */
function withLocalImages(rendered: Pick<RenderedIssue, 'html' | 'assets'>): { html: string; images: Map<string, LocalImage> } {
  let html = rendered.html;
  const images = new Map<string, LocalImage>();
  for (const asset of rendered.assets) {
    const url = `${LOCAL_IMAGES}${encodeURIComponent(asset.name)}`;
    html = html.split(`"${asset.url}"`).join(`"${url}"`);
    images.set(url, { file: asset.file, contentType: asset.contentType });
  }
  return { html, images };
}

export interface ScreenshotRequest {
  project: Project;
  slugs: readonly string[];
  /** CSS pixel widths of the viewport; the PNG has the same width (device scale factor 1). */
  widths: readonly number[];
  outDir: string;
  /** Where CHROMIUM_PATH is read. */
  env: NodeJS.ProcessEnv;
  /** Emulate `prefers-color-scheme: dark`. */
  dark?: boolean;
  secret?: string | undefined;
}

export interface Screenshot {
  slug: string;
  width: number;
  /** The viewport width asked for; `pngWidth` is what the PNG really is (wider when the email overflows). */
  height: number;
  pngWidth: number;
  /** Set when the email is wider than the viewport: the page's width and the widest element. */
  overflow: Overflow | null;
  file: string;
  /** Network requests refused while the page loaded (remote images, web fonts). */
  blocked: number;
}

export const MIN_SCREENSHOT_WIDTH = 200;
export const MAX_SCREENSHOT_WIDTH = 2560;

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

export function screenshotFileName(slug: string, width: number, dark = false): string {
  return `${slug}-${width}${dark ? '-dark' : ''}.png`;
}

/** One page for every shot of a run: a new page costs a renderer process (~0.6 s). */
async function openShooter(browser: Browser, dark: boolean) {
  // No scripts, as in a mail client; the initial height is replaced by the email's by fullPage.
  const context = await browser.newContext({
    viewport: { width: 600, height: 800 },
    deviceScaleFactor: 1,
    javaScriptEnabled: false,
    colorScheme: dark ? 'dark' : 'light',
    reducedMotion: 'reduce',
  });
  let blocked = 0;
  let images = new Map<string, LocalImage>();
  await context.route('**/*', async (route) => {
    const local = images.get(route.request().url());
    if (local) {
      const body = await readFile(local.file).catch(() => null);
      if (body) return route.fulfill({ status: 200, contentType: local.contentType, body });
    }
    blocked += 1;
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  return {
    async shoot(rendered: Pick<RenderedIssue, 'html' | 'assets'>, width: number): Promise<{ png: Buffer; blocked: number; overflow: Overflow | null }> {
      const before = blocked;
      const local = withLocalImages(rendered);
      images = local.images;
      const html = local.html;
      await page.setViewportSize({ width, height: 800 });
      await page.setContent(html, { waitUntil: 'load', timeout: 30_000 });
      const measured = await measureOverflow(page, width);
      const png = await page.screenshot({ fullPage: true, type: 'png', animations: 'disabled', timeout: 30_000 });
      return { png, blocked: blocked - before, overflow: measured.scrollWidth > width ? measured : null };
    },
    close: () => context.close(),
  };
}

export async function takeScreenshots(request: ScreenshotRequest): Promise<Screenshot[]> {
  for (const width of request.widths) {
    if (!Number.isInteger(width) || width < MIN_SCREENSHOT_WIDTH || width > MAX_SCREENSHOT_WIDTH) {
      throw new NewsletterError('USAGE', `width \`${width}\` is out of range (${MIN_SCREENSHOT_WIDTH} to ${MAX_SCREENSHOT_WIDTH} pixels)`);
    }
  }
  // Render everything first: a content error is reported before a browser is started.
  const rendered = [];
  for (const slug of request.slugs) rendered.push((await renderProjectIssue(request.project, slug, request.secret)).rendered);

  try {
    await mkdir(request.outDir, { recursive: true });
  } catch (error) {
    throw new NewsletterError('OUTPUT_WRITE', `cannot create \`${request.outDir}\`: ${(error as Error).message}`, { file: request.outDir, cause: error });
  }
  const browser = await launchChromium(request.env);
  const shots: Screenshot[] = [];
  try {
    const shooter = await openShooter(browser, request.dark ?? false);
    for (const issue of rendered) {
      for (const width of request.widths) {
        const { png, blocked, overflow } = await shooter.shoot(issue, width);
        const file = path.join(request.outDir, screenshotFileName(issue.slug, width, request.dark));
        try {
          await writeFile(file, png);
        } catch (error) {
          throw new NewsletterError('OUTPUT_WRITE', `cannot write \`${file}\`: ${(error as Error).message}`, { file, cause: error });
        }
        const size = pngSize(png);
        shots.push({ slug: issue.slug, width, height: size.height, pngWidth: size.width, overflow, file, blocked });
      }
    }
    await shooter.close();
  } finally {
    await browser.close();
  }
  return shots;
}
