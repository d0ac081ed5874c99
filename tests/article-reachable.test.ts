import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { describe, expect, it } from 'vitest';
import { checkProjectIssue } from '../src/checks/index.js';
import { loadProject } from '../src/pipeline.js';
import { runCli } from './helpers/cli.js';
import { journeyProject } from './helpers/journey-project.js';

/**
 * Nothing an article holds is unreachable (issue 18, item 3): a card of an article without `url:`
 * links to its place in the web edition, which shows it in full under that anchor; `check` says
 * when a layout hides a body without a link, and reads the links and images of bodies it does
 * not show.
 */

const WEB_EDITION = 'https://harbour-letter.co.uk/issues/harbour-1/';

async function useLayout(dir: string, layout: string): Promise<void> {
  const file = path.join(dir, 'content/issues/harbour-1.md');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/^template: .*$/m, `template: ${layout}`));
}

describe('every article body is reachable from the email', () => {
  it('the digest card of an article without url links to its full text in the web edition', async () => {
    const dir = await journeyProject();
    await useLayout(dir, 'digest');
    const build = await runCli(['build'], { cwd: dir, timeoutMs: 60_000 });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const email = cheerio.load(await readFile(path.join(dir, 'dist/harbour-1/index.html'), 'utf8'));
    // The table is not in the email: the card shows a title and a summary…
    expect(email('table td, table th').filter((_, cell) => email(cell).text().trim() === 'Departure').length).toBe(0);
    // …and links to where the rest is, from its title and its button.
    const card = email('h2#timetable');
    expect(card.text().trim()).toBe('Every crossing of the winter timetable');
    expect(card.find('a').attr('href')).toBe(`${WEB_EDITION}#timetable`);
    expect(email('a').filter((_, a) => email(a).text().trim() === 'Read more').attr('href')).toBe(`${WEB_EDITION}#timetable`);
    // The plain text gives the same link.
    expect((await readFile(path.join(dir, 'dist/harbour-1/index.txt'), 'utf8')).split('\n')).toContain(`Read more: ${WEB_EDITION}#timetable`);

    const publish = await runCli(['publish'], { cwd: dir, timeoutMs: 60_000 });
    expect(publish.code, publish.stdout + publish.stderr).toBe(0);
    const web = cheerio.load(await readFile(path.join(dir, 'dist/site/issues/harbour-1/index.html'), 'utf8'));
    const anchor = web('#timetable');
    expect(anchor.length).toBe(1);
    expect(anchor.text().trim()).toBe('Every crossing of the winter timetable');
    // Under that anchor, the article in full: its table, its quote.
    const section = anchor.closest('table').parent().closest('div');
    const headers = section.find('th').map((_, th) => web(th).text().trim()).get();
    expect(headers).toEqual(['Departure', 'From', 'Arrives', 'Days']);
    expect(section.find('blockquote').text()).toContain('the harbour office posts changes by 06:30');
  }, 90_000);

  it('publish says when a layout gives the web edition no anchor for a card to land on', async () => {
    const dir = await journeyProject();
    const layout = path.join(dir, 'templates/layouts/harbour.mjml');
    await writeFile(layout, (await readFile(layout, 'utf8')).replace('<h2 id="{{slug}}"', '<h2'));
    const publish = await runCli(['publish'], { cwd: dir, timeoutMs: 60_000 });
    expect(publish.code, publish.stdout + publish.stderr).toBe(0);
    expect(publish.stderr).toMatch(/^templates\/layouts\/harbour\.mjml: the web edition has no element with id="timetable": the email's card of that article links there/m);
  }, 90_000);

  it('check reports a layout whose card hides a body without a link, naming the layout', async () => {
    const dir = await journeyProject();
    const layout = path.join(dir, 'templates/layouts/harbour.mjml');
    // The layout of a user who shows cards as a title and a summary, no link.
    await writeFile(layout, (await readFile(layout, 'utf8')).replace(/\{\{#if url\}\}<mj-text padding="0"><a[^\n]*\{\{\/if\}\}/, ''));
    const project = await loadProject({ cwd: dir });
    const { findings } = await checkProjectIssue(project, 'harbour-1');
    const unreachable = findings.filter((f) => f.rule === 'content/unreachable');
    expect(unreachable).toEqual([
      expect.objectContaining({ severity: 'error', file: 'templates/layouts/harbour.mjml', message: expect.stringContaining('"Every crossing of the winter timetable"') }),
    ]);
    const cli = await runCli(['check', 'harbour-1'], { cwd: dir, timeoutMs: 60_000 });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/content\/unreachable\s+templates\/layouts\/harbour\.mjml/);
  }, 90_000);

  it('check reads the links and images of a body shown as a card', async () => {
    const dir = await journeyProject();
    const article = path.join(dir, 'content/articles/timetable.md');
    await writeFile(article, `${await readFile(article, 'utf8')}\n![](https://harbour-letter.co.uk/images/winter-map.png)\n\nOld fares: [the 2023 list](http://harbour-letter.co.uk/fares-2023).\n`);
    const project = await loadProject({ cwd: dir });
    const { findings } = await checkProjectIssue(project, 'harbour-1');
    expect(findings).toContainEqual(
      expect.objectContaining({ rule: 'images/alt', severity: 'error', file: 'content/articles/timetable.md', line: 19, message: expect.stringContaining('"Every crossing of the winter timetable"') }),
    );
    expect(findings).toContainEqual(expect.objectContaining({ rule: 'links/http', file: 'content/articles/timetable.md', line: 21 }));
    // The card is all the email shows of it, and the card is fine: no unreachable body.
    expect(findings.filter((f) => f.rule === 'content/unreachable')).toEqual([]);
  }, 90_000);
});
