import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, loadProject, runChecks, renderProjectIssue, type Finding } from '../src/index.js';
import { ROOT } from './helpers/cli.js';
import { checkFixture, EXAMPLE_CONFIG, fixtureDir, fixtureProject, ofRule, shown } from './check-helpers.js';

/**
 * Every rule of `newsletter check` (size, compliance, inbox, links, images, plain text): a fixture
 * that trips it, and the example issue (plus a clean fixture) that keeps it quiet.
 * Accessibility, compatibility and dark mode are in check-rules-client.test.ts.
 */

let example: Finding[];
let clean: Finding[];

beforeAll(async () => {
  const project = await loadProject({ cwd: ROOT, configFile: EXAMPLE_CONFIG });
  const { issue, rendered } = await renderProjectIssue(project, 'weekly-1');
  example = await runChecks({ project, issue, rendered });
  clean = (await checkFixture('clean', 'clean')).findings;
});

function quietOn(rule: string) {
  expect(ofRule(example, rule), `example issue: ${rule}`).toEqual([]);
  expect(ofRule(clean, rule), `clean fixture: ${rule}`).toEqual([]);
}

describe('the example issue and the clean fixture', () => {
  it('have no error-level finding', () => {
    expect(example.filter((f) => f.severity === 'error')).toEqual([]);
    expect(clean.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('the clean fixture has no warning other than what the real templates use that some clients lack', () => {
    expect(clean.filter((f) => f.severity === 'warn' && f.rule !== 'compat/unsupported')).toEqual([]);
  });
});

describe('size', () => {
  it('size/gmail-clip: an issue over 102 KB as encoded is an error naming the issue file', async () => {
    const [finding, ...rest] = ofRule((await checkFixture('size', 'clipped')).findings, 'size/gmail-clip');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: 'error', file: shown(fixtureDir('size'), 'content/issues/clipped.md'), line: 1 });
    const kb = Number(/Gmail clips this message: ([\d.]+) KB/.exec(finding!.message)?.[1]);
    expect(kb).toBeGreaterThan(102);
  });

  it('size/large: between 80 and 102 KB is a warning, and not a clip error', async () => {
    const { findings } = await checkFixture('size', 'large');
    expect(ofRule(findings, 'size/large')).toHaveLength(1);
    expect(ofRule(findings, 'size/large')[0]!.severity).toBe('warn');
    expect(ofRule(findings, 'size/gmail-clip')).toEqual([]);
  });

  it('the clipped issue does not also get the 80 KB warning', async () => {
    expect(ofRule((await checkFixture('size', 'clipped')).findings, 'size/large')).toEqual([]);
  });

  it('stay quiet on the example', () => {
    quietOn('size/gmail-clip');
    quietOn('size/large');
  });
});

describe('compliance', () => {
  it('compliance/unsubscribe-link: a footer without the unsubscribe link is an error', async () => {
    const found = ofRule((await checkFixture('no-unsubscribe')).findings, 'compliance/unsubscribe-link');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: shown(fixtureDir('no-unsubscribe'), 'templates/layouts/digest.mjml') });
    expect(found[0]!.message).toContain('{{@root.unsubscribeUrl}}');
  });

  it('compliance/list-unsubscribe: a message without the one-click headers is an error, per header', async () => {
    const project = await fixtureProject('list-unsubscribe');
    const { issue, rendered } = await renderProjectIssue(project, 'issue');
    const message = await readFile(path.join(fixtureDir('list-unsubscribe'), 'no-list-unsubscribe.eml'));
    const found = ofRule(await runChecks({ project, issue, rendered, message }), 'compliance/list-unsubscribe');
    expect(found.map((f) => f.severity)).toEqual(['error', 'error']);
    expect(found[0]!.message).toMatch(/no List-Unsubscribe header/);
    expect(found[1]!.message).toMatch(/no List-Unsubscribe-Post header/);
    expect(found[0]!.file).toBe(shown(fixtureDir('list-unsubscribe'), 'newsletter.config.json'));
  });

  it('compliance/list-unsubscribe: a mailto-only List-Unsubscribe lacks the https URL', async () => {
    const project = await fixtureProject('list-unsubscribe');
    const { issue, rendered } = await renderProjectIssue(project, 'issue');
    const message = await readFile(path.join(fixtureDir('list-unsubscribe'), 'mailto-only.eml'));
    const found = ofRule(await runChecks({ project, issue, rendered, message }), 'compliance/list-unsubscribe');
    expect(found).toHaveLength(2);
    expect(found[0]!.message).toMatch(/no https URL/);
  });

  it('compliance/postal-address: a footer without the address is an error', async () => {
    const found = ofRule((await checkFixture('no-postal-address')).findings, 'compliance/postal-address');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: shown(fixtureDir('no-postal-address'), 'templates/layouts/digest.mjml') });
  });

  it('compliance/postal-address and compliance/from: the built-in placeholders (no config file) are errors', async () => {
    const { findings } = await checkFixture('placeholder-config');
    const address = ofRule(findings, 'compliance/postal-address');
    const from = ofRule(findings, 'compliance/from');
    expect(address).toHaveLength(1);
    expect(address[0]!.message).toContain(DEFAULTS.config.postalAddress);
    expect(from).toHaveLength(1);
    expect(from[0]!.message).toContain(DEFAULTS.config.from);
    expect(address[0]!.file).toBe('newsletter.config.json');
  });

  it('compliance/reply-to: no replyTo in the config is a warning pointing at the config', async () => {
    const found = ofRule((await checkFixture('no-reply-to')).findings, 'compliance/reply-to');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: shown(fixtureDir('no-reply-to'), 'newsletter.config.json') });
  });

  it('stay quiet on the example and the clean fixture', () => {
    for (const rule of ['compliance/unsubscribe-link', 'compliance/list-unsubscribe', 'compliance/postal-address', 'compliance/from', 'compliance/reply-to']) quietOn(rule);
  });
});

