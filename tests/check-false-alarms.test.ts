import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkProjectIssue, loadProject, runChecks, type Finding, type Project, type RenderedIssue } from '../src/index.js';
import { ROOT } from './helpers/cli.js';
import { fixtureDir, ofRule } from './check-helpers.js';

/**
 * Regressions of findings that were not true: an article titled with a word of the postal address,
 * a mailto: link the plain text does carry, and the anchors MJML writes for mj-carousel. The
 * fixture is a real project: the shipped templates plus a gallery layout with a carousel.
 */

const FIXTURE = fixtureDir('false-alarms');
let project: Project;
const results = new Map<string, { findings: Finding[]; rendered: RenderedIssue }>();

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-false-alarms-'));
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  await cp(path.join(FIXTURE, 'layouts/gallery.mjml'), path.join(dir, 'templates/layouts/gallery.mjml'));
  project = await loadProject({ cwd: FIXTURE, content: path.join(FIXTURE, 'content'), templates: path.join(dir, 'templates') });
  for (const slug of ['issue', 'digest']) results.set(slug, await checkProjectIssue(project, slug));
}, 60_000);

describe('false alarms', () => {
  it('neither issue has a warning or an error', () => {
    for (const [slug, { findings }] of results) expect(findings.filter((f) => f.severity !== 'info'), slug).toEqual([]);
  });

  it('compliance/postal-address: an article titled "Bristol" is not the address', () => {
    expect(project.config.postalAddress).toContain('Bristol');
    for (const { findings } of results.values()) expect(ofRule(findings, 'compliance/postal-address')).toEqual([]);
  });

  it('compliance/postal-address still fires when the address is only above the articles', async () => {
    const { rendered } = results.get('digest')!;
    const address = project.config.postalAddress;
    expect(rendered.html).toContain(address);
    const html = rendered.html.replaceAll(address, '').replace(/<body[^>]*>/, (body) => `${body}<p>${address}</p>`);
    const findings = await runChecks({ project, issue: (await checkProjectIssue(project, 'digest')).issue, rendered: { ...rendered, html } });
    expect(ofRule(findings, 'compliance/postal-address').map((f) => f.message)).toEqual([expect.stringMatching(/appears only above the articles/)]);
  });

  it('text/articles: a mailto: link is in the plain text when its address is', () => {
    const { rendered, findings } = results.get('digest')!;
    expect(rendered.html).toContain('href="mailto:team@example.org"');
    expect(rendered.text).not.toContain('mailto:');
    expect(rendered.text).toContain('team@example.org');
    expect(ofRule(findings, 'text/articles')).toEqual([]);
  });

  it('text/articles still fires when the address is missing from the plain text', async () => {
    const { rendered } = results.get('digest')!;
    const { issue } = await checkProjectIssue(project, 'digest');
    const findings = await runChecks({ project, issue, rendered: { ...rendered, text: rendered.text.replaceAll('team@example.org', '') } });
    expect(ofRule(findings, 'text/articles').map((f) => f.message)).toEqual([expect.stringContaining('`mailto:team@example.org`')]);
  });

  it("links/malformed: the thumbnails' #1…#4 anchors MJML writes for mj-carousel are not links of the email", () => {
    const { rendered, findings } = results.get('issue')!;
    const $ = cheerio.load(rendered.html);
    expect($('a[href="#1"]').length).toBeGreaterThan(0);
    expect(ofRule(findings, 'links/malformed')).toEqual([]);
    // Nor are its arrows pictures: 4 photos, not 4 photos and 2 icons (or 12 copies).
    expect(ofRule(findings, 'images/text-ratio')).toEqual([]);
  });

  it('links/malformed still fires on a relative link an editor wrote, at its line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-false-alarms-'));
    await cp(FIXTURE, dir, { recursive: true });
    const article = path.join(dir, 'content/articles/bristol.md');
    await writeFile(article, `${await readFile(article, 'utf8')}\nSee [the schedule](#2) and [the map](www.example.org/map).\n`);
    const local = await loadProject({ cwd: dir, content: path.join(dir, 'content'), templates: project.config.paths.templates });
    const { findings } = await checkProjectIssue(local, 'digest');
    expect(ofRule(findings, 'links/malformed').map((f) => /^link `([^`]+)`/.exec(f.message)?.[1])).toEqual(['#2', 'www.example.org/map']);
  });
});
