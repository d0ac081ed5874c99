import type { ResolvedConfig } from './config/defaults.js';
import { loadConfig, type ConfigRequest } from './config/load-config.js';
import { loadIssue } from './content/load-issue.js';
import type { Issue } from './content/types.js';
import type { Mjml2Html } from './render/mjml.js';
import { renderIssue, type RenderedIssue } from './render/render-issue.js';
import { markLintProblems } from './render/lint.js';
import { loadTemplates, type TemplateSet } from './render/templates.js';

/**
 * What every stage after loading works on: the resolved config and the loaded templates, and the
 * two steps every output needs (load it, render one issue of it). They live below the stages,
 * not in pipeline.ts, so checks, send and preview share them without importing the file that
 * wires the stages together.
 */
export interface Project {
  config: ResolvedConfig;
  templates: TemplateSet;
}

export async function loadProject(request: ConfigRequest = {}): Promise<Project> {
  const config = await loadConfig(request);
  const templates = await loadTemplates(config.paths.templates, config.paths.cwd, config.themeOverrides);
  // Every variable of every branch, before anything renders (render/lint.ts); a layout with a
  // problem fails the issues that use it, the others still build.
  markLintProblems(templates, config);
  return { config, templates };
}

export interface RenderedProjectIssue {
  issue: Issue;
  rendered: RenderedIssue;
}

/** `compiler`: where MJML runs (the build's worker thread); this thread when absent. */
export async function renderProjectIssue(project: Project, slug: string, secret?: string, compiler?: Mjml2Html): Promise<RenderedProjectIssue> {
  const issue = await loadIssue(project.config.paths.content, slug, project.config.paths.cwd);
  const rendered = await renderIssue(issue, { config: project.config, templates: project.templates, secret, compiler });
  return { issue, rendered };
}
