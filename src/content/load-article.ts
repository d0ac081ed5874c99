import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError } from '../errors.js';
import { displayPath } from '../fs/display-path.js';
import { zodToError } from '../config/load-config.js';
import { lineOfFrontMatterKey, parseFrontMatter } from './front-matter.js';
import { normalizeArticleMeta } from './article-meta.js';
import { countWords, paragraphsToSafeHtml } from './markdown.js';
import { renderContentMarkdown } from './nesting.js';
import { emojify } from './html/blog-markup.js';
import { readContentText } from './read-file.js';
import { articleFrontMatterSchema, isArticleSlug } from './schemas.js';
import { stripMdx } from './mdx.js';
import { scrubControlCharacters } from './control-characters.js';
import type { Article, LocalImageRef } from './types.js';
import { didYouMean } from '../suggest.js';
import { knownArticleSlugs } from './known-slugs.js';

export const ARTICLE_EXTENSIONS = ['.md', '.mdx', '.txt'] as const;

/**
 * Where an article may live: a flat file (`<slug>.md`, `.mdx` or `.txt`), or a page bundle, a
 * folder with its images beside the text, whose text is `index.md` (Hugo, Gatsby, Astro),
 * `_index.md` (Hugo's branch bundles) or named after the folder (Eleventy's `fourthpost/fourthpost.md`).
 * The slug may hold folders (`blog/2024/post`); `isArticleSlug` keeps it inside `articlesDir`.
 */
export function articleCandidates(articlesDir: string, slug: string): string[] {
  if (!isArticleSlug(slug)) throw new NewsletterError('CONTENT_INVALID', `\`${slug}\` is not an article slug: a path under the articles folder without extension, such as \`blog/2024/post\``);
  const bundle = path.join(articlesDir, ...slug.split('/'));
  return [...new Set([
    ...ARTICLE_EXTENSIONS.map((ext) => `${bundle}${ext}`),
    path.join(bundle, 'index.md'),
    path.join(bundle, 'index.mdx'),
    path.join(bundle, '_index.md'),
    path.join(bundle, `${path.basename(bundle)}.md`),
  ])];
}

/** `Image Gallery` → `image-gallery`: how an issue may name a folder whose name has spaces or capitals. */
export function slugify(name: string): string {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '');
}

/**
 * The slug as the folder has it, when the issue wrote it slugified (`post/image-gallery` for
 * `post/Image Gallery/`): only when exactly one entry matches, so the choice is never a guess.
 */
async function spelledAsOnDisk(articlesDir: string, slug: string): Promise<string | null> {
  const segments = slug.split('/');
  const last = segments.pop()!;
  const entries = await readdir(path.join(articlesDir, ...segments)).catch(() => [] as string[]);
  const matches = [...new Set(entries.map((e) => e.replace(/\.(?:md|mdx|txt)$/, '')).filter((e) => e !== last && slugify(e) === last))];
  return matches.length === 1 ? [...segments, matches[0]!].join('/') : null;
}

/** `kim-putin_summit` → `Kim putin summit`: a readable title for wire copy that arrives without one. */
export function titleFromFileName(slug: string): string {
  const words = slug.replace(/[-_.]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : slug;
}

/** First paragraph, cut at a word boundary near `limit` characters: the card text when there is no summary. */
export function summarize(text: string, limit = 220): string | null {
  const first = text.split(/\n\s*\n/).find((p) => p.trim())?.replace(/\s+/g, ' ').trim();
  if (!first) return null;
  if (first.length <= limit) return first;
  const cut = first.slice(0, limit);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), limit * 0.6)).replace(/[,;:.\s]+$/, '')}…`;
}

export async function loadArticle(articlesDir: string, slug: string, cwd: string, contentDir = path.dirname(articlesDir)): Promise<Article> {
  const candidates = articleCandidates(articlesDir, slug);
  const found: { file: string; source: string }[] = [];
  for (const file of candidates) {
    const source = await readContentText(file, displayPath(file, cwd), contentDir);
    if (source !== null) found.push({ file, source });
  }
  if (found.length === 0) {
    const onDisk = await spelledAsOnDisk(articlesDir, slug);
    if (onDisk) return { ...(await loadArticle(articlesDir, onDisk, cwd, contentDir)), slug };
    const suggestion = didYouMean(slug, await knownArticleSlugs(articlesDir));
    throw new NewsletterError('CONTENT_NOT_FOUND', `no article \`${slug}\`${suggestion} (looked for ${candidates.map((c) => displayPath(c, cwd)).join(', ')})`);
  }
  if (found.length > 1) {
    throw new NewsletterError('CONTENT_INVALID', `article \`${slug}\` exists as ${found.map((f) => displayPath(f.file, cwd)).join(' and ')}; keep one`, {
      file: displayPath(found[0]!.file, cwd),
    });
  }
  const { file, source } = found[0]!;
  if (file.endsWith('.txt')) return parseWireCopy(source, slug, displayPath(file, cwd));
  const article = parseMarkdownArticle(source, slug, displayPath(file, cwd));
  return { ...article, localImages: await resolveLocalImages(article.localImages, path.dirname(file), contentDir, cwd) };
}

