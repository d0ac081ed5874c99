import { NewsletterError } from '../errors.js';
import { closestMatch } from '../suggest.js';
import { lineOfFrontMatterKey, type FrontMatter } from './front-matter.js';
import { ARTICLE_KEYS } from './schemas.js';
import type { ContentFinding } from './types.js';

/**
 * Front matter as Hugo, Zola, Jekyll and Eleventy write it, mapped onto our keys before the schema
 * sees it: `description` is our `summary`, `authors` our `author`, `categories` our `tags`. Keys
 * that mean nothing in an email (`aliases`, `weight`, `[extra]`, …) are set aside and listed once
 * as a note; a key that looks like a typo of one we know stays an error.
 */

/** Another name → our key. The first one present wins when our own key is absent. */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  description: 'summary',
  excerpt: 'summary',
  authors: 'author',
  categories: 'tags',
  images: 'image',
  featured_image: 'image',
  cover_image: 'image',
  heroImage: 'image',
  hero_image: 'image',
  coverImage: 'image',
  publishDate: 'date',
  pubDate: 'date',
  publish_date: 'date',
});

/** Keys generators use that have no meaning in an email: ignored, listed in a note. */
const SITE_ONLY_KEYS = new Set([
  'aliases', 'path', 'slug', 'series', 'weight', 'layout', 'permalink', 'extra', 'lastmod', 'updated', 'keywords',
  'toc', 'type', 'template', 'sitemap', 'menu', 'menus', 'comments', 'math', 'mathjax', 'katex', 'hidden', 'render',
  'in_search_index', 'outputs', 'resources', 'expiryDate', 'expirydate', 'headless', 'isCJKLanguage', 'linkTitle',
  'markup', 'translationKey', 'lang', 'language', 'canonicalURL', 'canonical_url', 'showToc', 'ShowToc', 'TocOpen',
  'tocOpen', 'cover', 'featured', 'share', 'redirect_to', 'redirect_from', 'insert_anchor_links', 'pagination',
  'eleventyNavigation', 'eleventyExcludeFromCollections', 'eleventyComputed', 'eleventyImport', 'permalinks',
  'excerpt_separator', 'sidebar', 'author_profile', 'header', 'classes', 'subtitle', 'modified', 'last_modified_at',
  'summaryLength', 'build', 'cascade', 'params', 'taxonomies', 'year', 'month', 'nav_order', 'parent', 'has_children',
  'robots', 'noindex', 'audio', 'videos', 'series_weight', 'thumbnail', 'og_image', 'twitter', 'head', 'css', 'js',
  'scripts', 'styles', 'pinned', 'sticky', 'comment', 'disqus_identifier', 'id', 'uuid', 'guid', 'order',
]);

/** The known key `key` is probably a typo of, or null. Short keys allow one edit, longer ones two. */
export function didYouMean(key: string, known: readonly string[]): string | null {
  return closestMatch(key, known.filter((name) => name.length >= 5)) ?? closestMatch(key, known, 1) ?? null;
}

function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function stringList(value: unknown): string[] | null {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return (value as string[]).map((v) => v.trim()).filter(Boolean);
  return null;
}

export interface NormalizedMeta {
  /** Keys of our schema, ready for articleFrontMatterSchema. */
  data: Record<string, unknown>;
  /** Our key → the key written in the file, for messages and lines. */
  writtenAs: Record<string, string>;
  findings: ContentFinding[];
}

