import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProjectIssue, loadConfig, loadIssue, loadProject, loadTemplates, type Finding, type NewsletterError } from '../src/index.js';
import { lineOfJsonKey } from '../src/text-position.js';
import { FIXTURES, ROOT } from './helpers/cli.js';

/**
 * Every finding names the file and line the user edits: an article's own line for what the article
 * holds, theme.json for the theme, the config key's own line; schema errors say what to write;
 * slugs get a "did you mean". The project is tests/fixtures/finding-places (an article with one
 * problem a line) with the repository's templates, copied to a temp folder where a test may edit.
 */

let dir: string;
const ARTICLE = path.join('content', 'articles', 'places', 'index.md');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nl-places-'));
  await cp(path.join(FIXTURES, 'finding-places'), dir, { recursive: true });
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The 1-based line of the first line of `file` (in the temp project) that contains `text`. */
async function lineWith(file: string, text: string, nth = 0): Promise<number> {
  const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n');
  const hits = lines.map((line, i) => (line.includes(text) ? i + 1 : 0)).filter(Boolean);
  if (!hits[nth]) throw new Error(`${file} has no line ${nth + 1} with ${text}`);
  return hits[nth]!;
}

async function thrown(promise: Promise<unknown>): Promise<NewsletterError> {
  try {
    await promise;
  } catch (error) {
    return error as NewsletterError;
  }
  throw new Error('expected an error');
}

