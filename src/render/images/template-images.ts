import { isNewsletterError, NewsletterError } from '../../errors.js';
import { MARKER_PATTERN, type TemplateImageRef } from '../template-image-refs.js';
import type { Program, TemplateFile, TemplateSet } from '../templates.js';
import { assetFor, type ImageAsset, type ImageStageOptions } from './issue-images.js';
import { processImage } from './process-image.js';

/**
 * The images a layout and its partials write next to them (template-image-refs.ts), through the
 * same stage as article images: processed (cached), hosted at `{siteUrl}assets/<name>` or attached
 * as `cid:` parts, and put where the template wrote them — in the MJML Handlebars made, before
 * MJML compiles it. Every render path calls `placeTemplateImages`: the email (render-issue.ts),
 * the per-recipient copies (personalize.ts) and the web edition (web-edition.ts).
 */

type Node = { type?: string; name?: { type: string; original?: string; value?: unknown } } & Record<string, unknown>;

/** Names of the partials a template calls; null when one is chosen at render time (`{{> (name)}}`). */
function partialsCalled(ast: Program): Set<string> | null {
  const names = new Set<string>();
  let dynamic = false;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    if ((n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') && n.name) {
      if (n.name.type === 'PathExpression') names.add(n.name.original!);
      else if (n.name.type === 'SubExpression') dynamic = true;
      else names.add(String(n.name.value));
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'loc' && value && typeof value === 'object') walk(value);
  };
  walk(ast);
  return dynamic ? null : names;
}

const reachable = new WeakMap<TemplateSet, Map<string, TemplateImageRef[]>>();

/** The refs a layout can put in its email: its own and those of every partial it may call. */
function refsOf(templates: TemplateSet, layout: TemplateFile): TemplateImageRef[] {
  const refs = templates.images;
  if (!refs?.all.length) return [];
  let perLayout = reachable.get(templates);
  if (!perLayout) reachable.set(templates, (perLayout = new Map()));
  let found = perLayout.get(layout.file);
  if (found) return found;
  const files = new Set<string>([layout.file]);
  const queue: TemplateFile[] = [layout];
  for (let template = queue.pop(); template; template = queue.pop()) {
    const called = partialsCalled(template.ast);
    const partials = called ? [...called].map((name) => templates.partials.get(name)) : [...templates.partials.values()];
    for (const partial of partials) {
      if (!partial || files.has(partial.file)) continue;
      files.add(partial.file);
      queue.push(partial);
    }
  }
  found = [...files].flatMap((file) => refs.byFile.get(file) ?? []);
  perLayout.set(layout.file, found);
  return found;
}

const processed = new WeakMap<TemplateSet, Map<string, Promise<ImageAsset>>>();

/** One template image processed and placed; an error names the template line that writes it. */
function assetOf(templates: TemplateSet, ref: TemplateImageRef, { config, width }: ImageStageOptions): Promise<ImageAsset> {
  let perSet = processed.get(templates);
  if (!perSet) processed.set(templates, (perSet = new Map()));
  const key = `${config.images}\n${config.siteUrl}\n${config.imageCache}\n${width}\n${ref.absolute}`;
  let result = perSet.get(key);
  if (!result) {
    const options = { maxWidth: width * 2, cacheDir: config.imageCache, root: templates.dir, cwd: templates.cwd };
    result = processImage(ref.absolute, options).then(
      (image) => assetFor(image, config),
      (error: unknown) => {
        if (!isNewsletterError(error)) throw error;
        throw new NewsletterError(error.code, `image \`${ref.written}\`: ${error.message}`, { file: ref.file, line: ref.line, hint: error.hint, cause: error });
      },
    );
    perSet.set(key, result);
    result.catch(() => perSet!.delete(key));
  }
  return result;
}

/** Characters a URL may hold that would end an HTML attribute or a CSS `url()`: written percent-encoded. */
function safeInAttributeAndCss(url: string): string {
  return url.replace(/[&'"()<>\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * Puts each template image's URL (or `cid:`) where its marker is in `mjml`. `assets`: the
 * images of every template the layout can call, so that all copies of a send (whatever branch a
 * recipient takes) carry the same inline parts.
 */
export async function placeTemplateImages(mjml: string, templates: TemplateSet, layout: TemplateFile, options: ImageStageOptions): Promise<{ mjml: string; assets: ImageAsset[] }> {
  const refs = templates.images;
  if (!refs?.all.length) return { mjml, assets: [] };
  const used = new Map(refsOf(templates, layout).map((ref) => [ref.index, ref]));
  const pattern = new RegExp(MARKER_PATTERN, 'g');
  for (const match of mjml.matchAll(pattern)) {
    const ref = refs.all[Number(match[1])];
    if (match[2] === refs.nonce && ref) used.set(ref.index, ref);
  }
  const assets = new Map<number, ImageAsset>();
  await Promise.all([...used.values()].map(async (ref) => assets.set(ref.index, await assetOf(templates, ref, options))));
  const placed = mjml.replace(pattern, (whole, index: string, nonce: string) => {
    const asset = nonce === refs.nonce ? assets.get(Number(index)) : undefined;
    return asset ? safeInAttributeAndCss(asset.url) : whole;
  });
  return { mjml: placed, assets: mergeAssets([...assets.values()]) };
}

/** Assets of several sources, each file once (names carry a content hash). */
export function mergeAssets(...lists: readonly ImageAsset[][]): ImageAsset[] {
  const byName = new Map<string, ImageAsset>();
  for (const asset of lists.flat()) if (!byName.has(asset.name)) byName.set(asset.name, asset);
  return [...byName.values()];
}
