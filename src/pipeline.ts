/**
 * The one place where the stages meet, in this order:
 *
 *   1. config   loadConfig        newsletter.config.json + flags → ResolvedConfig
 *   2. content  loadIssue         content/issues/<slug>.md + its articles → Issue
 *   3. render   renderIssue       Issue + templates → { subject, preheader, html, text }
 *   4. message  composeMessage    rendered issue + recipient → RFC 5322 bytes (.eml)
 *   5. output   writeFolder…      dist/<slug>/{index.html,index.txt,message.eml}, atomically
 *
 * Commands (build, preview, send, check) call these functions; none of them reads files or
 * parses flags on its own.
 */
import { loadConfig, type ConfigRequest } from './config/load-config.js';
import { issuesDir, listIssues, loadIssue } from './content/load-issue.js';
import { displayPath } from './content/load-article.js';
import { NewsletterError } from './errors.js';
import type { Issue } from './content/types.js';
import { composeMessage, messageInputFor } from './render/message.js';
import type { Mjml2Html } from './render/mjml.js';
import { renderIssue, type RenderedIssue } from './render/render-issue.js';
import { loadTemplates } from './render/templates.js';
import type { Project } from './project.js';
import { writeFolderAtomically } from './output/write-issue.js';

export type { Project } from './project.js';

export async function loadProject(request: ConfigRequest = {}): Promise<Project> {
  const config = await loadConfig(request);
  const templates = await loadTemplates(config.paths.templates, config.themeOverrides);
  return { config, templates };
}

/** Issue slugs to work on: the ones asked for, or every issue in the content folder. */
export async function selectIssues(project: Project, requested: readonly string[]): Promise<string[]> {
  if (requested.length) return [...requested];
  const all = await listIssues(project.config.paths.content);
  if (all.length === 0) {
    throw new NewsletterError('CONTENT_NOT_FOUND', `no issues in \`${displayPath(issuesDir(project.config.paths.content))}\``, {
      hint: 'add an issue file such as content/issues/weekly-1.md (see README, "Issues")',
    });
  }
  return all;
}

export interface RenderedProjectIssue {
  issue: Issue;
  rendered: RenderedIssue;
}

/** `compiler`: where MJML runs (the build's worker thread); this thread when absent. */
export async function renderProjectIssue(project: Project, slug: string, secret?: string, compiler?: Mjml2Html): Promise<RenderedProjectIssue> {
  const issue = await loadIssue(project.config.paths.content, slug);
  const rendered = await renderIssue(issue, { config: project.config, templates: project.templates, secret, compiler });
  return { issue, rendered };
}

export interface BuiltIssue extends RenderedProjectIssue {
  /** Folder written: `<out>/<slug>/`. */
  folder: string;
  htmlBytes: number;
  eml: Buffer;
}

export async function buildIssue(project: Project, slug: string, secret?: string, compiler?: Mjml2Html): Promise<BuiltIssue> {
  const { issue, rendered } = await renderProjectIssue(project, slug, secret, compiler);
  const eml = await composeMessage(messageInputFor(project.config, rendered));
  const folder = await writeFolderAtomically(project.config.paths.out, issue.slug, [
    { name: 'index.html', content: rendered.html },
    { name: 'index.txt', content: rendered.text },
    { name: 'message.eml', content: eml },
  ]);
  return { issue, rendered, folder, htmlBytes: Buffer.byteLength(rendered.html), eml };
}