describe("an article's content is found in the article, at its line", () => {
  let findings: Finding[];
  beforeAll(async () => {
    const project = await loadProject({ cwd: dir });
    findings = (await checkProjectIssue(project, 'places-1')).findings;
  }, 60_000);
  const of = (rule: string) => findings.filter((f) => f.rule === rule).map((f) => ({ file: f.file, line: f.line, message: f.message }));

  it('each href="#" at its own line', async () => {
    expect(of('links/empty-href').map((f) => [f.file, f.line])).toEqual([
      [ARTICLE, await lineWith(ARTICLE, '[privacy policy](#)')],
      [ARTICLE, await lineWith(ARTICLE, '[second placeholder](#)')],
    ]);
    // Clients that mishandle a jump link: said at the article's first one, not at the layout.
    const anchors = findings.filter((f) => f.rule.startsWith('compat/') && f.message.includes('Local anchors'));
    expect(anchors.length).toBeGreaterThan(0);
    for (const finding of anchors) expect([finding.file, finding.line]).toEqual([ARTICLE, await lineWith(ARTICLE, '[privacy policy](#)')]);
  });

  it('a relative link at its link, not at an earlier mention in prose; a pasted Windows path in the article', async () => {
    const malformed = of('links/malformed');
    expect(malformed.find((f) => f.message.startsWith('link `/docs/`'))).toMatchObject({ file: ARTICLE, line: await lineWith(ARTICLE, '[the docs](/docs/)') });
    expect(malformed.find((f) => f.message.includes('the minutes'))).toMatchObject({ file: ARTICLE, line: await lineWith(ARTICLE, '[the minutes](\\\\server\\minutes)') });
    expect(malformed.every((f) => f.file === ARTICLE)).toBe(true);
  });

  it('an image without alt text in the article, a local one by the path the author wrote', async () => {
    const alt = of('images/alt');
    expect(alt).toHaveLength(2);
    expect(alt[0]).toMatchObject({ file: ARTICLE, line: await lineWith(ARTICLE, '![](./photo.png)') });
    expect(alt[0]!.message).toMatch(/^image `\.\/photo\.png` has an empty alt text/);
    expect(alt[1]).toMatchObject({ file: ARTICLE, line: await lineWith(ARTICLE, '<img src="https://images.example.com/chart.png"') });
    expect(findings.filter((f) => f.file?.endsWith('.mjml') && /^(links|images)\//.test(f.rule))).toEqual([]);
  });
});

describe('the theme and the config at their own lines', () => {
  it("a failing theme colour at its line of theme.json, even when the config overrides other colours", async () => {
    const theme = path.join('templates', 'theme.json');
    const text = await readFile(path.join(dir, theme), 'utf8');
    const other = await mkdtemp(path.join(os.tmpdir(), 'nl-places-theme-'));
    try {
      await cp(dir, other, { recursive: true });
      await writeFile(path.join(other, theme), text.replace(/"muted": "#[0-9a-f]+"/, '"muted": "#b8bcc4"'));
      const project = await loadProject({ cwd: other });
      const { findings } = await checkProjectIssue(project, 'places-1');
      const contrast = findings.filter((f) => f.rule === 'a11y/contrast' && f.message.startsWith('`colors.muted`'));
      expect(contrast.length).toBeGreaterThan(0);
      const line = (await readFile(path.join(other, theme), 'utf8')).split('\n').findIndex((l) => l.includes('"muted": "#b8bcc4"')) + 1;
      for (const finding of contrast) expect([finding.file, finding.line]).toEqual([theme, line]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  }, 60_000);

  it('a wrong type in plain words with the expected form, at its line', async () => {
    const theme = path.join(dir, 'templates', 'theme.json');
    const original = await readFile(theme, 'utf8');
    try {
      await writeFile(theme, original.replace('"radius": 6', '"radius": "6px"'));
      const error = await thrown(loadTemplates(path.join(dir, 'templates'), dir));
      expect(error.message).toBe('`radius`: expected a number of pixels such as 6, got "6px"');
      expect(error.line).toBe(await lineWith(path.join('templates', 'theme.json'), '"radius"'));
    } finally {
      await writeFile(theme, original);
    }
  });

  it('a missing config key at the top of the config, not at a nested key of the same name', async () => {
    const config = JSON.parse(await readFile(path.join(dir, 'newsletter.config.json'), 'utf8')) as Record<string, unknown>;
    delete config.name;
    const other = await mkdtemp(path.join(os.tmpdir(), 'nl-places-config-'));
    try {
      await writeFile(path.join(other, 'newsletter.config.json'), JSON.stringify(config, null, 2));
      const error = await thrown(loadConfig({ cwd: other }));
      expect(error.message).toBe('`name` is required');
      expect(error.line).toBe(1);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('key paths match only whole, in JSON and in YAML', () => {
    const json = '{\n  "theme": {\n    "colors": {\n      "accent": "#a3361f"\n    }\n  },\n  "sampleRecipient": { "name": "S" }\n}';
    expect(lineOfJsonKey(json, ['theme', 'colors', 'muted'])).toBeUndefined();
    expect(lineOfJsonKey(json, ['name'])).toBeUndefined();
    expect(lineOfJsonKey(json, ['theme', 'colors', 'accent'])).toBe(4);
    const yaml = 'title: A\nauthor:\n  name: B\nname: C\narticles:\n  - slug: a\n  - slug: b\n    title: T\n';
    expect(lineOfJsonKey(yaml, ['name'])).toBe(4);
    expect(lineOfJsonKey(yaml, ['author', 'name'])).toBe(3);
    expect(lineOfJsonKey(yaml, ['articles', '1', 'title'])).toBe(8);
    expect(lineOfJsonKey(yaml, ['articles', '0', 'title'])).toBeUndefined();
  });
});

describe('did you mean, for slugs', () => {
  it('an issue slug and an article slug', async () => {
    const content = path.join(dir, 'content');
    expect((await thrown(loadIssue(content, 'places-2', dir))).message).toMatch(/^no issue `places-2` \(did you mean `places-1`\?\)/);
    const issue = path.join(content, 'issues', 'places-1.md');
    const original = await readFile(issue, 'utf8');
    try {
      await writeFile(issue, original.replace('  - places', '  - place'));
      const error = await thrown(loadIssue(content, 'places-1', dir));
      expect(error.message).toMatch(/^no article `place` \(did you mean `places`\?\)/);
      expect([error.file, error.line]).toEqual([path.join('content', 'issues', 'places-1.md'), 5]);
    } finally {
      await writeFile(issue, original);
    }
  });
});
