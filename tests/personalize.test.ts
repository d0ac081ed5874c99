import Handlebars from 'handlebars';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Recipient } from '../src/config/defaults.js';
import { loadConfig } from '../src/config/load-config.js';
import { loadIssue } from '../src/content/load-issue.js';
import type { Issue } from '../src/content/types.js';
import { NewsletterError } from '../src/errors.js';
import { analyzeRecipientUsage } from '../src/render/personalize-analysis.js';
import { compileIssue } from '../src/render/personalize.js';
import { renderIssue } from '../src/render/render-issue.js';
import { loadTemplates, type TemplateFile, type TemplateSet } from '../src/render/templates.js';
import { CONDITIONAL_TEMPLATES, CONTENT, FIXTURES, REPO, SLOT_TEMPLATES } from './helpers/send-project.js';

/** A small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = [
  '&', '<', '>', '"', "'", '=', '`', '&amp;', '&#x3D;', '<b>bold</b>', '{{x}}', '$&', '$1', '\\', ' ', '  ', '\t',
  'ü', 'Zoë', '😀', '\u202e', '\u00a0', '中文', 'a', 'Ann', 'x'.repeat(120), 'nlslot1x', '\n', '\r\n', '@',
];

function nastyValue(random: () => number): string {
  if (random() < 0.12) return '';
  const n = 1 + Math.floor(random() * 6);
  let value = '';
  for (let i = 0; i < n; i++) value += PIECES[Math.floor(random() * PIECES.length)]!;
  return value;
}

function nastyRecipients(count: number, fields: string[], seed: number): Recipient[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const recipient: Recipient = { email: `${nastyValue(random).replace(/[\r\n]/g, '')}r${i}@example.com` };
    for (const field of fields) recipient[field] = nastyValue(random);
    return recipient;
  });
}

interface Setup {
  config: Awaited<ReturnType<typeof loadConfig>>;
  issue: Issue;
}

async function setup(): Promise<Setup> {
  const config = await loadConfig({ configFile: `${FIXTURES}/newsletter.config.json`, content: CONTENT, cwd: REPO });
  return { config, issue: await loadIssue(CONTENT, 'weekly-1', config.paths.cwd) };
}

describe('compileIssue: one render, personalized copies', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });

  it.each([
    ['the project templates', `${REPO}/templates`, ['name']],
    ['templates printing name and city in text, attributes, a button, alt text and raw HTML', SLOT_TEMPLATES, ['name', 'city']],
  ])('is byte-identical to a from-scratch render for nasty values: %s', async (_label, dir, fields) => {
    const templates = await loadTemplates(dir, s.config.paths.cwd, s.config.themeOverrides);
    const compiled = await compileIssue(s.issue, { config: s.config, templates, secret: 'prop-secret', fields: ['email', ...fields] });
    expect(compiled.mode).toBe('slots');
    expect(compiled.safeClasses.has('ordinary')).toBe(true);
    expect(compiled.html.slots.length).toBeGreaterThanOrEqual(2);
    let fromSlots = 0;
    for (const recipient of nastyRecipients(60, fields, 7)) {
      if (compiled.slotSafe(compiled.values(recipient))) fromSlots++;
      const copy = await compiled.personalize(recipient);
      const reference = await renderIssue(s.issue, { config: s.config, templates, recipient, secret: 'prop-secret' });
      expect(copy.html, JSON.stringify(recipient)).toBe(reference.html);
      expect(copy.text, JSON.stringify(recipient)).toBe(reference.text);
      expect(copy.unsubscribeUrl).toBe(reference.unsubscribeUrl);
    }
    // The comparison must exercise the slot path, not only the from-scratch fallback.
    expect(fromSlots).toBeGreaterThanOrEqual(15);
  });

  it('places every value where the template prints it, escaped once', async () => {
    const templates = await loadTemplates(SLOT_TEMPLATES, s.config.paths.cwd, s.config.themeOverrides);
    const compiled = await compileIssue(s.issue, { config: s.config, templates, secret: 'k', fields: ['email', 'name', 'city'] });
    const copy = await compiled.personalize({ email: 'ann@example.com', name: 'Ann <b>&', city: 'Köln' });
    const cheerio = await import('cheerio');
    const $ = cheerio.load(copy.html);
    expect($('span[title]').attr('title')).toBe('Ann <b>&');
    expect($('span[title]').text()).toBe('Hello Ann <b>& from Köln');
    expect($('div[data-who]').attr('data-who')).toBe('ann@example.com');
    expect($('img[alt$="in Köln"]').attr('alt')).toBe('Ann <b>& in Köln');
    expect($(`a[href="${copy.unsubscribeUrl}"]`).length).toBeGreaterThanOrEqual(2);
    expect(copy.text.split('\n')).toContain('City: Köln');
  });

  it('falls back to a full render per recipient when a value feeds a condition, and stays identical', async () => {
    const templates = await loadTemplates(CONDITIONAL_TEMPLATES, s.config.paths.cwd, s.config.themeOverrides);
    const compiled = await compileIssue(s.issue, { config: s.config, templates, secret: 'k', fields: ['email', 'name'] });
    expect(compiled.mode).toBe('render');
    expect(compiled.fallbackReason).toMatch(/footer\.mjml:\d+: `@root\.recipient\.name` is passed to a helper/);
    for (const recipient of [{ email: 'a@example.com', name: '' }, { email: 'b@example.com', name: 'Bob & <Co>' }]) {
      const copy = await compiled.personalize(recipient);
      const reference = await renderIssue(s.issue, { config: s.config, templates, recipient, secret: 'k' });
      expect(copy.html).toBe(reference.html);
      expect(copy.text).toBe(reference.text);
    }
  });

  it('refuses a template field the list has no column for, naming the template and the column', async () => {
    const templates = await loadTemplates(SLOT_TEMPLATES, s.config.paths.cwd, s.config.themeOverrides);
    const error = await compileIssue(s.issue, { config: s.config, templates, secret: 'k', fields: ['email', 'name'], listName: 'subscribers.csv' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NewsletterError);
    expect((error as NewsletterError).code).toBe('TEMPLATE_VARIABLE');
    expect((error as NewsletterError).file).toMatch(/templates-slots\/partials\/footer\.mjml$/);
    expect((error as NewsletterError).line).toBe(8);
    expect((error as NewsletterError).message).toContain('`recipient.city` but the list `subscribers.csv` has no `city` column');
  });

  it('refuses triple-stash recipient values in HTML templates', async () => {
    const templates = await loadTemplates(`${FIXTURES}/templates-triple`, s.config.paths.cwd, s.config.themeOverrides);
    const error = await compileIssue(s.issue, { config: s.config, templates, secret: 'k', fields: ['email', 'name', 'city'] }).catch((e: unknown) => e);
    expect((error as NewsletterError).code).toBe('TEMPLATE_VARIABLE');
    expect((error as NewsletterError).file).toMatch(/templates-triple\/partials\/footer\.mjml$/);
    expect((error as NewsletterError).message).toContain('{{{@root.recipient.name}}}');
  });
});

describe('analyzeRecipientUsage', () => {
  function templateSet(layout: string, partials: Record<string, string> = {}): { set: TemplateSet; layouts: { html: TemplateFile; text: TemplateFile } } {
    const env = Handlebars.create();
    const file = (name: string, source: string, ext = 'mjml'): TemplateFile => ({ name, file: `t/${name}.${ext}`, source, ast: env.parse(source), render: () => '' });
    const set = { partials: new Map(Object.entries(partials).map(([name, source]) => [name, file(name, source)])) } as unknown as TemplateSet;
    return { set, layouts: { html: file('layout', layout), text: file('layout', 'plain', 'txt') } };
  }

  it.each([
    ['{{recipient.name}} {{@root.recipient.city}} {{unsubscribeUrl}}', null],
    ['{{#each articles}}{{../recipient.name}} {{title}}{{/each}}', null],
    ['{{#with lead}}{{readingTime this}}{{/with}}', null],
    ['{{> card}}', null],
    ['{{#if recipient.name}}x{{/if}}', 'is passed to a helper'],
    ['{{upper recipient.name}}', 'is passed to a helper'],
    ['{{#with recipient}}{{name}}{{/with}}', 'is passed to a helper'],
    ['{{lookup this "recipient"}}', 'may hand the whole context'],
    ['{{#each this}}{{this}}{{/each}}', 'may hand the whole context'],
    ['{{recipient}}', 'prints an object'],
    ['{{> card href=unsubscribeUrl}}', 'is passed to a helper'],
    ['{{> rootish}}', 'may hand the whole context'],
    ['{{#each articles}}{{> rootish}}{{/each}}', null],
  ])('%s → %s', (layout, blocker) => {
    const { set, layouts } = templateSet(layout, { card: '<p>{{recipient.email}}</p>', rootish: '{{formatDate this}}' });
    const usage = analyzeRecipientUsage(set, layouts);
    if (blocker === null) expect(usage.blocker).toBeNull();
    else expect(usage.blocker?.reason).toContain(blocker);
  });

  it('collects the fields with the first place each is printed', () => {
    const { set, layouts } = templateSet('a\n{{recipient.name}}\n{{> card}}', { card: '\n\n{{recipient.email}}' });
    const usage = analyzeRecipientUsage(set, layouts);
    expect(Object.fromEntries(usage.fields)).toEqual({ name: { file: 't/layout.mjml', line: 2 }, email: { file: 't/card.mjml', line: 3 } });
  });
});