/**
 * Local image paths resolve against the file that names them (`./photo.jpg` beside a page
 * bundle's index.md, `../images/a.png` from a flat article); a path starting with `/` against the
 * content folder, as static-site generators serve it. Nothing outside the content folder is read.
 */
export async function resolveLocalImages(refs: readonly LocalImageRef[], baseDir: string, contentDir: string, cwd: string): Promise<LocalImageRef[]> {
  const root = await realpath(contentDir).catch(() => path.resolve(contentDir));
  const resolved: LocalImageRef[] = [];
  for (const ref of refs) {
    if (ref.generated !== undefined) {
      // Made from the text (a formula): no file to find; a stable name in the content folder for the cache.
      resolved.push({ ...ref, absolute: path.join(root, '.generated', ref.written) });
      continue;
    }
    const written = pathForms(ref.written)[0]!;
    // A file named as written comes first (`ferry #2?.jpg` is a file name too), then the path
    // read as a URL: a query or fragment dropped, percent-escapes decoded.
    const candidates = [...new Set(pathForms(ref.written).flatMap((form) => imageCandidates(form, baseDir, contentDir)))];
    const place = { file: ref.file, line: ref.line };
    let real: string | null = null;
    for (const candidate of candidates) {
      try {
        real = await realpath(candidate);
        if (!(await stat(real)).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
        break;
      } catch (error) {
        real = null;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        throw new NewsletterError('CONTENT_INVALID', `image \`${ref.written}\` cannot be read: ${code === 'EISDIR' ? 'it is a folder' : (error as Error).message}`, { ...place, cause: error });
      }
    }
    if (real === null) {
      throw new NewsletterError('CONTENT_NOT_FOUND', `image \`${ref.written}\` does not exist (looked for ${candidates.map((c) => displayPath(c, cwd)).join(', ')})`, {
        ...place,
        hint: written.startsWith('/') ? 'a path starting with / is read from the content folder (as a site serves it), or beside the article' : 'paths are relative to the article file',
      });
    }
    const relative = path.relative(root, real);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new NewsletterError('CONTENT_INVALID', `image \`${ref.written}\` is outside the content folder; only files under it are published`, place);
    }
    resolved.push({ ...ref, absolute: real });
  }
  return resolved;
}

