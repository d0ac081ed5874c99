import { parseDocument, DomUtils } from 'htmlparser2';
import type { ResolvedConfig } from '../../config/defaults.js';
import type { Article, Issue, LocalImageRef } from '../../content/types.js';
import { imageStyle } from '../../content/html/article-styles.js';
import { processImage, type ProcessedImage } from './process-image.js';

/**
 * The image stage, between content and templates: every local image of an issue processed
 * (process-image.ts) and its `src` replaced by where the reader's mail client will fetch it —
 * `{siteUrl}assets/<name>` (config `images: "hosted"`, published with the web edition), or a
 * `cid:` part of the message itself (`images: "embed"`). Each `<img>` gets the `width` and
 * `height` it is shown at, from the real image. Remote images are left as they are.
 */

export interface ImageAsset {
  /** The processed file (in the image cache); `build` copies it to `<out>/assets/<name>`. */
  file: string;
  /** File name under `assets/`. */
  name: string;
  /** What the email's `<img src>` says: `{siteUrl}assets/<name>`, or `cid:<cid>` when embedded. */
  url: string;
  /** Pixel size of the processed file. */
  width: number;
  height: number;
  contentType: string;
  bytes: number;
  /** Content-ID of the inline part (`images: "embed"` only). */
  cid?: string | undefined;
}

export interface IssueImages {
  /** The issue with every local image replaced (HTML `src`, `image`), and the sizes set. */
  issue: Issue;
  assets: ImageAsset[];
  /** Display size of each article's `image` (by article slug), for `<mj-image>`. */
  imageSizes: Map<string, { width: number; height: number }>;
}

export interface ImageStageOptions {
  config: ResolvedConfig;
  /** The email's content width: images are processed at up to twice it and shown at most at it. */
  width: number;
}

function displaySize(image: ProcessedImage, width: number): { width: number; height: number } {
  // Shown as large as it was made (an SVG at its drawn size), never wider than the email; the
  // file has up to twice those pixels for sharp screens.
  const shown = Math.min(image.sourceWidth, image.width, width);
  return { width: shown, height: Math.round((image.height * shown) / image.width) };
}

export function assetFor(image: ProcessedImage, config: ResolvedConfig): ImageAsset {
  const base = { file: image.file, name: image.name, width: image.width, height: image.height, contentType: image.contentType, bytes: image.bytes };
  if (config.images === 'embed') {
    const cid = `${image.key.slice(0, 16)}@newsletter`;
    return { ...base, url: `cid:${cid}`, cid };
  }
  return { ...base, url: `${config.siteUrl}assets/${image.name}` };
}

function rewriteHtml(html: string, refs: readonly LocalImageRef[], processed: ReadonlyMap<string, ProcessedImage>, urls: ReadonlyMap<string, string>, width: number): string {
  if (!refs.length || !html) return html;
  const byWritten = new Map(refs.map((ref) => [ref.written, ref.absolute]));
  const document = parseDocument(html, { decodeEntities: true });
  for (const img of DomUtils.findAll((node) => node.name === 'img', document.children)) {
    const absolute = byWritten.get(img.attribs.src?.trim() ?? '');
    const image = absolute ? processed.get(absolute) : undefined;
    if (!absolute || !image) continue;
    const size = displaySize(image, width);
    img.attribs.src = urls.get(absolute)!;
    img.attribs.width = String(size.width);
    img.attribs.height = String(size.height);
    // The content stage styled it without knowing its size: replace that style.
    img.attribs.style = imageStyle(img);
  }
  return DomUtils.getOuterHTML(document, { decodeEntities: true, selfClosingTags: true });
}

const memo = new WeakMap<Issue, Map<string, Promise<IssueImages>>>();

/** Processes and places the images of one issue; memoized per issue object, so every copy of a send shares one pass. */
export function prepareIssueImages(issue: Issue, options: ImageStageOptions): Promise<IssueImages> {
  const key = `${options.config.images}\n${options.config.siteUrl}\n${options.config.imageCache}\n${options.width}`;
  let perIssue = memo.get(issue);
  if (!perIssue) memo.set(issue, (perIssue = new Map()));
  let result = perIssue.get(key);
  if (!result) {
    result = placeImages(issue, options);
    perIssue.set(key, result);
    result.catch(() => perIssue!.delete(key));
  }
  return result;
}

async function placeImages(issue: Issue, { config, width }: ImageStageOptions): Promise<IssueImages> {
  const refs = [...issue.localImages, ...issue.articles.flatMap((a) => a.localImages)];
  const imageSizes = new Map<string, { width: number; height: number }>();
  if (refs.length === 0) return { issue, assets: [], imageSizes };
  const unique = [...new Set(refs.map((ref) => ref.absolute))];
  const options = { maxWidth: width * 2, cacheDir: config.imageCache, root: config.paths.content, cwd: config.paths.cwd };
  const generated = new Map(refs.filter((ref) => ref.generated !== undefined).map((ref) => [ref.absolute, ref.generated!]));
  const results = await Promise.all(unique.map((absolute) => processImage(absolute, options, generated.get(absolute))));
  const processed = new Map(unique.map((absolute, i) => [absolute, results[i]!]));
  const assetsByKey = new Map<string, ImageAsset>();
  const urls = new Map<string, string>();
  for (const [absolute, image] of processed) {
    let asset = assetsByKey.get(image.key);
    if (!asset) assetsByKey.set(image.key, (asset = assetFor(image, config)));
    urls.set(absolute, asset.url);
  }

  const placeArticle = (article: Article): Article => {
    const html = rewriteHtml(article.html, article.localImages, processed, urls, width);
    // `image:` as written in the article, or a local override from the issue.
    const ref = [...article.localImages, ...issue.localImages].find((r) => r.written === article.image);
    if (!ref) return html === article.html ? article : { ...article, html };
    const image = processed.get(ref.absolute)!;
    imageSizes.set(article.slug, displaySize(image, width));
    return { ...article, html, image: urls.get(ref.absolute)! };
  };
  return {
    issue: { ...issue, introHtml: rewriteHtml(issue.introHtml, issue.localImages, processed, urls, width), articles: issue.articles.map(placeArticle) },
    assets: [...assetsByKey.values()],
    imageSizes,
  };
}