describe('inbox', () => {
  const issueFile = (slug: string) => shown(fixtureDir('inbox'), `content/issues/${slug}.md`);

  it('inbox/subject: a subject over 78 characters, at the line of `subject:`', async () => {
    const found = ofRule((await checkFixture('inbox', 'long-subject')).findings, 'inbox/subject');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: issueFile('long-subject'), line: 2 });
    expect(found[0]!.message).toMatch(/the subject is 1\d\d characters/);
  });

  it('inbox/subject-caps: a subject in capitals', async () => {
    const found = ofRule((await checkFixture('inbox', 'caps-subject')).findings, 'inbox/subject-caps');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: issueFile('caps-subject'), line: 2 });
  });

  it('inbox/preheader: missing, too short, too long', async () => {
    const missing = ofRule((await checkFixture('inbox', 'no-preheader')).findings, 'inbox/preheader');
    const short = ofRule((await checkFixture('inbox', 'short-preheader')).findings, 'inbox/preheader');
    const long = ofRule((await checkFixture('inbox', 'long-preheader')).findings, 'inbox/preheader');
    expect(missing[0]!.message).toMatch(/^no preheader/);
    expect(short[0]!.message).toMatch(/the preheader is 11 characters/);
    expect(short[0]).toMatchObject({ file: issueFile('short-preheader'), line: 3 });
    expect(long[0]!.message).toMatch(/the preheader is 1[5-9]\d characters/);
  });

  it('inbox/preheader: a layout without <mj-preview> does not show it', async () => {
    const found = ofRule((await checkFixture('no-preview')).findings, 'inbox/preheader');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain('<mj-preview>');
  });

  it('inbox rules stay quiet on the example and the clean fixture', () => {
    for (const rule of ['inbox/subject', 'inbox/subject-caps', 'inbox/preheader']) quietOn(rule);
  });
});

