import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError, isNewsletterError } from '../errors.js';
import { fileError, readRegularFile } from '../fs/read-regular-file.js';
import { zodToError } from '../config/load-config.js';
import { DEFAULTS } from '../config/defaults.js';
import { lineOfJsonKey } from '../text-position.js';
import { parseFrontMatter } from './front-matter.js';
import { markdownToSafeHtml, safeHtmlToText } from './markdown.js';
import { displayPath, loadArticle } from './load-article.js';
import { issueFrontMatterSchema } from './schemas.js';
import type { Article, Issue, IssueArticleRef } from './types.js';

export function issuesDir(contentDir: string): string {
  return path.join(contentDir, 'issues');
}

export function articlesDir(contentDir: string): string {
  return path.join(contentDir, 'articles');
}

/** Slugs of every issue under `content/issues/`, sorted. */
export async function listIssues(contentDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(issuesDir(contentDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NewsletterError('CONTENT_NOT_FOUND', `no issues folder \`${displayPath(issuesDir(contentDir))}\``, {
        hint: 'point --content at a folder holding articles/ and issues/',
      });
    }
    throw fileError(error, displayPath(issuesDir(contentDir)), 'list');
  }
  return names
    .filter((name) => name.endsWith('.md') && !name.startsWith('.'))
    .map((name) => name.slice(0, -3))
    .sort();
}

export async function loadIssue(contentDir: string, slug: string): Promise<Issue> {
  const absolute = path.join(issuesDir(contentDir), `${slug}.md`);
  const file = displayPath(absolute);
  const source = await readRegularFile(absolute, { root: contentDir, display: file });
  if (source === null) {
    const known = await listIssues(contentDir).catch(() => []);
    throw new NewsletterError('CONTENT_NOT_FOUND', `no issue \`${slug}\` (looked for ${file})`, {
      hint: known.length ? `issues here: ${known.join(', ')}` : undefined,
    });
  }

  const front = parseFrontMatter(source, file);
  const parsed = issueFrontMatterSchema.safeParse(front.data);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    // A misspelt key (`artciles:`) also leaves the real one missing; the typo is the cause.
    const typo = parsed.error.issues.some((i) => i.code === 'unrecognized_keys');
    if (!typo && first.path[0] === 'subject' && front.data.subject === undefined) {
      throw new NewsletterError('CONTENT_INVALID', '`subject` is required in the front matter of an issue', { file, line: 1 });
    }
    if (!typo && first.path[0] === 'articles' && front.data.articles === undefined) {
      throw new NewsletterError('CONTENT_INVALID', '`articles` is required: list the article slugs of this issue', { file, line: 1 });
    }
    throw zodToError(parsed.error, front.yaml, file, 'CONTENT_INVALID', 0, issueFrontMatterSchema);
  }
  const meta = parsed.data;

  const refs: IssueArticleRef[] = meta.articles.map((entry, index) => {
    const line = lineOfJsonKey(front.yaml, ['articles', String(index)]);
    if (typeof entry === 'string') return { slug: entry, overrides: {}, line };
    const { slug: refSlug, ...overrides } = entry;
    return { slug: refSlug, overrides, line };
  });

  const seen = new Set<string>();
  const articles: Article[] = [];
  for (const ref of refs) {
    if (seen.has(ref.slug)) {
      throw new NewsletterError('CONTENT_INVALID', `article \`${ref.slug}\` is listed twice`, { file, line: ref.line });
    }
    seen.add(ref.slug);
    let article: Article;
    try {
      article = await loadArticle(articlesDir(contentDir), ref.slug);
    } catch (error) {
      if (isNewsletterError(error) && error.code === 'CONTENT_NOT_FOUND') {
        throw new NewsletterError('CONTENT_NOT_FOUND', error.message, { file, line: ref.line });
      }
      throw error;
    }
    articles.push(applyOverrides(article, ref));
  }

  const introHtml = markdownToSafeHtml(front.body);
  return {
    slug,
    file,
    subject: meta.subject,
    preheader: meta.preheader ?? null,
    date: meta.date ?? null,
    template: meta.template ?? DEFAULTS.issue.template,
    lead: meta.lead ?? DEFAULTS.issue.lead,
    draft: meta.draft ?? false,
    introHtml,
    introText: safeHtmlToText(introHtml),
    articles,
  };
}

function applyOverrides(article: Article, ref: IssueArticleRef): Article {
  const defined = Object.fromEntries(Object.entries(ref.overrides).filter(([, value]) => value !== undefined));
  const summaryIsExcerpt = ref.overrides.summary === undefined && article.summaryIsExcerpt;
  return { ...article, ...defined, summaryIsExcerpt };
}
