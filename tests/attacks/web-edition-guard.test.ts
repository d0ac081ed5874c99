import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.js';
import { publishSite } from '../../src/publish/publish-site.js';
import { publishProject } from '../helpers/publish-project.js';

/**
 * The web edition is public. A template that prints a recipient value there, as it is or made
 * over by a helper, must stop `publish` at the template's file and line: a case-sensitive marker
 * check let `{{upper recipient.name}}` through.
 */

const NOW = new Date('2024-06-15T12:00:00Z');

/** A project whose header partial has `line` as its line 7, inside the masthead column. */
async function projectWithHeaderLine(line: string) {
  const base = await publishProject([{ slug: 'one', date: '2024-01-01' }]);
  const templates = path.join(base.dir, 'templates');
  await cp(base.templates, templates, { recursive: true });
  const header = path.join(templates, 'partials/header.mjml');
  const source = await readFile(header, 'utf8');
  expect(source.split('\n')[5]).toBe('  <mj-column>');
  await writeFile(header, source.replace('  <mj-column>\n', `  <mj-column>\n    ${line}\n`));
  return { header, project: await publishProject([{ slug: 'one', date: '2024-01-01' }], { templates }) };
}

describe('attacks: recipient data in the web edition', () => {
  it.each([
    '<mj-text>Hello {{upper @root.recipient.name}}</mj-text>',
    '<mj-text>Hello {{upper recipient.name}}</mj-text>',
    '<mj-text>{{wrap @root.recipient.email 10}}</mj-text>',
    '<mj-text><a href="{{utm @root.unsubscribeUrl}}">leave</a></mj-text>',
    '<mj-text>{{#with @root.recipient}}{{upper name}}{{/with}}</mj-text>',
    '<mj-text>{{lookup @root.recipient "email"}}</mj-text>',
    '<mj-text>{{#each @root.recipient}}{{this}}{{/each}}</mj-text>',
  ])('`%s` outside {{#unless web}} fails publish at the template line', async (line) => {
    const { header, project } = await projectWithHeaderLine(line);
    const error = await publishSite({ project: await project.load(), now: NOW }).catch((e: unknown) => e);
    expect(isNewsletterError(error) && [error.code, path.resolve(project.dir, error.file ?? ''), error.line]).toEqual(['TEMPLATE_VARIABLE', header, 7]);
    expect((error as Error).message).toMatch(/recipient data/);
  }, 60_000);

  it.each([
    '{{#unless @root.web}}<mj-text>Hello {{upper @root.recipient.name}}</mj-text>{{/unless}}',
    '{{#if @root.web}}<mj-text>Hello, web reader</mj-text>{{else}}<mj-text>{{upper @root.recipient.name}}</mj-text>{{/if}}',
    '{{#if @root.recipient.name}}<mj-text>Hello, you</mj-text>{{/if}}',
  ])('`%s` is fine: nothing of a recipient is printed on the web', async (line) => {
    const { project } = await projectWithHeaderLine(line);
    const result = await publishSite({ project: await project.load(), now: NOW });
    expect(result.issues.map((issue) => issue.slug)).toEqual(['one']);
  }, 60_000);
});
