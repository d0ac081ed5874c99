import { cp, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from './helpers/cli.js';
import { parseMarkdownArticle } from '../src/content/load-article.js';
import type { Article } from '../src/content/types.js';
import { wrapText } from '../src/render/helpers.js';

/**
 * Posts as blogs write them (tests/fixtures/blog-syntax, written for these tests in the shapes of
 * Zola, Jekyll/kramdown, Eleventy/Nunjucks and Hugo posts): no generator syntax reaches a reader,
 * known constructs take their email form, the rest is removed with a warning at its line.
 */

const FIXTURE = path.join(FIXTURES, 'blog-syntax');
const ARTICLES = path.join(FIXTURE, 'content/articles');

async function load(relative: string): Promise<Article> {
  const file = path.join(ARTICLES, relative);
  return parseMarkdownArticle(await readFile(file, 'utf8'), path.basename(relative, '.md'), `content/articles/${relative}`);
}

/** The text a reader sees outside code blocks and inline code. */
function prose(html: string): string {
  const $ = cheerio.load(html);
  $('pre, code').remove();
  return $.root().text();
}

/** Template syntax of any of the four generators, kramdown attribute lists, GitHub alerts, math delimiters, emoji names. */
const LEAKS = /\{\{|\}\}|\{%|%\}|\{:|\[!(?:NOTE|TIP|WARNING)\]|\$\$|:(?:rocket|ship):/;

function findingsAt(article: Article, pattern: RegExp): (number | undefined)[] {
  return article.findings.filter((f) => pattern.test(f.message)).map((f) => f.line);
}

describe('Zola shortcodes', () => {
  let article: Article;
  let $: cheerio.CheerioAPI;
  beforeAll(async () => {
    article = await load('tide-tables/index.md');
    $ = cheerio.load(article.html);
  });

  it('leave no syntax in the HTML or the text outside code', () => {
    expect(prose(article.html)).not.toMatch(LEAKS);
    expect(article.text.split('To embed a video')[0]).not.toMatch(LEAKS);
  });

  it('make admonitions a styled box with their title and rendered Markdown', () => {
    const boxes = $('blockquote.nl-callout');
    expect(boxes.length).toBe(2);
    expect(boxes.eq(0).hasClass('nl-callout-tip')).toBe(true);
    expect(boxes.eq(0).find('p.nl-callout-title').text()).toBe('Tip');
    expect(boxes.eq(0).find('p:not(.nl-callout-title) strong').text()).toBe('harbour board');
    expect(boxes.eq(0).attr('style')).toMatch(/border-left:4px solid/);
    expect(boxes.eq(1).find('p.nl-callout-title').text()).toBe('Mind the spring tides');
    expect(boxes.eq(1).find('p').length).toBe(3);
    expect(article.text).toMatch(/> Tip\n>\s*\n> Check the harbour board before you sail\./);
  });

  it('show every image of the image shortcodes, processed like any article image', () => {
    expect($('img').map((_, img) => $(img).attr('src')).get()).toEqual(['img/quay-day.webp', 'img/quay-night.webp', 'img/chart.webp']);
    expect($('img').first().attr('alt')).toBe('The quay at high water');
    expect(article.localImages.map((image) => image.written)).toEqual(['img/quay-day.webp', 'img/quay-night.webp', 'img/chart.webp']);
  });

  it('keep the text of spoilers and reference lists', () => {
    expect($('p').filter((_, p) => $(p).text() === 'The harbour master says the tables are rarely wrong this year.').length).toBe(1);
    expect($('em').filter((_, em) => $(em).text() === 'Tide tables for the inner harbour').length).toBe(1);
  });

  it('remove an unknown shortcode with a warning at its line', () => {
    expect(findingsAt(article, /like_button/)).toEqual([25]);
    expect(article.findings.find((f) => /like_button/.test(f.message))).toMatchObject({ rule: 'content/removed', severity: 'warn', file: 'content/articles/tide-tables/index.md' });
  });

  it('show a Mermaid diagram as code, with a finding at its line', () => {
    expect($('pre code').filter((_, code) => $(code).text().includes('Low --> Flood --> High --> Ebb --> Low')).length).toBe(1);
    expect(findingsAt(article, /Mermaid/)).toEqual([33]);
  });

  it('show escaped shortcodes in code as the site shows them', () => {
    const code = $('pre code').last().text();
    expect(code).toContain('{{ youtube(id="abc123") }}');
    expect(code).toContain('{% admonition(type="note") %}Body{% end %}');
    expect(code).not.toContain('/*');
  });
});

describe('Jekyll, Liquid and kramdown', () => {
  let article: Article;
  let $: cheerio.CheerioAPI;
  beforeAll(async () => {
    article = await load('ferry-notes.md');
    $ = cheerio.load(article.html);
  });

  it('leave no syntax in the HTML or the text outside code', () => {
    expect(prose(article.html)).not.toMatch(LEAKS);
    const codeFree = article.text.replace(/route:[\s\S]*?"09:10"/, '').replace(/<p>\{\{ page.title \}\}<\/p>/, '');
    expect(codeFree).not.toMatch(LEAKS);
    // What it cannot show (an include of the site's own), it names with its line.
    expect(findingsAt(article, /newsletter-signup/)).toEqual([63]);
  });

  it('make {% highlight %} a code block with every line, {% raw %} gone', () => {
    const blocks = $('pre code').map((_, code) => $(code).text()).get();
    expect(blocks[0]!.split('\n').filter(Boolean)).toEqual(['route: {{ route.name }}', 'sailings:', '  - "07:40"', '  - "09:10"']);
    expect(blocks[1]!.trim()).toBe('<p>{{ page.title }}</p>');
  });

  it('apply an image attribute list (width, height) and Chirpy\'s caption; drop the others', () => {
    const img = $('figure img');
    expect(img.attr('src')).toBe('https://cdn.example.com/ferry.jpg');
    expect([img.attr('width'), img.attr('height')]).toEqual(['640', '400']);
    expect($('figure figcaption').text()).toBe('The ferry at the quay');
    expect(article.html).not.toMatch(/file=|\.shadow/);
  });

  it('make notice classes and GitHub alerts callout boxes', () => {
    const info = $('blockquote.nl-callout-info');
    expect(info.text()).toContain('The new timetable starts on Monday. 🚀');
    const alert = $('blockquote.nl-callout-warning').filter((_, b) => $(b).find('.nl-callout-title').text() === 'Warning');
    expect(alert.text()).toContain('The 07:40 sailing is cancelled on Sundays.');
    expect(article.text).toMatch(/> Warning\n>\s*\n> The 07:40 sailing/);
  });

  it('render Markdown inside markdown="1" blocks and {% capture %} … markdownify', () => {
    const cash = $('blockquote.nl-callout-warning').filter((_, b) => $(b).find('strong').text() === 'Bring cash:');
    expect(cash.find('em').text()).toBe('no cards');
    expect($('h4').text()).toBe('Crossing times');
    expect($('li').map((_, li) => $(li).text()).get()).toContain('Outbound: 25 minutes');
  });

  it('keep the state of a task list, in the HTML and the text', () => {
    const items = $('li').map((_, li) => $(li).text().trim()).get();
    expect(items).toContain('☑ Ticket');
    expect(items).toContain('☐ Life jacket');
    expect(article.text).toMatch(/☑ Ticket\n\s*\* ☐ Life jacket/);
  });

  it('read a definition list as term and definition', () => {
    expect($('dl dt').map((_, dt) => $(dt).text()).get()).toEqual(['Deck', 'Hold']);
    expect($('dl dd').first().text()).toBe('the open area at the top of the ship');
    expect(article.text).toMatch(/Deck\n {3,4}the open area at the top of the ship\nHold\n {3,4}where the cars go/);
  });

  it('turn emoji shortcodes into emoji, in the title too', () => {
    expect(article.title).toBe('Ferry notes 🚢');
  });

  it('draw TeX as images with the TeX as alt text, and keep the TeX in the text', () => {
    const inline = $('p img.nl-math');
    expect(inline.first().attr('alt')).toBe('v \\ne 0');
    expect($('p.nl-math-display img.nl-math').attr('alt')).toBe('t = \\frac{d}{v}');
    expect(article.localImages.filter((image) => image.generated).map((image) => image.generated!.slice(0, 4))).toEqual(['<svg', '<svg']);
    expect(article.text).toContain('t = \\frac{d}{v}');
    expect(article.text).toContain('The fare is $5 and the return is $8.');
  });
});

describe('TeX delimiters', () => {
  it('reads $…$, $$…$$, \\(…\\), \\[…\\] and their Markdown-escaped forms; a TeX error is shown as code with a warning', () => {
    const source = ['---', 'title: T', '---', 'Inline \\(a^2\\) and \\\\(b_1\\\\) and \\\\[c = 1\\\\].', '', '\\[', 'x = \\sqrt{y}', '\\]', '', 'Broken $\\frac{1}{$ here.', ''].join('\n');
    const article = parseMarkdownArticle(source, 't', 't.md');
    const $ = cheerio.load(article.html);
    expect($('img.nl-math').map((_, img) => $(img).attr('alt')).get()).toEqual(['a^2', 'b_1', 'c = 1', 'x = \\sqrt{y}']);
    expect($('p.nl-math-display img').attr('alt')).toBe('x = \\sqrt{y}');
    expect($('code').text()).toBe('\\frac{1}{');
    expect(article.findings.filter((f) => /TeX/.test(f.message)).map((f) => f.line)).toEqual([10]);
    expect(prose(article.html)).not.toMatch(/\\\(|\\\[|\$/);
  });
});

describe('Eleventy and Nunjucks', () => {
  let article: Article;
  let $: cheerio.CheerioAPI;
  beforeAll(async () => {
    article = await load('open-day.md');
    $ = cheerio.load(article.html);
  });

  it('leave no expression or tag in the HTML or the text', () => {
    expect(article.html).not.toMatch(LEAKS);
    expect(article.text).not.toMatch(LEAKS);
    expect(article.text).not.toContain('That is');
  });

  it('resolve a link target written as a filtered literal URL', () => {
    expect($('a').filter((_, a) => $(a).text() === 'boatyard on social media').attr('href')).toBe('https://social.example.com/@boatyard');
  });

  it('make a paired callout a box that keeps its Markdown', () => {
    expect($('blockquote.nl-callout-warning strong').text()).toBe('boots');
  });

  it('warn at the line of each construct it cannot run', () => {
    expect(findingsAt(article, /stats\.visitors \| humanNum/)).toEqual([5]);
    expect(findingsAt(article, /if stats/)).toEqual([7]);
    expect(findingsAt(article, /boatyardmap/)).toEqual([14]);
  });
});

describe('Hugo shortcodes', () => {
  let article: Article;
  let $: cheerio.CheerioAPI;
  beforeAll(async () => {
    article = await load('ferry-guide/index.md');
    $ = cheerio.load(article.html);
  });

  it('leave no syntax outside code, and lose none of the text around it', () => {
    expect(prose(article.html)).not.toMatch(LEAKS);
    expect(article.text.replace('{{< figure src="deck.png" >}}', '')).not.toMatch(/\{\{<|\{\{%/);
    for (const kept of ['Everything about the crossing', 'We sail in all weathers but fog.', 'The captain', 'Watch on Wistia', 'Watch the video']) expect(article.text).toContain(kept);
  });

  it('keep the text of a {{< ref >}} link, unlinked, with a warning at its line', () => {
    expect($('p').filter((_, p) => $(p).text() === 'Read the booking guide first.').find('a').length).toBe(0);
    expect($('a:not([href])').length + $('a[href=""]').length).toBe(0);
    expect(findingsAt(article, /ref "booking"/)).toEqual([9]);
  });

  it('keep the lead, the screenshot and the quote with its attribution', () => {
    expect($('p').first().text()).toBe('Everything about the crossing, in one page.');
    expect($('figure img').attr('src')).toBe('deck.png');
    expect($('figure img').attr('alt')).toBe('The upper deck');
    expect(article.localImages.map((image) => image.written)).toEqual(['deck.png']);
    const attribution = $('blockquote p.nl-attribution');
    expect(attribution.text()).toBe('— The captain, Harbour Radio');
    expect(attribution.find('cite a').attr('href')).toBe('https://radio.example.com/captain');
  });

  it('make {{< video >}} and a Wistia embed "watch" links', () => {
    const cards = $('p.nl-embed a').map((_, a) => $(a).attr('href')).get();
    expect(cards).toEqual(['https://media.example.com/crossing.mp4', 'https://fast.wistia.net/embed/iframe/k2ferry9ab']);
    expect(findingsAt(article, /Wistia/)).toEqual([21]);
    // A card stands in place of the paragraph that only held the embed: no empty paragraphs around it.
    expect($('p').filter((_, p) => !$(p).text().trim() && !$(p).find('img').length).length).toBe(0);
  });

  it('show escaped shortcodes in code unescaped', () => {
    expect($('pre code').first().text().trim()).toBe('{{< figure src="deck.png" >}}');
  });
});

describe('many and deep tags', () => {
  it('removes tags nested past 32 levels with one warning, and leaves none behind', () => {
    const source = `---\ntitle: T\n---\n${'{{< box >}}\n'.repeat(100)}deep text\n${'{{< /box >}}\n'.repeat(100)}`;
    const article = parseMarkdownArticle(source, 't', 't.md');
    expect(article.text).toBe('deep text');
    expect(article.findings.filter((f) => /nested more than 32 deep/.test(f.message))).toHaveLength(1);
  });
});

describe('the text part', () => {
  it('keeps a long indented (code) line whole with its indent: never a blank line plus a line without it', () => {
    const line = `    curl --silent --fail --location "https://timetable.example.com/api/v2/sailings?route=inner-harbour" --output sailings.json`;
    // Code in the text part is never re-wrapped at spaces (issue 18): one line, as written.
    expect(wrapText(line, 76).split('\n')).toEqual([line]);
  });
});

describe('a build of these posts', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'nl-blog-syntax-'));
    await cp(path.join(FIXTURE, 'content'), path.join(work, 'content'), { recursive: true });
    await cp(path.join(FIXTURE, 'newsletter.config.json'), path.join(work, 'newsletter.config.json'));
    await cp(path.join(ROOT, 'templates'), path.join(work, 'templates'), { recursive: true });
    const build = await runCli(['build', 'tides', 'ferry'], { cwd: work, timeoutMs: 90_000 });
    expect(build.code, build.stderr + build.stdout).toBe(0);
  }, 120_000);

  it('shows the WebP images of the shortcodes as processed images', async () => {
    const $ = cheerio.load(await readFile(path.join(work, 'dist/tides/index.html'), 'utf8'));
    const sources = $('img').map((_, img) => $(img).attr('src')).get().filter((src) => /\/assets\/(?:quay|chart)/.test(src));
    expect(sources).toHaveLength(3);
    for (const src of sources) expect(src).toMatch(/\.(?:jpg|png)$/);
  });

  it('rasterizes each formula at twice the size it is shown at', async () => {
    const $ = cheerio.load(await readFile(path.join(work, 'dist/ferry/index.html'), 'utf8'));
    const formula = $('img.nl-math').filter((_, img) => $(img).attr('alt') === 't = \\frac{d}{v}');
    const name = path.basename(formula.attr('src')!);
    const meta = await sharp(path.join(work, 'dist/assets', name)).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(Number(formula.attr('width')) * 2);
    const text = await readFile(path.join(work, 'dist/ferry/index.txt'), 'utf8');
    expect(text).toContain('t = \\frac{d}{v}');
    expect(text).toContain('☐ Life jacket');
    const curl = text.split('\n').filter((line) => /curl|--output|inner-harbour/.test(line));
    expect(curl).toHaveLength(1);
    expect(curl[0]).toMatch(/^ {4,}curl .*inner-harbour.* --output sailings\.json$/);
  });
});