/** The paths `written` may mean, most literal first; Jekyll's and Hugo's `{{ site.url }}` prefix read as `/`. */
function pathForms(written: string): string[] {
  const decode = (value: string) => {
    try {
      return decodeURI(value);
    } catch {
      return value; // not percent-encoded after all: as written
    }
  };
  const withoutQuery = written.replace(/[?#].*$/, '');
  const forms = [written, decode(written), withoutQuery, decode(withoutQuery)].map((form) =>
    form.replace(/^\{\{\s*(?:site\.url|site\.baseurl|\.Site\.BaseURL|\$\.Site\.BaseURL)\s*\}\}\/?/i, '/'),
  );
  return [...new Set(forms.filter(Boolean))];
}

/**
 * Where a local image may be. A site-absolute path (`/posts/images/a.png`) is where the blog's
 * site serves it: under the content folder, or, for posts copied out of their site, beside the
 * article with the leading folders dropped (`images/a.png`, `a.png`).
 */
function imageCandidates(written: string, baseDir: string, contentDir: string): string[] {
  if (!written.startsWith('/')) return [path.resolve(baseDir, written)];
  const segments = written.split('/').filter(Boolean);
  const candidates = [path.join(contentDir, ...segments)];
  for (let i = 1; i < segments.length; i++) candidates.push(path.join(baseDir, ...segments.slice(i)));
  return [...new Set(candidates)];
}

function isLocalImage(src: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(src) && !src.startsWith('//');
}

export function parseMarkdownArticle(raw: string, slug: string, file: string): Article {
  const { text: source, findings: scrubbed } = scrubControlCharacters(raw, file);
  const parsedFront = parseFrontMatter(source, file);
  const mdx = file.endsWith('.mdx') ? stripMdx(parsedFront.body, file, parsedFront.bodyLine) : null;
  const front = mdx ? { ...parsedFront, body: mdx.body } : parsedFront;
  const normalized = normalizeArticleMeta(front, file);
  const parsed = articleFrontMatterSchema.safeParse(normalized.data);
  if (!parsed.success) {
    // A misspelt key (`titel:`) also leaves `title` missing; the typo is the cause, so name it.
    const typo = parsed.error.issues.some((i) => i.code === 'unrecognized_keys');
    const missingTitle = !typo && parsed.error.issues.some((i) => i.path[0] === 'title' && normalized.data.title === undefined);
    if (missingTitle) {
      throw new NewsletterError('CONTENT_INVALID', '`title` is required in the front matter of a Markdown article', {
        file,
        line: 1,
        hint: front.format === 'toml' ? 'add a line `title = "Your headline"` between the `+++` lines' : 'add a line `title: Your headline` between the `---` lines',
      });
    }
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const written = normalized.writtenAs[key] ?? key;
    const error = zodToError(parsed.error, front.yaml, file, 'CONTENT_INVALID', 0, articleFrontMatterSchema, normalized.data);
    const line = lineOfFrontMatterKey(front, [written, ...issue.path.slice(1).map(String)]) ?? error.line;
    const message = written !== key ? error.message.replace(`\`${key}`, `\`${written}`) : error.message;
    throw new NewsletterError('CONTENT_INVALID', message, { file, line, hint: error.hint });
  }
  const meta = parsed.data;
  const rendered = renderContentMarkdown(front.body, file, front.bodyLine, { idPrefix: `fn-${slug.replace(/[^\w-]/g, '-')}-` });
  const { html, text } = rendered;
  const localImages: LocalImageRef[] = [
    ...rendered.localSources.map(({ src, line }) => ({ written: src, absolute: '', file, line })),
    ...rendered.generatedImages.map(({ src, svg }) => ({ written: src, absolute: '', file, line: undefined, generated: svg })),
  ];
  if (meta.image && isLocalImage(meta.image)) {
    localImages.push({ written: meta.image, absolute: '', file, line: lineOfFrontMatterKey(front, [normalized.writtenAs.image ?? 'image']) });
  }
  const summary = meta.summary ?? (rendered.moreSummary ? summarize(rendered.moreSummary, 600) : summarize(text));
  return {
    slug,
    file,
    format: 'markdown',
    title: emojify(meta.title),
    author: meta.author ?? null,
    date: meta.date ?? null,
    summary,
    summaryIsExcerpt: meta.summary === undefined,
    image: meta.image ?? null,
    imageAlt: meta.imageAlt ?? null,
    url: meta.url ?? null,
    tags: meta.tags ?? [],
    html,
    text,
    wordCount: countWords(text),
    bodyLine: front.bodyLine,
    draft: meta.draft ?? false,
    localImages,
    findings: [...scrubbed, ...normalized.findings, ...(mdx?.findings ?? []), ...rendered.findings],
  };
}

const BYLINE = /^by\s+(\S.*)$/i;

/** Agency wire copy: an optional `By NAME` first line, then one paragraph per non-empty line. */
export function parseWireCopy(raw: string, slug: string, file: string): Article {
  const { text: source, findings } = scrubControlCharacters(raw, file);
  const lines = source.replace(/^\uFEFF/, '').split(/\r\n?|\n/).map((line) => line.trim());
  const firstIndex = lines.findIndex((line) => line !== '');
  let author: string | null = null;
  let bodyLine = firstIndex + 1;
  const byline = firstIndex >= 0 ? BYLINE.exec(lines[firstIndex]!) : null;
  if (byline) {
    author = byline[1]!.trim();
    bodyLine = firstIndex + 2;
  }
  const paragraphs = lines.slice(byline ? firstIndex + 1 : 0).filter((line) => line !== '');
  if (paragraphs.length === 0) {
    throw new NewsletterError('CONTENT_INVALID', 'wire copy has no paragraphs', { file, line: 1 });
  }
  const text = paragraphs.join('\n\n');
  return {
    slug,
    file,
    format: 'wire',
    title: titleFromFileName(slug),
    author,
    date: null,
    summary: summarize(text),
    summaryIsExcerpt: true,
    image: null,
    imageAlt: null,
    url: null,
    tags: [],
    html: paragraphsToSafeHtml(paragraphs),
    text,
    wordCount: countWords(text),
    bodyLine,
    draft: false,
    localImages: [],
    findings,
  };
}
