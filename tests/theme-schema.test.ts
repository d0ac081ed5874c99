import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { fontStack, themeSchema } from '../src/config/schema.js';
import { isNewsletterError } from '../src/errors.js';
import { loadTemplates } from '../src/render/templates.js';
import { ROOT } from './helpers/cli.js';

/** Theme values go into style attributes and <link> tags of every email: validated for what they are. */

const EVIL = 'Arial;background-image:url(https://evil.example/track)';

async function templatesWith(change: (theme: Record<string, any>) => void): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-theme-'));
  const templates = path.join(dir, 'templates');
  await cp(path.join(ROOT, 'templates'), templates, { recursive: true });
  const file = path.join(templates, 'theme.json');
  const theme = JSON.parse(await readFile(file, 'utf8'));
  change(theme);
  await writeFile(file, JSON.stringify(theme, null, 2));
  return templates;
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(() => null, (e: unknown) => e);
  if (!isNewsletterError(error)) throw new Error(`expected a NewsletterError, got ${String(error)}`);
  return error;
}

describe('theme validation', () => {
  it.each([
    ["Georgia, 'Times New Roman', serif", true],
    ["'Helvetica Neue', Helvetica, Arial, sans-serif", true],
    ['"Open Sans", sans-serif', true],
    ['system-ui', true],
    [EVIL, false],
    ["Arial' onmouseover='x", false],
    ['Arial, url(https://evil.example/x)', false],
    ['Arial}</style><script>', false],
    ['a, , b', false],
    ['', false],
  ])('font stack `%s` accepted: %s', (value, ok) => {
    expect(fontStack.safeParse(value).success).toBe(ok);
  });

  it('templates/theme.json with a CSS injection in a font is THEME_INVALID, naming the file and line', async () => {
    const templates = await templatesWith((theme) => (theme.fonts.heading = EVIL));
    const error = await failure(loadTemplates(templates, ROOT));
    expect(error.code).toBe('THEME_INVALID');
    expect(error.file).toMatch(/theme\.json$/);
    expect(error.line).toBeGreaterThan(1);
    expect(error.message).toMatch(/font family names/);
  });

  it('theme URLs must be https', async () => {
    const http = await templatesWith((theme) => {
      theme.fonts.webFontUrl = 'http://fonts.example.com/css?family=Inter';
      theme.fonts.webFontName = 'Inter';
    });
    expect((await failure(loadTemplates(http, ROOT))).code).toBe('THEME_INVALID');
    const js = await templatesWith((theme) => (theme.logo = { url: 'javascript:alert(1)', alt: 'Logo' }));
    expect((await failure(loadTemplates(js, ROOT))).code).toBe('THEME_INVALID');
    const quote = await templatesWith((theme) => (theme.logo = { url: 'https://cdn.example.com/a"onerror="x.png', alt: 'Logo' }));
    expect((await failure(loadTemplates(quote, ROOT))).code).toBe('THEME_INVALID');
    const good = await templatesWith((theme) => (theme.logo = { url: 'https://cdn.example.com/logo.png', alt: 'Logo' }));
    expect((await loadTemplates(good, ROOT)).theme.logo?.url).toBe('https://cdn.example.com/logo.png');
  });

  it('a theme override in the config is validated the same way', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-theme-config-'));
    const config = JSON.parse(await readFile(path.join(ROOT, 'newsletter.config.json'), 'utf8'));
    config.theme = { fonts: { body: EVIL } };
    await writeFile(path.join(dir, 'newsletter.config.json'), JSON.stringify(config, null, 2));
    const error = await failure(loadConfig({ cwd: dir }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/font family names/);
    expect(themeSchema.safeParse({ fonts: { webFontName: "Inter'; color:red" } }).success).toBe(false);
  });
});
