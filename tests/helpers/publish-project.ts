import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject, type Project } from '../../src/pipeline.js';
import { ROOT } from './cli.js';

/** A throwaway project with the example's article and config, and as many issues as a test asks for. */

export interface IssueSpec {
  slug: string;
  subject?: string;
  date?: string | null;
  draft?: boolean;
  preheader?: string;
}

export interface PublishProject {
  dir: string;
  out: string;
  site: string;
  templates: string;
  load(): Promise<Project>;
  writeIssue(spec: IssueSpec): Promise<void>;
}

export function issueSource(spec: IssueSpec): string {
  const lines = ['---', `subject: ${JSON.stringify(spec.subject ?? `Issue ${spec.slug}`)}`];
  lines.push(`preheader: ${JSON.stringify(spec.preheader ?? `The news of ${spec.slug}, with enough words to fill an inbox preview line.`)}`);
  if (spec.date !== null) lines.push(`date: ${spec.date ?? '2024-01-01'}`);
  if (spec.draft) lines.push('draft: true');
  lines.push('articles:', '  - slug: kim-putin-summit', '    title: "Kim Jong Un to travel to Russia for talks with Putin"', '---', `The intro of ${spec.slug}.`, '');
  return lines.join('\n');
}

export async function publishProject(issues: readonly IssueSpec[], options: { templates?: string } = {}): Promise<PublishProject> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-publish-'));
  await mkdir(path.join(dir, 'content/issues'), { recursive: true });
  await cp(path.join(ROOT, 'content/articles'), path.join(dir, 'content/articles'), { recursive: true });
  await cp(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  const templates = options.templates ?? path.join(ROOT, 'templates');
  const project: PublishProject = {
    dir,
    out: path.join(dir, 'dist'),
    site: path.join(dir, 'dist/site'),
    templates,
    load: () => loadProject({ cwd: dir, content: path.join(dir, 'content'), templates, out: path.join(dir, 'dist') }),
    writeIssue: (spec) => writeFile(path.join(dir, 'content/issues', `${spec.slug}.md`), issueSource(spec)),
  };
  for (const spec of issues) await project.writeIssue(spec);
  return project;
}
