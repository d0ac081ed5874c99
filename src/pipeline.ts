/**
 * The one place where the stages meet, in this order:
 *
 *   1. config   loadProject       newsletter.config.json + flags → ResolvedConfig, templates
 *   2. content  loadIssue         content/issues/<slug>.md + its articles → Issue
 *   3. render   renderIssue       Issue + templates → { subject, preheader, html, text }
 *   4. message  composeMessage    rendered issue + recipient → RFC 5322 bytes (.eml)
 *   5. output   writeFolder…      dist/<slug>/{index.html,index.txt,message.eml}, atomically
 *
 * Commands (build, preview, send, check) call these functions; none of them reads files or
 * parses flags on its own.
 */
import { issuesDir, listIssues } from './content/load-issue.js';
import { displayPath } from './content/load-article.js';
import { NewsletterError } from './errors.js';
import { composeMessage, messageInputFor } from './render/message.js';
import type { Mjml2Html } from './render/mjml.js';
import { renderProjectIssue, type Project, type RenderedProjectIssue } from './project.js';
import { writeFolderAtomically } from './output/write-issue.js';

// Loading a project and rendering one of its issues live below the stages (project.ts), so that
// checks, preview and send share them without importing the file that wires the stages together.
export { loadProject, renderProjectIssue, type Project, type RenderedProjectIssue } from './project.js';

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
