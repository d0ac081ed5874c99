import { cp, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers/cli.js';
import { loadProject, renderProjectIssue, type Project } from '../src/pipeline.js';

/**
 * The text part shows what the HTML shows (tests/fixtures/text-tables): an article whose body the
 * HTML prints is in full in the text, a card is a card, whatever the layout (the built-in digest,
 * a digest of cards, a gallery layout of the user's own that prints `{{{html}}}` for every article).
 * Paragraphs wrapped in the source are folded once, filled; code keeps its lines.
 */

const FIXTURE = path.join(FIXTURES, 'text-tables');
let project: Project;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'nl-text-'));
  await cp(path.join(FIXTURE, 'content'), path.join(work, 'content'), { recursive: true });
  await cp(path.join(FIXTURE, 'newsletter.config.json'), path.join(work, 'newsletter.config.json'));
  await cp(path.join(ROOT, 'templates'), path.join(work, 'templates'), { recursive: true });
  await cp(path.join(FIXTURE, 'layouts/gallery.mjml'), path.join(work, 'templates/layouts/gallery.mjml'));
  project = await loadProject({ cwd: work });
}, 60_000);

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The prose paragraphs of an article's Markdown body (no tables, no code). */
async function bodyParagraphs(slug: string): Promise<string[]> {
  const source = await readFile(path.join(work, 'content/articles', `${slug}.md`), 'utf8');
  const body = source.replace(/^---\n[\s\S]*?\n---\n/, '').replace(/```[\s\S]*?```/g, '');
  return body
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter((block) => block && !block.startsWith('|'))
    .map(squash);
}

describe('the text part mirrors the HTML', () => {
  for (const issue of ['digest', 'gallery', 'cards']) {
    it(`${issue}: every body paragraph is in the text exactly when the HTML shows it`, async () => {
      const { rendered } = await renderProjectIssue(project, issue);
      const $ = cheerio.load(rendered.html);
      const htmlText = squash($('body').text());
      const text = squash(rendered.text);
      const mismatches: string[] = [];
      let shownInHtml = 0;
      for (const slug of ['timetable', 'repairs', 'lost-property']) {
        for (const paragraph of await bodyParagraphs(slug)) {
          const inHtml = htmlText.includes(paragraph);
          if (inHtml) shownInHtml++;
          if (inHtml !== text.includes(paragraph)) mismatches.push(`${slug}: html ${inHtml}, text ${!inHtml}: ${paragraph}`);
        }
      }
      expect(mismatches).toEqual([]);
      // The fixture's layouts differ: the gallery shows all 6 body paragraphs of 3 articles, the
      // digest the lead's 2, the cards none.
      expect(shownInHtml).toBe({ digest: 2, gallery: 6, cards: 0 }[issue]);
    });
  }

  it('shows a card as a card: the summary and the link, not the body', async () => {
    const { rendered } = await renderProjectIssue(project, 'cards');
    const text = squash(rendered.text);
    expect(text).toContain('Crossings every forty minutes from Monday, and a later last boat on Fridays.');
    expect(text).toContain('Read more: https://ferry.example.com/news/slipway');
    expect(text).not.toContain('Divers checked every pile');
  });
});

describe('folding the text part', () => {
  it('turns soft line breaks into spaces and fills each line up to 76 columns', async () => {
    const { rendered } = await renderProjectIssue(project, 'digest');
    const lines = rendered.text.split('\n');
    const start = lines.findIndex((line) => line.startsWith('The new timetable applies from Monday'));
    expect(start).toBeGreaterThanOrEqual(0);
    const end = lines.indexOf('', start);
    const paragraph = lines.slice(start, end);
    expect(squash(paragraph.join(' '))).toBe((await bodyParagraphs('timetable'))[0]);
    for (const [i, line] of paragraph.entries()) {
      expect(line.length).toBeLessThanOrEqual(76);
      // Filled: the next line's first word would not have fitted on this one.
      const next = paragraph[i + 1];
      if (next) expect(line.length + 1 + next.split(' ')[0]!.length).toBeGreaterThan(76);
    }
  });

  it('keeps every line of a code block as written, never folded at its spaces', async () => {
    const { rendered } = await renderProjectIssue(project, 'digest');
    const lines = rendered.text.split('\n').map((line) => line.trim());
    expect(lines).toContain('ERROR 409 crossing_full: the crossing you asked for has no places left (route=north, departs=07:20)');
    expect(lines).toContain('retry_after: the next crossing with places, or none');
    const code = rendered.text.split('\n').filter((line) => line.includes('retry_after'));
    // Its indent inside the block survives too: 4 for the block, 4 of its own.
    expect(code).toEqual(['        retry_after: the next crossing with places, or none']);
  });
});
