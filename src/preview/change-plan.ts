import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { requestCwd, type ConfigRequest } from '../config/load-config.js';

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
const ARTICLE_FILE = /^([\w.-]+)\.(md|txt)$/;

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
    } else if (dir === path.join(paths.content, 'articles')) {
      const match = ARTICLE_FILE.exec(name);
      if (match) plan.articles.add(match[1]!);
    } else if (isInside(path.join(paths.content, 'articles'), dir)) {
      // A page bundle: `articles/<slug>/index.md` or an image beside it changes article <slug>.
      const bundle = path.relative(path.join(paths.content, 'articles'), dir).split(path.sep)[0]!;
      if (/^[\w.-]+$/.test(bundle)) plan.articles.add(bundle);
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
