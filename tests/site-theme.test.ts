import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { launchTestBrowser } from './helpers/browser.js';
import { publishProject, type PublishProject } from './helpers/publish-project.js';
import { publishSite } from '../src/publish/publish-site.js';
import { loadSiteTemplates, sitePageContext } from '../src/publish/site-templates.js';
import { escapeCssValue } from '../src/css-escape.js';
import type { Project } from '../src/pipeline.js';

/**
 * The site pages (archive, web edition, unsubscribe) in the theme's fonts, colours and sizes, as
 * Chromium computes them: a theme value the browser dropped (an HTML-escaped font stack inside
 * <style>) shows up as the browser's default instead.
 */

const THEME = {
  colors: { background: '#f0ead6', surface: '#fffdf7', text: '#202830', muted: '#5a5f66', accent: '#8a2b0e', accentText: '#ffffff', link: '#1d4e89', border: '#d8cfb8' },
  fonts: { body: "Palatino, 'Book Antiqua', serif", heading: "'Trebuchet MS', Verdana, sans-serif" },
  width: 560,
  radius: 10,
};

const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
/** Chromium's computed font-family writes quoted names with double quotes. */
const family = (stack: string) => stack.replace(/'/g, '"');

let site: PublishProject;
let project: Project;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const templates = await mkdtemp(path.join(os.tmpdir(), 'nl-site-theme-'));
  await cp(path.join(ROOT, 'templates'), templates, { recursive: true });
  const themeFile = path.join(templates, 'theme.json');
  const theme = JSON.parse(await readFile(themeFile, 'utf8'));
  await writeFile(themeFile, JSON.stringify({ ...theme, ...THEME, fonts: { ...theme.fonts, ...THEME.fonts }, colors: { ...theme.colors, ...THEME.colors } }, null, 2));
  site = await publishProject([{ slug: 'first', date: '2024-02-01' }], { templates });
  project = await site.load();
  await publishSite({ project, now: new Date('2024-03-01') });
  browser = await launchTestBrowser();
  page = await browser.newPage({ viewport: { width: 800, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

function computed(selector: string, properties: string[]): Promise<Record<string, string>> {
  return page.$eval(
    selector,
    (element, names) => {
      const style = getComputedStyle(element);
      return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name)]));
    },
    properties,
  );
}

async function expectSiteLook(): Promise<void> {
  expect(await computed('body', ['font-family', 'color', 'background-color', 'font-size'])).toEqual({
    'font-family': family(THEME.fonts.body),
    color: rgb(THEME.colors.text),
    'background-color': rgb(THEME.colors.background),
    'font-size': '17px',
  });
  expect(await computed('main', ['max-width'])).toEqual({ 'max-width': `${THEME.width}px` });
  expect(await computed('header.masthead a', ['font-family', 'color'])).toEqual({ 'font-family': family(THEME.fonts.heading), color: rgb(THEME.colors.text) });
  expect(await computed('.card', ['background-color', 'border-top-color', 'border-top-left-radius'])).toEqual({
    'background-color': rgb(THEME.colors.surface),
    'border-top-color': rgb(THEME.colors.border),
    'border-top-left-radius': `${THEME.radius}px`,
  });
  expect(await computed('footer', ['font-family', 'color'])).toEqual({ 'font-family': family(THEME.fonts.heading), color: rgb(THEME.colors.muted) });
}

describe('site pages in the theme', () => {
  it('the archive', async () => {
    await page.goto(pathToFileURL(path.join(site.site, 'index.html')).href);
    await expectSiteLook();
    expect(await computed('.card h2', ['font-family'])).toEqual({ 'font-family': family(THEME.fonts.heading) });
  });

  it('the unsubscribe page', async () => {
    const pages = await loadSiteTemplates(project.templates);
    const html = pages.render('unsubscribe', { ...sitePageContext(project.config, project.templates.theme), state: 'confirm', email: 'reader@example.com', actionUrl: 'https://news.example.com/unsubscribe/x', formToken: 'form-token' });
    await page.setContent(html);
    await expectSiteLook();
    expect(await computed('button', ['background-color', 'color', 'font-family', 'border-top-left-radius'])).toEqual({
      'background-color': rgb(THEME.colors.accent),
      color: rgb(THEME.colors.accentText),
      'font-family': family(THEME.fonts.heading),
      'border-top-left-radius': `${THEME.radius}px`,
    });
  });

  it('the web edition', async () => {
    await page.goto(pathToFileURL(path.join(site.site, 'issues/first/index.html')).href);
    expect(await computed('body', ['background-color'])).toEqual({ 'background-color': rgb(THEME.colors.background) });
    expect(await computed('h1', ['font-family', 'color'])).toEqual({ 'font-family': family(THEME.fonts.heading), color: rgb(THEME.colors.text) });
    expect(await computed('.nl-prose p', ['font-family'])).toEqual({ 'font-family': family(THEME.fonts.body) });
    // The email's width: the page's column is the theme's width, not wider.
    const column = await page.$eval('.nl-surface', (element) => element.getBoundingClientRect().width);
    expect(column).toBeLessThanOrEqual(THEME.width);
  });
});

describe('escapeCssValue', () => {
  it('keeps a font stack as CSS reads it', () => {
    expect(escapeCssValue("Georgia, 'Times New Roman', serif")).toBe("Georgia, 'Times New Roman', serif");
    expect(escapeCssValue('#a3361f')).toBe('#a3361f');
  });

  it('escapes what could end the value, the rule or the <style> element', () => {
    expect(escapeCssValue('red;}</style><script>x</script>')).toBe('red\\3b \\7d \\3c /style\\3e \\3c script\\3e x\\3c /script\\3e ');
    expect(escapeCssValue('a /* b')).toBe('a /\\2a  b');
    expect(escapeCssValue("O'Neil Sans")).toBe('O\\27 Neil Sans');
  });
});
