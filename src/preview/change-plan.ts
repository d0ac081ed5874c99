import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { requestCwd, type ConfigRequest } from '../config/load-config.js';
import { slugify } from '../content/load-article.js';

/**
 * Which work a batch of changed files calls for. Templates and the config change how every issue
 * renders; an article changes the issues that list it; an issue file changes only itself.
 */

export interface WatchedPaths {
  content: string;
  templates: string;
  /** The config file, watched even when it does not exist yet so that creating it is noticed. */
  config: string;
}

export interface ChangePlan {
  /** Reload config and templates, then re-render every issue. */
  project: boolean;
  /** Issue slugs whose own file changed (added, edited or deleted). */
  issues: Set<string>;
  /** Article slugs whose file changed. */
  articles: Set<string>;
  /** Something under the content folder changed, so issues that failed may now load. */
  content: boolean;
}

export function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

const ISSUE_FILE = /^([\w.-]+)\.md$/;
const ARTICLE_FILE = /^(.+)\.(md|mdx|txt)$/;

export function planChanges(paths: WatchedPaths, changed: Iterable<string>): ChangePlan {
  const plan: ChangePlan = { project: false, issues: new Set(), articles: new Set(), content: false };
  for (const raw of changed) {
    const file = path.resolve(raw);
    if (file === path.resolve(paths.config) || isInside(paths.templates, file) || file === path.resolve(paths.templates)) {
      plan.project = true;
      continue;
    }
    // The content folder itself was deleted, replaced or restored: everything may differ.
    if (file === path.resolve(paths.content)) {
      plan.project = true;
      plan.content = true;
      continue;
    }
    if (!isInside(paths.content, file)) continue;
    plan.content = true;
    const dir = path.dirname(file);
    const name = path.basename(file);
    if (dir === path.join(paths.content, 'issues')) {
      const match = ISSUE_FILE.exec(name);
      if (match) plan.issues.add(match[1]!);
    } else if (isInside(path.join(paths.content, 'articles'), file)) {
      // `articles/blog/2024/post.md` is article `blog/2024/post`; a file inside a folder may
      // belong to a page bundle at any level above it (`blog/2024/bundle/photo.jpg`), so each
      // folder is marked too: re-rendering an issue more than needed is cheap, missing one is not.
      const segments = path.relative(path.join(paths.content, 'articles'), file).split(path.sep);
      const match = ARTICLE_FILE.exec(segments[segments.length - 1]!);
      if (match) plan.articles.add([...segments.slice(0, -1), match[1]!].join('/'));
      for (let i = 1; i < segments.length; i++) {
        const folder = segments.slice(0, i);
        plan.articles.add(folder.join('/'));
        // Issues may name a folder slugified (`post/image-gallery` for `post/Image Gallery/`).
        plan.articles.add([...folder.slice(0, -1), slugify(folder[i - 1]!)].join('/'));
      }
    }
  }
  return plan;
}

/** The same paths loadConfig resolves, known even when the config file is broken. */
export function requestPaths(request: ConfigRequest): WatchedPaths & { out: string; cwd: string } {
  const cwd = requestCwd(request);
  return {
    content: path.resolve(cwd, request.content ?? DEFAULTS.paths.content),
    templates: path.resolve(cwd, request.templates ?? DEFAULTS.paths.templates),
    out: path.resolve(cwd, request.out ?? DEFAULTS.paths.out),
    config: path.resolve(cwd, request.configFile ?? DEFAULTS.configFile),
    cwd,
  };
}
