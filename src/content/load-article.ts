import path from 'node:path';
import { NewsletterError } from '../errors.js';
import { readRegularFile } from '../fs/read-regular-file.js';
import { zodToError } from '../config/load-config.js';
import { parseFrontMatter } from './front-matter.js';
import { countWords, markdownToSafeHtml, paragraphsToSafeHtml, safeHtmlToText } from './markdown.js';
import { articleFrontMatterSchema } from './schemas.js';
import type { Article } from './types.js';

export const ARTICLE_EXTENSIONS = ['.md', '.txt'] as const;

export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') ? relative : file;
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

export async function loadArticle(articlesDir: string, slug: string): Promise<Article> {
  const candidates = ARTICLE_EXTENSIONS.map((ext) => path.join(articlesDir, `${slug}${ext}`));
  const found: { file: string; source: string }[] = [];
  for (const file of candidates) {
    const source = await readRegularFile(file, { root: path.dirname(articlesDir), display: displayPath(file) });
    if (source !== null) found.push({ file, source });
  }
  if (found.length === 0) {
    throw new NewsletterError('CONTENT_NOT_FOUND', `no article \`${slug}\` (looked for ${candidates.map((c) => displayPath(c)).join(' and ')})`);
  }
  if (found.length > 1) {
    throw new NewsletterError('CONTENT_INVALID', `article \`${slug}\` exists as both .md and .txt; keep one`, {
      file: displayPath(found[0]!.file),
    });
  }
  const { file, source } = found[0]!;
  return file.endsWith('.txt') ? parseWireCopy(source, slug, displayPath(file)) : parseMarkdownArticle(source, slug, displayPath(file));
}

export function parseMarkdownArticle(source: string, slug: string, file: string): Article {
  const front = parseFrontMatter(source, file);
  const parsed = articleFrontMatterSchema.safeParse(front.data);
  if (!parsed.success) {
    // A misspelt key (`titel:`) also leaves `title` missing; the typo is the cause, so name it.
    const typo = parsed.error.issues.some((i) => i.code === 'unrecognized_keys');
    const missingTitle = !typo && parsed.error.issues.some((i) => i.path[0] === 'title' && front.data.title === undefined);
    if (missingTitle) {
      throw new NewsletterError('CONTENT_INVALID', '`title` is required in the front matter of a Markdown article', {
        file,
        line: 1,
        hint: 'add a line `title: Your headline` between the `---` lines',
      });
    }
    throw zodToError(parsed.error, front.yaml, file, 'CONTENT_INVALID', 0, articleFrontMatterSchema);
  }
  const meta = parsed.data;
  const html = markdownToSafeHtml(front.body);
  const text = safeHtmlToText(html);
  return {
    slug,
    file,
    format: 'markdown',
    title: meta.title,
    author: meta.author ?? null,
    date: meta.date ?? null,
    summary: meta.summary ?? summarize(text),
    summaryIsExcerpt: meta.summary === undefined,
    image: meta.image ?? null,
    imageAlt: meta.imageAlt ?? null,
    url: meta.url ?? null,
    tags: meta.tags ?? [],
    html,
    text,
    wordCount: countWords(text),
    bodyLine: front.bodyLine,
  };
}

const BYLINE = /^by\s+(\S.*)$/i;

/** Agency wire copy: an optional `By NAME` first line, then one paragraph per non-empty line. */
export function parseWireCopy(source: string, slug: string, file: string): Article {
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
  };
}
