import path from 'node:path';
import * as cheerio from 'cheerio';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../src/pipeline.js';
import { loadSignupEmail } from '../src/signup/emails.js';
import { ROOT } from './helpers/cli.js';

/**
 * The sign-up emails are rendered once per shape and joined around each reader's values
 * (emails.ts): what a reader gets must be what a full render would give, escaping included.
 */

async function renderers() {
  const project = await loadProject({ cwd: path.join(ROOT, 'tests/fixtures/signup'), templates: path.join(ROOT, 'templates'), content: path.join(ROOT, 'content') });
  return { confirm: (await loadSignupEmail('confirm', project.config, project.templates))!, welcome: (await loadSignupEmail('welcome', project.config, project.templates))! };
}

describe('sign-up emails', () => {
  it('carry each reader\'s own values, escaped in the HTML and as they are in the text', async () => {
    const { confirm, welcome } = await renderers();
    const values = [
      { email: 'ann@example.com', name: 'Ann', url: 'https://news.example.com/confirm/AAA' },
      { email: '"o\'neil&<b>"@example.com', name: 'O\'Neil <b>&', url: 'https://news.example.com/confirm/B_b-9' },
      { email: 'cy@example.com', name: '', url: 'https://news.example.com/confirm/CCC' },
    ];
    for (const value of values) {
      const email = await confirm({ recipient: { email: value.email, name: value.name }, confirmUrl: value.url, expiresDays: 7 });
      const $ = cheerio.load(email.html);
      expect($('a').filter((_, a) => $(a).text().trim() === 'Confirm my subscription').attr('href')).toBe(value.url);
      expect($('body').text()).toContain(`at ${value.email}.`);
      expect(email.html).not.toContain('<b>"@');
      expect(email.text).toContain(`at ${value.email}.`);
      expect(email.text).toContain(value.url);
      const hello = await welcome({ recipient: { email: value.email, name: value.name }, unsubscribeUrl: `${value.url}/u` });
      const w = cheerio.load(hello.html);
      expect(w('body').text()).toContain(value.name ? `Welcome, ${value.name}` : 'Welcome');
      expect(w('body').text()).not.toContain('Welcome, ,');
      expect(w('a').filter((_, a) => w(a).text() === 'Unsubscribe').attr('href')).toBe(`${value.url}/u`);
      expect(hello.text).toContain(`Unsubscribe: ${value.url}/u`);
    }
  });
});
