import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkProjectIssue, loadProject, type CheckOptions, type Finding, type Project } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

/**
 * The example's config with `links/example-domain` off: the example's domains are example.com on
 * purpose, and `check` says so (an error); tests whose subject is not that read the example with
 * this config.
 */
export const EXAMPLE_CONFIG = path.join(ROOT, 'tests/fixtures/example-config/newsletter.config.json');
export const EXAMPLE_CONFIG_ARGS: readonly string[] = ['--config', EXAMPLE_CONFIG];

/** The check fixtures: tests/fixtures/checks/<case>/ holds content/, a config and, when the case is about templates, templates/. */
export const CHECK_FIXTURES = path.join(ROOT, 'tests/fixtures/checks');

export function fixtureDir(name: string): string {
  return path.join(CHECK_FIXTURES, name);
}

/** CLI flags that point `newsletter` at a fixture project; the real templates unless the case has its own. */
export function fixtureArgs(name: string): string[] {
  const dir = fixtureDir(name);
  const templates = existsSync(path.join(dir, 'templates')) ? path.join(dir, 'templates') : path.join(ROOT, 'templates');
  const config = path.join(dir, 'newsletter.config.json');
  return [...(existsSync(config) ? ['--config', config] : []), '--content', path.join(dir, 'content'), '--templates', templates];
}

const projects = new Map<string, Promise<Project>>();

/** The fixture loaded as `newsletter` would load it (its config, or none: the built-in defaults). */
export function fixtureProject(name: string): Promise<Project> {
  let project = projects.get(name);
  if (!project) {
    const dir = fixtureDir(name);
    const templates = existsSync(path.join(dir, 'templates')) ? path.join(dir, 'templates') : path.join(ROOT, 'templates');
    project = loadProject({ cwd: dir, content: path.join(dir, 'content'), templates });
    projects.set(name, project);
  }
  return project;
}

export async function checkFixture(name: string, issue = 'issue', options: CheckOptions = {}) {
  return checkProjectIssue(await fixtureProject(name), issue, options);
}

export function ofRule(findings: readonly Finding[], rule: string): Finding[] {
  return findings.filter((finding) => finding.rule === rule);
}

/** Path as findings show it: relative to the request's `cwd` (a fixture's folder for fixtureProject, ROOT for the CLI runs). */
export function shown(cwd: string, ...parts: string[]): string {
  return path.relative(cwd, path.resolve(cwd, ...parts));
}
