import { cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';
import { loadProject, renderProjectIssue } from '../src/pipeline.js';
import { layoutFor } from '../src/render/templates.js';
import type { NewsletterError } from '../src/errors.js';

/**
 * `<mj-include>` as the MJML gallery writes it (a footer in its own file, a stylesheet with
 * type="css"), resolved inside templates/ only: every way out of the folder is refused with the
 * including file and line, and the file outside is never read into any output.
 */

const SECRET = 'TOP-SECRET-OUTSIDE-TEMPLATES';

async function project(layout: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-include-'));
  await cp(path.join(FIXTURES, 'real-content/content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(FIXTURES, 'real-content/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  await writeFile(path.join(dir, 'secret.mjml'), `<mj-text>${SECRET}</mj-text>\n`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, 'templates', name)), { recursive: true });
    await writeFile(path.join(dir, 'templates', name), text);
  }
  await writeFile(path.join(dir, 'templates/layouts/included.mjml'), layout);
  await writeFile(path.join(dir, 'content/issues/included.md'), '---\nsubject: Included\ntemplate: included\narticles:\n  - harbour-bundle\n---\nIntro.\n');
  return dir;
}

const LAYOUT = (include: string) =>
  ['<mjml lang="{{lang}}">', '  {{> head}}', '  <mj-body width="{{theme.width}}px">', '', '', '    {{> preheader}}', `    ${include}`, '    {{> footer}}', '  </mj-body>', '</mjml>', ''].join('\n');

async function brokenError(dir: string): Promise<NewsletterError> {
  const { templates } = await loadProject({ cwd: dir });
  try {
    layoutFor(templates, 'included');
  } catch (error) {
    return error as NewsletterError;
  }
  throw new Error('the layout was not refused');
}

describe('<mj-include>', () => {
  it('includes an MJML file (its <mjml><mj-body> wrapper dropped, its fields filled) and a stylesheet, from inside templates/', async () => {
    const dir = await project(LAYOUT('<mj-include path="../includes/banner.mjml" />\n    <mj-include path="../includes/style.css" type="css" css-inline="inline" />'), {
      'includes/banner.mjml': '<mjml>\n  <mj-body>\n    <mj-section><mj-column><mj-text css-class="banner">Banner of {{newsletter.name}}</mj-text></mj-column></mj-section>\n  </mj-body>\n</mjml>\n',
      'includes/style.css': '.banner { letter-spacing: 3px; }\n',
    });
    const { rendered } = await renderProjectIssue(await loadProject({ cwd: dir }), 'included');
    const $ = cheerio.load(rendered.html);
    const banner = $('.banner');
    expect(banner.text().trim()).toBe('Banner of The Harbour Weekly');
    // css-inline="inline": the rule is inlined on the element, as MJML does.
    expect(banner.attr('style')).toMatch(/letter-spacing:\s*3px/);
  });

  it('names the included file and line for an unknown variable inside it', async () => {
    const dir = await project(LAYOUT('<mj-include path="../includes/banner.mjml" />'), {
      'includes/banner.mjml': '<mj-section>\n  <mj-column>\n    <mj-text>{{newsletter.nmae}}</mj-text>\n  </mj-column>\n</mj-section>\n',
    });
    const error = await brokenError(dir);
    expect(error.format()).toMatch(/templates[/\\]includes[/\\]banner\.mjml:3: unknown variable `newsletter\.nmae`/);
  });

  const escapes: [string, (dir: string) => Promise<void>, string][] = [
    ['a path with ..', async () => undefined, '../../secret.mjml'],
    ['an absolute path', async () => undefined, '/etc/passwd'],
    ['an absolute path to the file itself', async () => undefined, '__ABSOLUTE__'],
    ['entities that spell ..', async () => undefined, '&#46;&#46;/&#x2e;&#x2E;/secret.mjml'],
    ['a Windows drive path', async () => undefined, 'C:\\secret.mjml'],
    ['a symlink inside templates/ to a file outside', async (dir) => symlink(path.join(dir, 'secret.mjml'), path.join(dir, 'templates/layouts/link.inc')), './link.inc'],
    ['a symlinked folder leading outside', async (dir) => symlink(dir, path.join(dir, 'templates/up')), '../up/secret.mjml'],
  ];
  for (const [name, setup, written] of escapes) {
    it(`refuses ${name}, at the including line, and never reads the file`, async () => {
      const dir = await project('');
      const target = written === '__ABSOLUTE__' ? path.join(dir, 'secret.mjml') : written;
      await writeFile(path.join(dir, 'templates/layouts/included.mjml'), LAYOUT(`<mj-include path="${target}" />`));
      await setup(dir);
      const error = await brokenError(dir);
      expect(error.code).toBe('TEMPLATE_SYNTAX');
      expect(error.file).toMatch(/layouts[/\\]included\.mjml$/);
      expect(error.line).toBe(7);
      expect(error.message).toMatch(/absolute path is refused|outside the templates folder/);
      // Only the issues that use the layout fail; the others build, with a warning.
      const build = await runCli(['build'], { cwd: dir, timeoutMs: 90_000 });
      expect(build.stderr).toMatch(/^included: failed\ntemplates[/\\]layouts[/\\]included\.mjml:7: /m);
      expect(build.stdout).toMatch(/dist[/\\]digest[/\\]index\.html/);
      expect(build.stdout + build.stderr).not.toContain(SECRET);
    }, 120_000);
  }

  it('a percent-encoded path is a file name like any other: not found, never decoded into ..', async () => {
    const dir = await project(LAYOUT('<mj-include path="%2e%2e/%2e%2e/secret.mjml" />'));
    const error = await brokenError(dir);
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.line).toBe(7);
  });

  it('refuses an include of itself', async () => {
    const dir = await project(LAYOUT('<mj-include path="./included.mjml" />'));
    const error = await brokenError(dir);
    expect(error.message).toMatch(/includes itself/);
  });

  it('leaves a layout that does not use the include untouched by an unrelated broken one', async () => {
    const dir = await project(LAYOUT('<mj-include path="../../secret.mjml" />'));
    const built = await runCli(['build', 'digest'], { cwd: dir, timeoutMs: 90_000 });
    expect(built.code).toBe(0);
    const html = await readFile(path.join(dir, 'dist/digest/index.html'), 'utf8');
    expect(html).not.toContain(SECRET);
  }, 120_000);
});