export function normalizeArticleMeta(front: FrontMatter, file: string): NormalizedMeta {
  const data: Record<string, unknown> = {};
  const writtenAs: Record<string, string> = {};
  const ignored: string[] = [];
  const known = [...ARTICLE_KEYS, ...Object.keys(ALIASES)];

  // Hugo reads front-matter keys case-insensitively (`Title:`, `Date:`): so do we, when the
  // key is not also written in our own spelling.
  const entries = Object.entries(front.data).map(([written, value]): [string, string, unknown] => {
    const lower = written.toLowerCase();
    const ours = [...ARTICLE_KEYS, ...Object.keys(ALIASES)].find((k) => k.toLowerCase() === lower && k !== written && !(k in front.data));
    return [ours ?? written, written, value];
  });
  for (const [key, written, value] of entries) {
    if (ARTICLE_KEYS.includes(key)) {
      data[key] = value;
      writtenAs[key] = written;
    }
  }
  for (const [key, , value] of entries) {
    if (ARTICLE_KEYS.includes(key)) continue;
    const target = ALIASES[key];
    if (target) {
      if (target in data) {
        ignored.push(key);
        continue;
      }
      writtenAs[target] = key;
      if (target === 'author') {
        const names = stringList(value);
        data.author = names ? joinNames(names) : value;
      } else if (target === 'tags') {
        data.tags = value;
      } else if (target === 'image' && Array.isArray(value)) {
        data.image = value[0];
      } else {
        data[target] = value;
      }
      continue;
    }
    if (key === 'published' && typeof value === 'boolean' && !('draft' in data)) {
      // Jekyll: `published: false` is a draft.
      data.draft = !value;
      writtenAs.draft = key;
      continue;
    }
    if (key === 'taxonomies' && value && typeof value === 'object' && !Array.isArray(value)) {
      // Zola keeps tags and categories under [taxonomies].
      const taxonomies = value as Record<string, unknown>;
      const tags = [...(stringList(taxonomies.tags) ?? []), ...(stringList(taxonomies.categories) ?? [])];
      if (tags.length && !('tags' in data)) {
        data.tags = tags;
        writtenAs.tags = key;
      }
      continue;
    }
    if (SITE_ONLY_KEYS.has(key)) {
      ignored.push(key);
      continue;
    }
    const suggestion = didYouMean(key, known);
    if (suggestion) {
      throw new NewsletterError('CONTENT_INVALID', `unknown key \`${key}\` (did you mean \`${suggestion}\`?)`, {
        file,
        line: lineOfFrontMatterKey(front, [key]),
      });
    }
    ignored.push(key);
  }
  // Eleventy writes a single tag as a string (`tags: post`).
  if (typeof data.tags === 'string') data.tags = stringList(data.tags);
  // Chirpy and others write the image as a map: `image: { path, alt, lqip }`.
  if (data.image && typeof data.image === 'object' && !Array.isArray(data.image)) {
    const map = data.image as Record<string, unknown>;
    const source = ['path', 'src', 'url'].find((k) => typeof map[k] === 'string');
    if (source) {
      data.image = map[source];
      if (typeof map.alt === 'string' && !('imageAlt' in data)) {
        data.imageAlt = map.alt;
        writtenAs.imageAlt = `${writtenAs.image ?? 'image'}.alt`;
      }
      const rest = Object.keys(map).filter((k) => k !== source && k !== 'alt');
      ignored.push(...rest.map((k) => `${writtenAs.image ?? 'image'}.${k}`));
    }
  }
  // Both `tags` and `categories`: one list of both.
  if ('categories' in front.data && 'tags' in front.data && writtenAs.tags === 'tags') {
    const more = stringList(front.data.categories);
    const tags = stringList(front.data.tags);
    if (more && tags) {
      data.tags = [...new Set([...tags, ...more])];
      ignored.splice(ignored.indexOf('categories'), 1);
    }
  }

  const findings: ContentFinding[] = [];
  if (ignored.length) {
    findings.push({
      rule: 'content/ignored-keys',
      severity: 'info',
      message: `front-matter key${ignored.length > 1 ? 's' : ''} ${ignored.map((k) => `\`${k}\``).join(', ')} ${ignored.length > 1 ? 'mean' : 'means'} nothing in an email and ${ignored.length > 1 ? 'were' : 'was'} ignored`,
      file,
      line: lineOfFrontMatterKey(front, ignored[0]!.split('.')),
    });
  }
  return { data, writtenAs, findings };
}
