import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { describe, expect, it } from 'vitest';
import type { Recipient } from '../src/config/defaults.js';
import { loadConfig } from '../src/config/load-config.js';
import { loadIssue } from '../src/content/load-issue.js';
import { compileIssue } from '../src/render/personalize.js';
import { renderIssue } from '../src/render/render-issue.js';
import { loadTemplates } from '../src/render/templates.js';
import { CONTENT, FIXTURES, SLOT_TEMPLATES } from './helpers/send-project.js';

/**
 * A subscriber's value never reaches the HTML unescaped, whatever carries it. Each row puts one
 * bypass of the `{{{recipient.x}}}` refusal into the digest layout; the list value is a phishing
 * link. Both paths are checked: `build`/preview (renderIssue) and `send` (compileIssue, which
 * falls back to a full render for these templates). Asserted on the parsed DOM.
 */

const PHISH = '<a href="https://phish.example/login">Verify your account</a>';

const BYPASSES: [string, string][] = [
  ['lookup on @root.recipient', '{{{lookup @root.recipient "name"}}}'],
  ['lookup on recipient', '{{{lookup recipient "name"}}}'],
  ['each over @root.recipient', '{{#each @root.recipient}}{{{this}}}{{/each}}'],
  ['each over recipient with a block param', '{{#each recipient as |value key|}}{{{value}}}{{/each}}'],
  ['with recipient', '{{#with recipient}}{{{name}}}{{/with}}'],
  ['with recipient.name', '{{#with recipient.name}}{{{this}}}{{/with}}'],
  ['../ from inside a block', '{{#each articles}}{{{../recipient.name}}}{{/each}}'],
  ['a helper subexpression', '{{{upper (lookup recipient "name")}}}'],
  ['a helper on the value', '{{{wrap recipient.name 200}}}'],
  ['a partial hash argument', '{{> leak value=recipient.name}}'],
  ['a partial given the recipient as context', '{{> leak-context recipient}}'],
  ['an inline partial', '{{#*inline "x"}}{{{v}}}{{/inline}}{{> x v=recipient.name}}'],
  ['@root.recipient in an attribute', '<span data-x="{{{@root.recipient.name}}}"></span>{{{@root.recipient.city}}}'],
];

async function setup(bypass: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-escape-'));
  const templates = path.join(dir, 'templates');
  await cp(SLOT_TEMPLATES, templates, { recursive: true });
  await writeFile(path.join(templates, 'partials/leak.mjml'), '{{{value}}}');
  await writeFile(path.join(templates, 'partials/leak-context.mjml'), '{{{name}}}');
  const layout = path.join(templates, 'layouts/digest.mjml');
  const source = await readFile(layout, 'utf8');
  const marker = '{{> header}}';
  const at = source.indexOf(marker) + marker.length;
  await writeFile(layout, `${source.slice(0, at)}<mj-section><mj-column><mj-text><p id="bypass">${bypass}</p></mj-text></mj-column></mj-section>${source.slice(at)}`);
  const config = await loadConfig({ configFile: path.join(FIXTURES, 'newsletter.config.json'), content: CONTENT, templates });
  return { config, templates: await loadTemplates(templates, config.paths.cwd), issue: await loadIssue(CONTENT, 'weekly-1', config.paths.cwd) };
}

function assertEscaped(html: string, label: string): void {
  const $ = cheerio.load(html);
  expect($('a[href^="https://phish"], a[href^="HTTPS://PHISH"]').length, `${label}: a link from the list value became markup`).toBe(0);
  expect($('#bypass').text().toLowerCase(), label).toContain('verify your account');
  expect(html).not.toContain(PHISH);
}

/** Escaped, or refused outright with a clear error (the analysis knows these spellings): both are safe. */
async function renderedOrRefused(render: () => Promise<{ html: string }>): Promise<string | null> {
  try {
    return (await render()).html;
  } catch (error) {
    expect((error as { code?: string }).code).toBe('TEMPLATE_VARIABLE');
    expect((error as Error).message).toMatch(/inserts a subscriber's value without HTML escaping/);
    return null;
  }
}

describe('recipient values are escaped whatever carries them', () => {
  it.each(BYPASSES)('%s', { timeout: 30_000 }, async (label, bypass) => {
    const s = await setup(bypass);
    const recipient: Recipient = { email: 'victim@example.com', name: PHISH, city: PHISH };
    const rendered = await renderedOrRefused(() => renderIssue(s.issue, { config: s.config, templates: s.templates, recipient, secret: 'escape-secret' }));
    const copy = await renderedOrRefused(async () => {
      const compiled = await compileIssue(s.issue, { config: s.config, templates: s.templates, secret: 'escape-secret', fields: ['email', 'name', 'city'] });
      return compiled.personalize(recipient);
    });
    for (const [html, path] of [[rendered, 'render'], [copy, 'send']] as const) {
      if (html === null) continue;
      assertEscaped(html, `${label} (${path})`);
    }
  });

  it('{{recipient.name}} is escaped once, never twice, and helpers see the raw value', async () => {
    const s = await setup('{{recipient.name}}|{{upper recipient.name}}|{{#if (eq recipient.city "Bristol")}}bristol{{/if}}');
    const recipient: Recipient = { email: 'a@example.com', name: 'Tom & Jerry <3', city: 'Bristol' };
    const rendered = await renderIssue(s.issue, { config: s.config, templates: s.templates, recipient, secret: 'x' });
    const $ = cheerio.load(rendered.html);
    expect($('#bypass').text()).toBe('Tom & Jerry <3|TOM & JERRY <3|bristol');
    const empty = await renderIssue(s.issue, { config: s.config, templates: s.templates, recipient: { ...recipient, name: '' }, secret: 'x' });
    expect(cheerio.load(empty.html)('#bypass').text()).toBe('||bristol');
  });
});
