import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { NewsletterError, isNewsletterError } from '../errors.js';
import { fileError } from '../fs/read-regular-file.js';
import { zodToError } from '../config/load-config.js';
import { DEFAULTS } from '../config/defaults.js';
import { lineOfJsonKey } from '../text-position.js';
import { lineOfFrontMatterKey, parseFrontMatter } from './front-matter.js';
import { renderContentMarkdown } from './nesting.js';
import { displayPath } from '../fs/display-path.js';
import { loadArticle, resolveLocalImages } from './load-article.js';
import { readContentText } from './read-file.js';
import { scrubControlCharacters } from './control-characters.js';
import { assertIssueSlug } from './slug.js';
import { issueFrontMatterSchema } from './schemas.js';
import type { Article, Issue, IssueArticleRef } from './types.js';
import { didYouMean } from '../suggest.js';

export function issuesDir(contentDir: string): string {
  return path.join(contentDir, 'issues');
}

export function articlesDir(contentDir: string): string {
  return path.join(contentDir, 'articles');
}

/** Slugs of every issue under `content/issues/`, sorted. */
export async function listIssues(contentDir: string, cwd: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(issuesDir(contentDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NewsletterError('CONTENT_NOT_FOUND', `no issues folder \`${displayPath(issuesDir(contentDir), cwd)}\``, {
        hint: 'point --content at a folder holding articles/ and issues/',
      });
    }
    throw fileError(error, displayPath(issuesDir(contentDir), cwd), 'list');
  }
  return names
    .filter((name) => name.endsWith('.md') && !name.startsWith('.'))
    .map((name) => name.slice(0, -3))
    .sort();
}

export async function loadIssue(contentDir: string, slug: string, cwd: string): Promise<Issue> {
  assertIssueSlug(slug);
  const absolute = path.join(issuesDir(contentDir), `${slug}.md`);
  const file = displayPath(absolute, cwd);
  const written = await readContentText(absolute, file, contentDir);
  if (written === null) {
    const known = await listIssues(contentDir, cwd).catch(() => []);
    throw new NewsletterError('CONTENT_NOT_FOUND', `no issue \`${slug}\`${didYouMean(slug, known)} (looked for ${file})`, {
      hint: known.length ? `issues here: ${known.join(', ')}` : undefined,
    });
  }

  const { text: source, findings: scrubbed } = scrubControlCharacters(written, file);
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
    const error = zodToError(parsed.error, front.yaml, file, 'CONTENT_INVALID', 0, issueFrontMatterSchema, front.data);
    const line = front.format === 'toml' ? (lineOfFrontMatterKey(front, first.path.map(String)) ?? error.line) : error.line;
    throw new NewsletterError('CONTENT_INVALID', error.message, { file, line, hint: error.hint });
  }
  const meta = parsed.data;

  const refs: IssueArticleRef[] = meta.articles.map((entry, index) => {
    const line = front.format === 'toml' ? lineOfFrontMatterKey(front, ['articles']) : lineOfJsonKey(front.yaml, ['articles', String(index)]);
    if (typeof entry === 'string') return { slug: entry, overrides: {}, line };
    const { slug: refSlug, ...overrides } = entry;
    return { slug: refSlug, overrides, line };
  });

  const seen = new Set<string>();
  const articles: Article[] = [];
  const localImages = [];
  for (const ref of refs) {
    if (seen.has(ref.slug)) {
      throw new NewsletterError('CONTENT_INVALID', `article \`${ref.slug}\` is listed twice`, { file, line: ref.line });
    }
    seen.add(ref.slug);
    let article: Article;
    try {
      article = await loadArticle(articlesDir(contentDir), ref.slug, cwd, contentDir);
    } catch (error) {
      // A missing article is the issue's mistake; a missing image inside an article is the article's.
      if (isNewsletterError(error) && error.code === 'CONTENT_NOT_FOUND' && !error.file) {
        throw new NewsletterError('CONTENT_NOT_FOUND', error.message, { file, line: ref.line });
      }
      throw error;
    }
    if (article.draft && !meta.drafts && !meta.draft) {
      throw new NewsletterError('CONTENT_INVALID', `article \`${ref.slug}\` is a draft (${article.file} says \`draft: true\`)`, {
        file,
        line: ref.line,
        hint: 'remove the draft mark from the article when it is ready, or add `drafts: true` to this issue to include drafts (for a proof; an issue marked `draft: true` may hold drafts too)',
      });
    }
    const overrideImage = ref.overrides.image;
    if (overrideImage && !/^https?:\/\//i.test(overrideImage)) {
      // A local image named in the issue resolves against the issue file.
      localImages.push(...(await resolveLocalImages([{ written: overrideImage, absolute: '', file, line: ref.line }], issuesDir(contentDir), contentDir, cwd)));
    }
    articles.push(applyOverrides(article, ref));
  }

  const intro = renderContentMarkdown(front.body, file, front.bodyLine, { idPrefix: 'fn-intro-' });
  const introImages = [
    ...intro.localSources.map(({ src, line }) => ({ written: src, absolute: '', file, line })),
    ...intro.generatedImages.map(({ src, svg }) => ({ written: src, absolute: '', file, line: undefined, generated: svg })),
  ];
  localImages.push(...(await resolveLocalImages(introImages, issuesDir(contentDir), contentDir, cwd)));
  const introHtml = intro.html;
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
    introText: intro.text,
    articles,
    localImages,
    findings: [...scrubbed, ...intro.findings],
  };
}

function applyOverrides(article: Article, ref: IssueArticleRef): Article {
  const defined = Object.fromEntries(Object.entries(ref.overrides).filter(([, value]) => value !== undefined));
  const summaryIsExcerpt = ref.overrides.summary === undefined && article.summaryIsExcerpt;
  return { ...article, ...defined, summaryIsExcerpt };
}
