import { cp, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers/cli.js';
import { launchTestBrowser } from './helpers/browser.js';
import { loadProject, renderProjectIssue } from '../src/pipeline.js';

/**
 * Tables read as tables (tests/fixtures/text-tables, issue `tables`): a table with `<colgroup>`
 * widths as R Markdown writes it, a 7-column timetable, a 4-column one. In Chromium at 600 and
 * 375 px: no word or number in a cell is split over two lines, and the page does not scroll
 * sideways (a wide table scrolls inside its own box).
 */

let browser: Browser;
let page: Page;
let html: string;

beforeAll(async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'nl-tables-'));
  await cp(path.join(FIXTURES, 'text-tables/content'), path.join(work, 'content'), { recursive: true });
  await cp(path.join(FIXTURES, 'text-tables/newsletter.config.json'), path.join(work, 'newsletter.config.json'));
  await cp(path.join(ROOT, 'templates'), path.join(work, 'templates'), { recursive: true });
  html = (await renderProjectIssue(await loadProject({ cwd: work }), 'tables')).rendered.html;
  browser = await launchTestBrowser();
  page = await browser.newPage();
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

/** Every word of every table cell whose characters lie on more than one line. */
function splitWords(): Promise<string[]> {
  return page.evaluate(() => {
    const split: string[] = [];
    for (const cell of Array.from(document.querySelectorAll("td td, td th"))) {
      if (!cell.closest('.nl-table')) continue;
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent ?? '';
        for (const match of text.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index!);
          range.setEnd(node, match.index! + match[0].length);
          const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
          if (tops.size > 1) split.push(match[0]);
        }
      }
    }
    return split;
  });
}

describe('tables in the email', () => {
  for (const width of [600, 375]) {
    it(`at ${width} px: no cell splits a word or number, and the page does not scroll sideways`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.setContent(html);
      expect(await page.locator('.nl-table table').count()).toBe(3);
      expect(await splitWords()).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    });
  }

  it('keeps the <colgroup> widths, as cell widths email clients honour', async () => {
    const $ = cheerio.load(html);
    const first = $('.nl-table table').first();
    expect(first.find('tr').first().children('th').map((_, cell) => $(cell).attr('width')).get()).toEqual(['37%', '13%', '18%', '32%']);
    await page.setViewportSize({ width: 600, height: 900 });
    await page.setContent(html);
    const shares = await page.evaluate(() => {
      const table = document.querySelector('.nl-table table')!;
      const cells = Array.from(table.querySelectorAll("tr:first-child th"));
      const total = table.getBoundingClientRect().width;
      return cells.map((cell) => Math.round((cell.getBoundingClientRect().width / total) * 100));
    });
    // A column narrower than its longest word grows (words are never split), so the widths hold
    // roughly: the wide columns keep their share.
    expect(Math.abs(shares[0]! - 37)).toBeLessThanOrEqual(6);
    expect(Math.abs(shares[3]! - 32)).toBeLessThanOrEqual(6);
  });
});