describe('links', () => {
  const article = (slug: string) => shown(fixtureDir('links'), `content/articles/${slug}.md`);

  it('links/malformed: a link without a scheme, at its line in the article', async () => {
    const found = ofRule((await checkFixture('links', 'relative-link')).findings, 'links/malformed');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: article('relative-link'), line: 9 });
    expect(found[0]!.message).toContain('`www.harbour.example.org/timetable`');
  });

  it('links/http: a plain http link', async () => {
    const found = ofRule((await checkFixture('links', 'http-link')).findings, 'links/http');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: article('http-link'), line: 9 });
  });

  it('links/empty-href: a link to `#`', async () => {
    const found = ofRule((await checkFixture('links', 'empty-link')).findings, 'links/empty-href');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: article('empty-link'), line: 9 });
  });

  it('links/vague-text: a bare "click here"', async () => {
    const found = ofRule((await checkFixture('links', 'click-here')).findings, 'links/vague-text');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain('"click here"');
  });

  it('links/unsafe-scheme: a javascript: link in a template, at its template line', async () => {
    const found = ofRule((await checkFixture('unsafe-scheme')).findings, 'links/unsafe-scheme');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: shown(fixtureDir('unsafe-scheme'), 'templates/layouts/digest.mjml'), line: 25 });
  });

  it('links/utm: a template link without {{utm}} when the config asks for UTM tags', async () => {
    const found = ofRule((await checkFixture('utm-missing')).findings, 'links/utm');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warn', file: shown(fixtureDir('utm-missing'), 'templates/layouts/digest.mjml'), line: 25 });
    expect(found[0]!.message).toContain('utm_source, utm_medium, utm_campaign');
  });

  it('links rules stay quiet on the example and the clean fixture (which has article and body links)', () => {
    for (const rule of ['links/malformed', 'links/unsafe-scheme', 'links/empty-href', 'links/http', 'links/vague-text', 'links/utm']) quietOn(rule);
  });
});

describe('images', () => {
  const article = (slug: string) => shown(fixtureDir('images'), `content/articles/${slug}.md`);

  it('images/alt: an empty alt, at the image line of the article', async () => {
    const found = ofRule((await checkFixture('images', 'alt-missing')).findings, 'images/alt');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: article('alt-missing'), line: 9 });
  });

  it('images/http: an image over http', async () => {
    const found = ofRule((await checkFixture('images', 'http-image')).findings, 'images/http');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: article('http-image'), line: 9 });
  });

  it('images/width: a Markdown image has no width', async () => {
    const found = ofRule((await checkFixture('images', 'no-width')).findings, 'images/width');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: article('no-width'), line: 9 });
  });

  it('images/text-ratio: four images and a sentence', async () => {
    const found = ofRule((await checkFixture('images', 'image-heavy')).findings, 'images/text-ratio');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/4 images and \d+ words/);
  });

  it('images rules stay quiet on the example and on the clean fixture (an article image with alt)', () => {
    for (const rule of ['images/alt', 'images/http', 'images/width', 'images/text-ratio']) quietOn(rule);
  });
});

describe('plain text', () => {
  it('text/present: an empty text layout is an error naming it', async () => {
    const found = ofRule((await checkFixture('text-empty')).findings, 'text/present');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: shown(fixtureDir('text-empty'), 'templates/layouts/default.txt') });
  });

  it('text/articles: a text layout without titles and links lacks what the HTML has', async () => {
    const found = ofRule((await checkFixture('text-missing')).findings, 'text/articles');
    const messages = found.map((f) => f.message);
    expect(messages.some((m) => m.includes('the title "The night ferry returns to the harbour"'))).toBe(true);
    expect(messages.some((m) => m.includes('`https://harbour.example.org/news/night-ferry-returns`'))).toBe(true);
    expect(messages.some((m) => m.includes('`https://ferries.example.org/timetable`'))).toBe(true);
  });

  it('stay quiet on the example and the clean fixture (titles and links in the text part)', () => {
    quietOn('text/present');
    quietOn('text/articles');
  });
});
