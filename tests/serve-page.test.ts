import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../src/pipeline.js';
import { loadSiteTemplates, sitePageContext } from '../src/publish/site-templates.js';
import { unsubscribePages, type PageState } from '../src/serve/page.js';
import { ROOT } from './helpers/cli.js';

/**
 * serve's unsubscribe page is rendered once per state and filled in per request (page.ts): it
 * must be exactly what Handlebars renders for every address, with the built-in template and with
 * templates that do more with the address than print it.
 */

const SITE = 'https://news.example.com/';
const ADDRESSES = ['ann@example.com', '"a<b&c"@example.com', `o'neil=x\`y>z@example.com`, '<script>alert(1)</script>@example.com'];
const STATES: PageState[] = ['confirm', 'unsubscribed', 'resubscribed'];

async function setup(unsubscribeHbs?: string) {
  const project = await loadProject({ cwd: ROOT, templates: path.join(ROOT, 'templates') });
  let templatesDir = project.templates.dir;
  if (unsubscribeHbs !== undefined) {
    templatesDir = await mkdtemp(path.join(tmpdir(), 'newsletter-site-templates-'));
    await mkdir(path.join(templatesDir, 'site'));
    await writeFile(path.join(templatesDir, 'site/unsubscribe.hbs'), unsubscribeHbs);
  }
  const pages = await loadSiteTemplates({ ...project.templates, dir: templatesDir });
  const base = sitePageContext(project.config, project.templates.theme);
  const direct = (state: PageState, email: string | null, actionUrl: string, formToken = '') => pages.render('unsubscribe', { ...base, state, email, actionUrl, formToken });
  const counted = { renders: 0 };
  const page = unsubscribePages({ render: (name, context) => (counted.renders++, pages.render(name, context)) }, base, SITE);
  return { direct, page, counted };
}

/** How many Handlebars renders the pages of `STATES` take once each state has been seen. */
function rendersAfterFirst({ page, counted }: Awaited<ReturnType<typeof setup>>): number {
  for (const state of STATES) page(state, 'first@example.com', SITE);
  const before = counted.renders;
  for (const state of STATES) for (const email of ADDRESSES) page(state, email, `${SITE}unsubscribe/${email.length}`);
  return counted.renders - before;
}

function expectSame({ direct, page }: Awaited<ReturnType<typeof setup>>) {
  for (const state of STATES) {
    for (const email of ADDRESSES) {
      const actionUrl = `${SITE}unsubscribe/AbC-_${email.length}`;
      // Twice: the first call of a state specialises it, the second uses the pieces.
      const formToken = `20000.${email.length}&"<`;
      for (let i = 0; i < 2; i++) expect(page(state, email, actionUrl, formToken), `${state} ${email}`).toBe(direct(state, email, actionUrl, formToken));
    }
  }
  expect(page('refused', null, SITE)).toBe(direct('refused', null, SITE));
}

describe('the unsubscribe page, filled in per request', () => {
  it('is what Handlebars renders, for every state and address, without rendering it again', async () => {
    const built = await setup();
    expect(rendersAfterFirst(built)).toBe(0);
    expectSame(built);
  });

  it('escapes the address: markup in it stays text', async () => {
    const { page } = await setup();
    for (const email of ADDRESSES) {
      const html = page('unsubscribed', email, `${SITE}unsubscribe/x`);
      const $ = cheerio.load(html);
      expect($('main strong').first().text()).toBe(email);
      expect($('script').length).toBe(0);
      if (/[<>&"]/.test(email)) expect(html).not.toContain(email);
    }
  });

  it('follows a template that prints the values raw or twice, filled in too', async () => {
    const raw = await setup(`<p>{{state}} {{{email}}} / {{email}}</p><a href="{{{actionUrl}}}">{{actionUrl}}</a>{{#if email}}<i>{{email}}</i>{{/if}}`);
    expect(rendersAfterFirst(raw)).toBe(0);
    expectSame(raw);
  });

  it('renders per request a template that computes with the address (a helper)', async () => {
    const helper = await setup(`<p>{{upper email}} {{email}}</p>`);
    expect(rendersAfterFirst(helper)).toBe(STATES.length * ADDRESSES.length);
    expectSame(helper);
    expect(helper.page('confirm', 'bob@example.com', SITE)).toBe('<p>BOB@EXAMPLE.COM bob@example.com</p>');
  });

  it('fails each request as Handlebars does when the template cannot render', async () => {
    const { direct, page } = await setup('<p>{{email}} {{no.such.value}}</p>');
    expect(() => direct('confirm', 'ann@example.com', SITE)).toThrow();
    for (let i = 0; i < 2; i++) expect(() => page('confirm', 'ann@example.com', SITE)).toThrow(/no/);
  });

});
