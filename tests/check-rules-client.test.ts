import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkProjectIssue, loadProject, type Finding, type RenderedIssue } from '../src/index.js';
import { contrastRatio } from '../src/checks/contrast.js';
import { displayPath } from '../src/fs/display-path.js';
import { ROOT } from './helpers/cli.js';
import { checkFixture, EXAMPLE_CONFIG, fixtureDir, ofRule, shown } from './check-helpers.js';

/**
 * The rules about how clients and readers meet the email: accessibility, client compatibility
 * (caniemail) and dark mode. Each fires on a fixture and stays quiet on the example issue (or, for
 * compat rules that the real templates trip by design, on the tiny clean fixture).
 */

let example: Finding[];
let exampleRender: RenderedIssue;
let tinyClean: Finding[];

beforeAll(async () => {
  const result = await checkProjectIssue(await loadProject({ cwd: ROOT, configFile: EXAMPLE_CONFIG }), 'weekly-1');
  example = result.findings;
  exampleRender = result.rendered;
  tinyClean = (await checkFixture('tiny-clean')).findings;
});

async function lineOf(file: string, text: string): Promise<number> {
  const source = await readFile(file, 'utf8');
  const at = source.indexOf(text);
  expect(at, `${text} in ${file}`).toBeGreaterThanOrEqual(0);
  return source.slice(0, at).split('\n').length;
}

describe('the tiny clean fixture', () => {
  it('has no finding at all', () => {
    expect(tinyClean).toEqual([]);
  });
});

describe('accessibility', () => {
  it('a11y/lang: a layout whose <mjml> has no lang', async () => {
    const found = ofRule((await checkFixture('no-lang')).findings, 'a11y/lang');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: shown(fixtureDir('no-lang'), 'templates/layouts/digest.mjml'), line: 1 });
  });

  it('a11y/layout-tables: a raw <table> without role="presentation", at its template line', async () => {
    const file = path.join(fixtureDir('layout-table'), 'templates/layouts/digest.mjml');
    const found = ofRule((await checkFixture('layout-table')).findings, 'a11y/layout-tables');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: shown(fixtureDir('layout-table'), file), line: await lineOf(file, '<table width="100%"') });
  });

  it('a11y/contrast: a muted colour below 4.5:1 on the page and on cards, at its config line', async () => {
    const config = path.join(fixtureDir('low-contrast'), 'newsletter.config.json');
    const found = ofRule((await checkFixture('low-contrast')).findings, 'a11y/contrast');
    expect(found.map((f) => /on `colors\.(\w+)`/.exec(f.message)?.[1])).toEqual(['background', 'surface']);
    for (const finding of found) expect(finding).toMatchObject({ severity: 'error', file: shown(fixtureDir('low-contrast'), config), line: await lineOf(config, '"muted"') });
    expect(found[1]!.message).toContain('2.38:1');
  });

  it('contrast ratios match WCAG reference values', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    expect(contrastRatio('#777', '#fff')).toBeCloseTo(4.48, 2);
    expect(contrastRatio('#ffffff', '#ffffff')).toBe(1);
  });

  it('a11y/headings: an h3 straight after the h1 title, at its line in the article', async () => {
    const article = path.join(fixtureDir('skipped-heading'), 'content/articles/ferry.md');
    const found = ofRule((await checkFixture('skipped-heading')).findings, 'a11y/headings');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: shown(fixtureDir('skipped-heading'), article), line: await lineOf(article, '### What changes') });
    expect(found[0]!.message).toContain('<h3> "What changes for passengers" follows an <h1>');
  });

  it('stay quiet on the example issue', () => {
    for (const rule of ['a11y/lang', 'a11y/layout-tables', 'a11y/contrast', 'a11y/headings']) expect(ofRule(example, rule), rule).toEqual([]);
  });
});

