import { cp, mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { simpleParser } from 'mailparser';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';
import { loadProject, renderProjectIssue } from '../src/pipeline.js';
import { loadIssue } from '../src/content/load-issue.js';
import { compileIssue } from '../src/render/personalize.js';
import { renderWebEdition } from '../src/render/web-edition.js';
import { layoutFor } from '../src/render/templates.js';
import type { NewsletterError } from '../src/errors.js';

/**
 * Images a layout writes next to it, as the MJML gallery does (`<mj-image src="./img/logo.png">`,
 * `background-url`, `url()` in an mj-style): processed and placed like article images in every
 * render path, read from inside templates/ only.
 */

const FIXTURE = path.join(FIXTURES, 'template-images');
const ASSET_URL = /^https:\/\/harbour\.example\.com\/assets\/([\w-]+-[0-9a-f]{12}\.(?:png|jpg))$/;

async function project(files: Record<string, string> = {}, config: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-template-images-'));
  await cp(path.join(FIXTURE, 'content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  await cp(path.join(FIXTURE, 'templates'), path.join(dir, 'templates'), { recursive: true });
  const base = JSON.parse(await readFile(path.join(FIXTURE, 'newsletter.config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'newsletter.config.json'), JSON.stringify({ ...base, ...config }, null, 2));
  await mkdir(path.join(dir, 'templates/layouts/img'), { recursive: true });
  await sharp({ create: { width: 240, height: 80, channels: 4, background: '#0a5c36' } }).png().toFile(path.join(dir, 'templates/layouts/img/logo.png'));
  await sharp({ create: { width: 1200, height: 400, channels: 3, background: '#123456' } }).jpeg().toFile(path.join(dir, 'templates/layouts/img/bg.jpg'));
  // Outside templates/: no template may read it.
  await sharp({ create: { width: 7, height: 7, channels: 3, background: '#ff0000' } }).png().toFile(path.join(dir, 'secret.png'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, 'templates', name)), { recursive: true });
    await writeFile(path.join(dir, 'templates', name), text);
  }
  return dir;
}

/** The `url()`s of the HTML's style elements. */
function cssUrls($: cheerio.CheerioAPI): string[] {
  const css = $('style')
    .map((_, el) => $(el).text())
    .get()
    .join('\n');
  return [...css.matchAll(/url\(\s*['"]?([^'")\s]+)['"]?\s*\)/g)].map((m) => m[1]!);
}

/** A one-section layout with `body` in its column; line 5 is the first line of `body`. */
const LAYOUT = (body: string) =>
  ['<mjml lang="{{lang}}">', '  {{> head}}', '  <mj-body width="{{theme.width}}px">', '    <mj-section><mj-column>', `      ${body}`, '    </mj-column></mj-section>', '    {{> footer}}', '  </mj-body>', '</mjml>', ''].join('\n');

async function issueUsing(dir: string, layout: string): Promise<void> {
  await writeFile(path.join(dir, `content/issues/${layout}.md`), `---\nsubject: Uses ${layout}\ntemplate: ${layout}\narticles:\n  - tides\n---\nIntro.\n`);
}

async function brokenError(dir: string, layout: string): Promise<NewsletterError> {
  const { templates } = await loadProject({ cwd: dir });
  try {
    layoutFor(templates, layout);
  } catch (error) {
    return error as NewsletterError;
  }
  throw new Error(`layout ${layout} was not refused`);
}

describe('relative images in templates', () => {
  it('build hosts a layout’s logo, section background and CSS background like article images, under dist/assets', async () => {
    const dir = await project();
    const result = await runCli(['build', 'branded'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const html = await readFile(path.join(dir, 'dist/branded/index.html'), 'utf8');
    const $ = cheerio.load(html);

    const logo = $('.nl-logo img').attr('src') ?? '';
    expect(logo).toMatch(ASSET_URL);
    const logoFile = path.join(dir, 'dist/assets', ASSET_URL.exec(logo)![1]!);
    expect((await sharp(logoFile).metadata()).width).toBe(240);

    // background-url becomes MJML's table background (and a CSS background), the mj-style rule keeps its url().
    const background = $('.nl-masthead table[background]').attr('background') ?? '';
    expect(background).toMatch(ASSET_URL);
    expect(background).toMatch(/\/bg-[0-9a-f]{12}\.jpg$/);
    expect(cssUrls($)).toContain(background);
    expect((await sharp(path.join(dir, 'dist/assets', ASSET_URL.exec(background)![1]!)).metadata()).format).toBe('jpeg');
    expect(html).not.toContain('./img/');
  });

  it('with images: "embed", each template image is a cid: part of the message', async () => {
    const dir = await project({}, { images: 'embed' });
    const result = await runCli(['build', 'branded'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const message = await simpleParser(await readFile(path.join(dir, 'dist/branded/message.eml')), { keepCidLinks: true });
    const $ = cheerio.load(message.html || '');
    const logo = $('.nl-logo img').attr('src') ?? '';
    expect(logo).toMatch(/^cid:[0-9a-f]{16}@newsletter$/);
    const part = message.attachments.find((a) => a.cid === logo.slice(4));
    expect(part?.contentType).toBe('image/png');
    expect((await sharp(part!.content).metadata()).width).toBe(240);
    const background = $('.nl-masthead table[background]').attr('background') ?? '';
    expect(message.attachments.find((a) => a.cid === background.replace(/^cid:/, ''))?.contentType).toBe('image/jpeg');
  });

  it('resolves an image relative to the included file or stylesheet that writes it', async () => {
    const dir = await project({
      'layouts/social.mjml': LAYOUT('<mj-text>Follow us</mj-text>\n    </mj-column></mj-section>\n    <mj-include path="../includes/social.mjml" />\n    <mj-include path="../includes/style.css" type="css" />\n    <mj-section><mj-column>'),
      'includes/social.mjml': '<mj-section>\n  <mj-column>\n    <mj-social>\n      <mj-social-element src="./icons/boat.png" href="https://harbour.example.com/" alt="Boat">Boat</mj-social-element>\n    </mj-social>\n  </mj-column>\n</mj-section>\n',
      'includes/style.css': '.nl-body { background-image: url(icons/wave.png); }\n',
    });
    await mkdir(path.join(dir, 'templates/includes/icons'));
    await sharp({ create: { width: 30, height: 30, channels: 3, background: '#003366' } }).png().toFile(path.join(dir, 'templates/includes/icons/boat.png'));
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#336699' } }).png().toFile(path.join(dir, 'templates/includes/icons/wave.png'));
    await issueUsing(dir, 'social');
    const { rendered } = await renderProjectIssue(await loadProject({ cwd: dir }), 'social');
    const $ = cheerio.load(rendered.html);
    const icon = $('img[alt="Boat"]').attr('src') ?? '';
    expect(icon).toMatch(/\/assets\/boat-[0-9a-f]{12}\.png$/);
    expect(cssUrls($).some((url) => /\/assets\/wave-[0-9a-f]{12}\.png$/.test(url))).toBe(true);
    const names = rendered.assets.map((a) => a.name);
    expect(names).toHaveLength(2);
    expect(names).toContain(ASSET_URL.exec(icon)![1]!);
    expect(names.some((name) => name.startsWith('wave-'))).toBe(true);
  });

  it('places them in the per-recipient copies of a send and in the web edition too', async () => {
    const dir = await project();
    const { config, templates } = await loadProject({ cwd: dir });
    const issue = await loadIssue(config.paths.content, 'branded', config.paths.cwd);
    const compiled = await compileIssue(issue, { config, templates, secret: 'k', fields: ['email'] });
    const copy = await compiled.personalize({ email: 'reader@example.com' });
    const logo = cheerio.load(copy.html)('.nl-logo img').attr('src') ?? '';
    expect(logo).toMatch(ASSET_URL);
    expect(compiled.assets.map((a) => a.url)).toContain(logo);
    const web = await renderWebEdition(issue, { config, templates });
    expect(cheerio.load(web.html)('.nl-logo img').attr('src')).toBe(logo);
    expect(web.assets.map((a) => a.url)).toContain(logo);
  });

  it('leaves URLs, values filled at render time and commented-out images as written, next to a placed one', async () => {
    const dir = await project({
      'layouts/kept.mjml': LAYOUT(
        '<mj-image src="https://cdn.example.com/logo.png" alt="CDN" />\n      <mj-image src="{{newsletter.homeUrl}}logo.png" alt="Home" />\n      {{!-- <mj-image src="./img/gone.png" /> --}}\n      <mj-image src="cid:logo@example" alt="Cid" />\n      <mj-image src="img/logo.png" alt="Local" />',
      ),
    });
    await issueUsing(dir, 'kept');
    const { rendered } = await renderProjectIssue(await loadProject({ cwd: dir }), 'kept');
    const $ = cheerio.load(rendered.html);
    expect($('img[alt="CDN"]').attr('src')).toBe('https://cdn.example.com/logo.png');
    expect($('img[alt="Home"]').attr('src')).toBe('https://harbour.example.com/logo.png');
    expect($('img[alt="Cid"]').attr('src')).toBe('cid:logo@example');
    expect(rendered.assets.map((a) => a.url)).toEqual([$('img[alt="Local"]').attr('src')]);
    expect(rendered.assets[0]!.name).toMatch(/^logo-[0-9a-f]{12}\.png$/);
  });

  const escapes: [string, (dir: string) => Promise<void>, string][] = [
    ['a path with ..', async () => undefined, '../../secret.png'],
    ['an absolute path', async () => undefined, '__ABSOLUTE__'],
    ['entities that spell ..', async () => undefined, '&#46;&#46;/&#x2e;&#x2E;/secret.png'],
    ['percent-escapes that spell ..', async () => undefined, '%2e%2e/%2E%2E/secret.png'],
    ['a symlink inside templates/ to a file outside', async (dir) => symlink(path.join(dir, 'secret.png'), path.join(dir, 'templates/layouts/img/link.png')), './img/link.png'],
  ];
  for (const [name, setup, written] of escapes) {
    it(`refuses ${name}, at the template's line, and never reads the file`, async () => {
      const dir = await project();
      await setup(dir);
      const src = written === '__ABSOLUTE__' ? path.join(dir, 'secret.png') : written;
      await writeFile(path.join(dir, 'templates/layouts/escape.mjml'), LAYOUT(`<mj-image src="${src}" alt="x" />`));
      await issueUsing(dir, 'escape');
      const error = await brokenError(dir, 'escape');
      expect(error.file).toBe(path.join('templates', 'layouts', 'escape.mjml'));
      expect(error.line).toBe(5);
      expect(error.message).toMatch(/outside the templates folder|absolute path is refused/);
    });
  }

  it('the CLI refuses a path out of templates/ at its line, builds the issues of other layouts, and writes nothing of the file', async () => {
    const dir = await project({ 'layouts/escape.mjml': LAYOUT('<mj-text>Hi</mj-text>\n      <mj-image src="./../../../secret.png" alt="x" />') });
    await issueUsing(dir, 'escape');
    const failed = await runCli(['build', 'escape'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/templates[/\\]layouts[/\\]escape\.mjml:6: image `\.\/\.\.\/\.\.\/\.\.\/secret\.png` is outside the templates folder/);
    const other = await runCli(['build', 'branded'], { cwd: dir });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/escape\.mjml:6.*layout `escape` cannot be used/);
    const secret = await readFile(path.join(dir, 'secret.png'));
    for (const name of await readdir(path.join(dir, 'dist/assets'))) expect((await readFile(path.join(dir, 'dist/assets', name))).equals(secret)).toBe(false);
  });

  it('a missing image is an error naming the template file and line', async () => {
    const dir = await project({ 'layouts/missing.mjml': LAYOUT('<mj-text>Hi</mj-text>\n\n      <mj-section background-url="./img/nope.jpg"></mj-section>') });
    const error = await brokenError(dir, 'missing');
    expect(error.code).toBe('TEMPLATE_NOT_FOUND');
    expect(error.format()).toMatch(/templates[/\\]layouts[/\\]missing\.mjml:7: image `\.\/img\/nope\.jpg`: no such file \(looked for templates[/\\]layouts[/\\]img[/\\]nope\.jpg\)/);
  });
});
