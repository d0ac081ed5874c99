/**
 * The one place where the stages meet, in this order:
 *
 *   1. config   loadConfig        newsletter.config.json + flags → ResolvedConfig
 *      templates loadTemplates    templates/ → TemplateSet, every template linted (lint.ts)
 *   2. content  loadIssue         content/issues/<slug>.md + its articles → Issue
 *   3. images   (in renderIssue)  local images processed, cached, placed → assets
 *   4. render   renderIssue       Issue + templates → { subject, preheader, html, text, assets }
 *   5. message  composeMessage    rendered issue + recipient → RFC 5322 bytes (.eml)
 *   6. check    runChecks         the findings of `newsletter check` (a crashing rule is a note)
 *   7. output   writeAssets, writeFolder…  <out>/assets/, <out>/<slug>/{index.html,index.txt,message.eml}, atomically
 *
 * `buildIssues` runs 2–7 for each issue on its own: one failing issue is reported and the others
 * are still built.
 *
 * Commands (build, preview, send, check) call these functions; none of them reads files or
 * parses flags on its own.
 */
import { issuesDir, listIssues } from './content/load-issue.js';
import { displayPath } from './fs/display-path.js';
import { NewsletterError } from './errors.js';
import { composeMessage, messageInputFor } from './render/message.js';
import type { Mjml2Html } from './render/mjml.js';
import { renderProjectIssue, type Project, type RenderedProjectIssue } from './project.js';
import { writeAssets, writeFolderAtomically } from './output/write-issue.js';
import type { Finding } from './checks/types.js';

// Loading a project and rendering one of its issues live below the stages (project.ts), so that
// checks, preview and send share them without importing the file that wires the stages together.
export { loadProject, renderProjectIssue, type Project, type RenderedProjectIssue } from './project.js';

/** Issue slugs to work on: the ones asked for, or every issue in the content folder. */
export async function selectIssues(project: Project, requested: readonly string[]): Promise<string[]> {
  if (requested.length) return [...requested];
  const { content, cwd } = project.config.paths;
  const all = await listIssues(content, cwd);
  if (all.length === 0) {
    throw new NewsletterError('CONTENT_NOT_FOUND', `no issues in \`${displayPath(issuesDir(content), cwd)}\``, {
      hint: 'add an issue file such as content/issues/weekly-1.md (see docs/content.md, "Issues")',
    });
  }
  return all;
}

export interface BuiltIssue extends RenderedProjectIssue {
  /** Folder written: `<out>/<slug>/`. */
  folder: string;
  htmlBytes: number;
  eml: Buffer;
  /** The findings of `newsletter check` for the sample copy. */
  findings: Finding[];
}

/** Render, compose, check, then write: nothing is written for an issue that fails before. */
export async function buildIssue(project: Project, slug: string, secret?: string, compiler?: Mjml2Html): Promise<BuiltIssue> {
  const { issue, rendered } = await renderProjectIssue(project, slug, secret, compiler);
  const eml = await composeMessage(messageInputFor(project.config, rendered));
  // Loaded here, not at the top: checks load their rule tables, which `--help` should not pay for.
  const { runChecks } = await import('./checks/index.js');
  const findings = await runChecks({ project, issue, rendered, message: eml });
  await writeAssets(project.config.paths.out, rendered.assets);
  const folder = await writeFolderAtomically(project.config.paths.out, issue.slug, [
    { name: 'index.html', content: rendered.html },
    { name: 'index.txt', content: rendered.text },
    { name: 'message.eml', content: eml },
  ]);
  return { issue, rendered, folder, htmlBytes: Buffer.byteLength(rendered.html), eml, findings };
}

export interface BuildFailure {
  slug: string;
  error: unknown;
}

export interface BuildHooks {
  secret?: string | undefined;
  compiler?: Mjml2Html | undefined;
  /** Called as each issue is done, for progress lines. */
  onBuilt?: (built: BuiltIssue) => void;
  onFailed?: (failure: BuildFailure) => void;
}

/** Builds each issue on its own: a failing one is reported and the others are still built. */
export async function buildIssues(project: Project, slugs: readonly string[], hooks: BuildHooks = {}): Promise<{ built: BuiltIssue[]; failed: BuildFailure[] }> {
  const built: BuiltIssue[] = [];
  const failed: BuildFailure[] = [];
  for (const slug of slugs) {
    try {
      const result = await buildIssue(project, slug, hooks.secret, hooks.compiler);
      built.push(result);
      hooks.onBuilt?.(result);
    } catch (error) {
      const failure = { slug, error };
      failed.push(failure);
      hooks.onFailed?.(failure);
    }
  }
  return { built, failed };
}