describe('client compatibility', () => {

  it('the example passes clean: every client-specific feature of its templates is a declared progressive enhancement', () => {
    expect(example.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(ofRule(example, 'compat/unsupported')).toEqual([]);
    const notes = ofRule(example, 'compat/enhancement');
    const features = notes.map((f) => /^`([^`]+)`/.exec(f.message)?.[1]);
    // One note per feature, whatever the number of clients.
    expect(new Set(features).size).toBe(notes.length);
    expect(features).toEqual(expect.arrayContaining(['border-radius', 'white-space', '@media', ':last-child']));
  });

  it('compat/enhancement: the note names the marker line, the clients that ignore it and what their readers get', async () => {
    const head = path.join(ROOT, 'templates/partials/head.mjml');
    const radius = ofRule(example, 'compat/enhancement').find((f) => f.message.startsWith('`border-radius`'))!;
    expect(radius).toMatchObject({ severity: 'info', file: shown(ROOT, head), line: await lineOf(head, 'progressive-enhancement: `border-radius`') });
    expect(radius.message).toMatch(/Outlook \(Windows[^)]*\) ignores it: square corners$/);
    // The marker is an MJML comment of <mj-head>: it never reaches the HTML sent.
    expect(exampleRender.html).not.toContain('progressive-enhancement: `border-radius`');
  });

  it('compat/unsupported: without the markers, the same templates get a warning per client and feature, at the template line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nl-compat-'));
    await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
    for (const partial of ['head.mjml', 'preheader.mjml']) {
      const file = path.join(dir, 'templates/partials', partial);
      await writeFile(file, (await readFile(file, 'utf8')).replace(/<!-- progressive-enhancement:[\s\S]*?-->/g, ''));
    }
    const project = await loadProject({ cwd: ROOT, templates: path.join(dir, 'templates') });
    const { findings, rendered } = await checkProjectIssue(project, 'weekly-1');
    // Only the markers of the head partial are gone (article HTML declares its own wrapping styles).
    expect(ofRule(findings, 'compat/enhancement').map((f) => /^`([^`]+)`/.exec(f.message)?.[1])).not.toContain('border-radius');
    const partial = path.join(dir, 'templates/partials/byline.mjml');
    const whiteSpace = ofRule(findings, 'compat/unsupported').filter((f) => f.message.startsWith('`white-space`'));
    expect(whiteSpace).toHaveLength(1);
    expect(whiteSpace[0]).toMatchObject({ severity: 'warn', client: 'outlook', file: displayPath(partial, ROOT), line: await lineOf(partial, 'white-space:nowrap') });
    expect(whiteSpace[0]!.message).toMatch(/not supported by Outlook \(Windows.*declare it with `<!-- progressive-enhancement: `white-space`/);
    // The count is the number of elements that use it, counted here independently.
    const $ = cheerio.load(rendered.html);
    const uses = $('[style]').filter((_, el) => /white-space\s*:/.test($(el).attr('style')!)).length;
    expect(whiteSpace[0]!.count).toBe(uses);
    const keys = ofRule(findings, 'compat/unsupported').map((f) => `${f.client} ${/^`([^`]+)`/.exec(f.message)?.[1] ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const finding of findings.filter((f) => f.rule.startsWith('compat/') && f.rule !== 'compat/enhancement')) expect(['gmail', 'outlook', 'apple-mail', 'yahoo']).toContain(finding.client);
  });

  it('compat/mjml: what MJML itself emits is one note per client, not a warning', () => {
    const notes = ofRule(example, 'compat/mjml');
    expect(notes.length).toBeGreaterThan(0);
    expect(new Set(notes.map((f) => f.client)).size).toBe(notes.length);
    for (const note of notes) expect(note.severity).toBe('info');
    // caniemail matches <tbody> as <body> and line-height as height; those are not MJML's "uses".
    const outlook = notes.find((f) => f.client === 'outlook')!;
    expect(outlook.message).toMatch(/`<body> element`(?! ×)/);
  });

  it("MJML's Outlook conditionals are not checked as HTML: the same CSS inside one is not flagged", async () => {
    const { findings, rendered } = await checkFixture('compat-conditional');
    expect(rendered.html).toMatch(/<!--\[if mso\]>[^]*display:flex[^]*<!\[endif\]-->/);
    const features = ofRule(findings, 'compat/unsupported').map((f) => /^`([^`]+)`/.exec(f.message)?.[1]);
    expect(features).toContain('display:grid');
    expect(features).not.toContain('display:flex');
  });

  it('compat/partial: off by default, reported per client and feature when the config turns it on', async () => {
    expect(ofRule(example, 'compat/partial')).toEqual([]);
    const found = ofRule((await checkFixture('compat-partial')).findings, 'compat/partial');
    expect(found.length).toBeGreaterThan(0);
    for (const finding of found) {
      expect(finding.severity).toBe('warn');
      expect(finding.message).toMatch(/^`[^`]+` is only partly supported by /);
    }
  });

  it('compat rules stay quiet on the tiny clean fixture (checked for Apple Mail)', () => {
    expect(tinyClean.filter((f) => f.rule.startsWith('compat/'))).toEqual([]);
  });
});

describe('dark mode', () => {
  it('dark-mode/support: no dark colours and no color-scheme is a note at the theme', async () => {
    const found = ofRule((await checkFixture('no-dark-mode')).findings, 'dark-mode/support');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', file: shown(fixtureDir('no-dark-mode'), 'templates/theme.json') });
  });

  it('stays quiet on the example (dark palette) and the tiny clean fixture', () => {
    expect(ofRule(example, 'dark-mode/support')).toEqual([]);
    expect(ofRule(tinyClean, 'dark-mode/support')).toEqual([]);
  });
});
