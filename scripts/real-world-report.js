#!/usr/bin/env node
/**
 * How the tool does on posts it did not write: every post under ../shared/real-world/ (or the
 * folder given), placed as its blog keeps it, built as an issue of its own with the `article`
 * layout, then measured. One row a post:
 *
 *   build   ok, or the first line of the error
 *   leaks   generator or markup syntax outside code, in the HTML's text and in the text part
 *           ({{ }}, {% %}, {{< >}}, {: …}, [!NOTE], $…$ math, :emoji: shortcodes, <tags>, …)
 *   lost    blocks of the source (paragraphs, list items, table cells, captions, footnotes)
 *           whose words are in neither the HTML nor the text part, of those checked
 *   images  <img> shown (a file that exists, or an http(s) URL) / images the source names
 *   375px   the page's scroll width in Chromium at a 375 px viewport (375 means no sideways scroll)
 *
 * Usage: npm run build:ts && node scripts/real-world-report.js [REAL_WORLD_DIR] [--json] [--keep]
 * Nothing of the material is copied into the repository: the projects are made in a temp folder.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { load } from 'cheerio';
import { marked } from 'marked';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const SOURCE = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(ROOT, '..', 'shared', 'real-world'));
const JSON_OUT = args.includes('--json');
const KEEP = args.includes('--keep');

/**
 * Each blog as a project of its own: `articles` is the folder its posts live in (it becomes
 * content/articles/), `extra` copies other folders under content/ (root-relative images such as
 * `/blog/x.png` are served from there), `posts` the slugs, as the blog names them.
 */
const BLOGS = [
  { name: 'eleventy-base-blog', articles: 'eleventy-base-blog/content/blog', posts: ['firstpost', 'secondpost', 'thirdpost', 'fourthpost', 'fifthpost'] },
  { name: 'eleventy-11ty-website', articles: 'eleventy-11ty-website/src/blog', extra: { 'eleventy-11ty-website/src/blog': 'blog' }, posts: ['2023-10-23-seven-million', '2023-02-08-eleventy-v2'] },
  { name: 'hugo-tidyverse', articles: 'hugo-tidyverse/content/blog', posts: ['2024/quarto-live-0-1-1', '2021/cli-3-1-0', '2022/its-about-time', '2025/fonts-in-r'] },
  { name: 'hugo-congo', articles: 'hugo-congo/exampleSite/content', posts: ['docs/version-2', 'samples/emoji'] },
  { name: 'hugo-stack', articles: 'hugo-stack/demo/content/post', posts: ['Image Gallery', 'shortcodes', 'Math Typesetting'] },
  { name: 'zola-tabi', articles: 'zola-tabi/content/blog', posts: ['markdown', 'shortcodes'] },
  { name: 'astro-blog', articles: 'astro-blog/examples/blog/src/content', extra: { 'astro-blog/examples/blog/src/assets': 'assets' }, posts: ['blog/markdown-style-guide', 'blog/using-mdx'] },
  { name: 'gatsby-starter-blog', articles: 'gatsby-starter-blog/content/blog', posts: ['hello-world'] },
  { name: 'jekyll-minimal-mistakes', articles: 'jekyll-minimal-mistakes/docs/_posts', posts: ['2013-08-16-markup-syntax-highlighting', '2010-02-05-post-notice'] },
  {
    name: 'jekyll-chirpy',
    articles: 'jekyll-chirpy/_posts',
    extra: { 'jekyll-chirpy/images-from-lleosunn/commons': 'commons', 'jekyll-chirpy/images-from-lleosunn/posts': 'posts' },
    posts: ['2019-08-08-text-and-typography'],
  },
  { name: 'earlier-set', articles: 'earlier-set/content/articles', posts: ['markdown-syntax', 'rust-survey-2024', 'check-cfg', 'harbour-photo'] },
];

async function exists(file) {
  return stat(file).then(() => true, () => false);
}

async function makeProject(dir, blog) {
  await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  await cp(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await cp(path.join(SOURCE, blog.articles), path.join(dir, 'content', 'articles'), { recursive: true });
  for (const [from, to] of Object.entries(blog.extra ?? {})) await cp(path.join(SOURCE, from), path.join(dir, 'content', to), { recursive: true });
  await mkdir(path.join(dir, 'content', 'issues'), { recursive: true });
  for (const [index, slug] of blog.posts.entries()) {
    const issue = ['---', `subject: ${JSON.stringify(`Real post ${slug}`)}`, 'template: article', 'articles:', `  - ${JSON.stringify(slug)}`, '---', ''].join('\n');
    await writeFile(path.join(dir, 'content', 'issues', `post-${index}.md`), issue);
  }
}

/** The source text of a post, whichever file the loader would take. */
async function sourceOf(articles, slug) {
  const base = path.join(articles, ...slug.split('/'));
  for (const file of [`${base}.md`, `${base}.mdx`, path.join(base, 'index.md'), path.join(base, '_index.md'), path.join(base, `${path.basename(base)}.md`)]) {
    if (await exists(file)) return readFile(file, 'utf8');
  }
  return '';
}

function bodyOf(source) {
  const match = /^(?:---|\+\+\+)[^\n]*\n[\s\S]*?\n(?:---|\+\+\+)\s*\n/.exec(source);
  return match ? source.slice(match[0].length) : source;
}

/** Syntax that should never reach a reader, outside code. */
const LEAKS = [
  ['{{ }}', /\{\{[\s\S]{0,200}?\}\}/g],
  ['{% %}', /\{%[\s\S]{0,200}?%\}/g],
  ['{: IAL}', /\{:\s?[^}\n]{0,100}\}/g],
  ['[!ALERT]', /\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]/gi],
  ['$$ math', /\$\$[\s\S]{1,400}?\$\$/g],
  ['\\( math', /\\\([\s\S]{1,200}?\\\)|\\\[[\s\S]{1,400}?\\\]/g],
  [':emoji:', /(?<![\w:/]):[a-z0-9_+-]{2,30}:(?![\w/])/g],
  ['<tag>', /<\/?[a-z][\w-]*(?:\s[^<>]{0,200})?>/gi],
  ['markdown', /\*\*[^*\n]{1,80}\*\*|\]\((?:https?:|#|\/)[^)\s]*\)/g],
];

function countLeaks(text) {
  const found = [];
  for (const [name, pattern] of LEAKS) for (const match of text.matchAll(pattern)) found.push(`${name}: ${match[0].slice(0, 50).replace(/\s+/g, ' ')}`);
  return found;
}

/** The HTML's reader-visible text, code blocks left out; and the text part with its code lines left out. */
function readerText(html, codeLines) {
  const $ = load(spaced(html));
  $('pre, code, style, script, head').remove();
  const htmlText = $('body').text();
  return { htmlText, isCode: (line) => codeLines.has(line.trim()) };
}

/** A space before every block, so that the text of two paragraphs does not run together. */
function spaced(html) {
  return html.replace(/<(?=\/?(?:p|div|td|th|li|h\d|br|tr|table|figcaption|blockquote|pre)\b)/gi, ' <');
}

/** The lines of code blocks in the source, which may show any syntax verbatim. */
function codeLinesOf(body) {
  const lines = new Set();
  marked.walkTokens(marked.lexer(body), (token) => {
    if (token.type === 'code') for (const line of token.text.split('\n')) if (line.trim()) lines.add(line.trim());
  });
  // Liquid highlight blocks and <pre> blocks hold code too.
  for (const match of body.matchAll(/\{%-?\s*highlight[\s\S]*?%\}([\s\S]*?)\{%-?\s*endhighlight\s*-?%\}|<pre[^>]*>([\s\S]*?)<\/pre>/g)) {
    for (const line of decode(match[1] ?? match[2] ?? '').split('\n')) if (line.trim()) lines.add(line.trim());
  }
  return lines;
}

function decode(html) {
  return html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** Inline code of the source (`<h1>`, `{{ x }}`): the author shows it as code, so it is no leak. */
function inlineCodeOf(body) {
  const spans = [];
  marked.walkTokens(marked.lexer(body), (token) => {
    if (token.type === 'codespan') spans.push(decode(token.text).replace(/\{%-?\s*(?:end)?raw\s*-?%\}/g, ''));
  });
  return spans.sort((a, b) => b.length - a.length);
}

/** Words of a text, lower case; bare numbers left out (footnote markers land between words). */
function words(text) {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word && !/^\d+$/.test(word));
}

/**
 * Blocks of the source a reader must find: paragraphs, list items, table cells, footnotes. Each is
 * probed by its longest run of plain words (letters only, no syntax around them), so a block that
 * the tool rightly reshapes (a shortcode made a box, an emoji code made an emoji) still matches.
 */
function probesOf(body) {
  const probes = [];
  const visit = (tokens) => {
    for (const token of tokens) {
      if (token.type === 'code' || token.type === 'html' && /^<(?:script|style)/i.test(token.raw)) continue;
      if (token.type === 'paragraph' || token.type === 'text' && !token.tokens?.length || token.type === 'heading') probes.push(token.text);
      // A text part lays a table out in columns, wrapping a cell over lines: cells are looked for in the HTML.
      if (token.type === 'table') for (const row of [token.header, ...token.rows]) for (const cell of row) probes.push({ text: cell.text, htmlOnly: true });
      if (token.type === 'list') for (const item of token.items) visit(item.tokens ?? []);
      else if (token.tokens && token.type !== 'paragraph' && token.type !== 'heading') visit(token.tokens);
    }
  };
  // MDX statements are code the tool removes (with a warning), not text.
  visit(marked.lexer(body.replace(/^(?:import|export)\s.*$/gm, '')));
  const runs = [];
  for (const probe of probes) {
    const { text, htmlOnly } = typeof probe === 'string' ? { text: probe, htmlOnly: false } : probe;
    // A run: consecutive words outside any {{…}}, {%…%}, $…$, `…` or link target.
    const plain = text
      // Math (an image with its TeX as alt text) and kramdown attribute lists are not prose.
      .replace(/\$\$[\s\S]*?\$\$|\\\[[\s\S]*?\\\]|\\\([\s\S]*?\\\)|\{:[^}]*\}/g, ' | ')
      .replace(/^\[\^[^\]]+\]:\s*/, '').replace(/\[\^[^\]]+\]/g, ' ').replace(/!\[[^\]]*\]\([^)]*\)/g, ' | ').replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\$[^$]*\$|`[^`]*`|\]\([^)]*\)|<[^>]*>|:[a-z0-9_+-]+:|https?:\/\/\S+/g, ' | ');
    let best = [];
    for (const part of plain.split('|')) {
      const w = part.split(/[^\p{L}\p{N}'’]+/u).filter(Boolean);
      if (w.length > best.length) best = w;
    }
    if (best.length >= 4) runs.push({ text: best.slice(0, 8).join(' '), htmlOnly });
  }
  return runs;
}

/** Images the source shows a reader: Markdown images, <img>, image shortcodes; none inside code. */
function expectedImages(body) {
  let count = 0;
  const tokens = marked.lexer(body);
  marked.walkTokens(tokens, (token) => {
    if (token.type === 'image') count++;
    if (token.type === 'html') count += [...token.raw.matchAll(/<img\b/gi)].length;
  });
  const prose = tokens.filter((t) => t.type !== 'code').map((t) => t.raw).join('\n');
  count += [...prose.matchAll(/\{\{[<%]?\s*[\w-]+[^}]*?(?:src|image|url|path)\s*=\s*["'][^"']+\.(?:png|jpe?g|gif|webp|svg|avif)["'][^}]*\}\}/gi)].length;
  return count;
}

async function measureWidth(browser, file) {
  const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
  try {
    await page.route(/^https?:/, (route) => route.abort());
    await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 30_000 });
    return await page.evaluate(() => document.documentElement.scrollWidth);
  } finally {
    await page.close();
  }
}

async function main() {
  const { launchChromium } = await import(path.join(ROOT, 'lib', 'index.js'));
  const browser = await launchChromium(process.env);
  const work = await mkdtemp(path.join(os.tmpdir(), 'nl-real-world-'));
  const rows = [];
  try {
    for (const blog of BLOGS) {
      if (!(await exists(path.join(SOURCE, blog.articles)))) continue;
      const dir = path.join(work, blog.name);
      await makeProject(dir, blog);
      for (const [index, slug] of blog.posts.entries()) {
        const row = { post: `${blog.name}/${slug}`, build: 'ok', leaks: 0, leakSamples: [], lost: 0, checked: 0, lostSamples: [], images: '', width: null };
        rows.push(row);
        try {
          await run(process.execPath, [path.join(ROOT, 'bin', 'newsletter.js'), 'build', `post-${index}`], { cwd: dir, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
        } catch (error) {
          const out = `${error.stderr ?? ''}${error.stdout ?? ''}`;
          const line = out.split('\n').find((l) => /error|failed|no article|expected/i.test(l)) ?? out.split('\n')[0] ?? String(error);
          if (!(await exists(path.join(dir, 'dist', `post-${index}`, 'index.html')))) {
            row.build = line.trim().slice(0, 110);
            continue;
          }
          row.build = 'ok (check errors)';
        }
        const out = path.join(dir, 'dist', `post-${index}`);
        const html = await readFile(path.join(out, 'index.html'), 'utf8');
        const text = await readFile(path.join(out, 'index.txt'), 'utf8');
        const body = bodyOf(await sourceOf(path.join(dir, 'content', 'articles'), slug));
        const codeLines = codeLinesOf(body);
        const { htmlText } = readerText(html, codeLines);
        // What the email shows as code (its <pre> blocks) may hold any syntax, as the author meant.
        const $pre = load(html);
        for (const pre of $pre('pre').toArray()) for (const line of $pre(pre).text().split('\n')) if (line.trim()) codeLines.add(line.trim());
        let textOutsideCode = text.split('\n').filter((l) => !codeLines.has(l.trim())).join('\n');
        for (const span of inlineCodeOf(body)) textOutsideCode = textOutsideCode.split(span).join(' ');
        const leaks = [...countLeaks(htmlText).map((l) => `html ${l}`), ...countLeaks(textOutsideCode).map((l) => `text ${l}`)];
        row.leaks = leaks.length;
        row.leakSamples = leaks.slice(0, 5);
        const htmlWords = ` ${words(load(spaced(html))('body').text()).join(' ')} `;
        const textWords = ` ${words(text).join(' ')} `;
        for (const probe of probesOf(body)) {
          const needle = ` ${words(decode(probe.text)).join(' ')} `;
          row.checked++;
          if (!htmlWords.includes(needle) || (!probe.htmlOnly && !textWords.includes(needle))) {
            row.lost++;
            if (row.lostSamples.length < 5) row.lostSamples.push(`${htmlWords.includes(needle) ? 'text' : 'html'}: ${probe.text}`);
          }
        }
        const $ = load(html);
        let shown = 0;
        for (const img of $('img').toArray()) {
          const src = $(img).attr('src') ?? '';
          if (/^https?:\/\//.test(src) && !src.includes('/assets/')) shown++;
          else if (src) {
            const asset = src.replace(/^https?:\/\/[^/]+\/(?:[^/]+\/)*?assets\//, 'assets/').replace(/^.*?assets\//, 'assets/');
            if (await exists(path.join(dir, 'dist', asset))) shown++;
          }
        }
        row.images = `${shown}/${expectedImages(body)}`;
        row.width = await measureWidth(browser, path.join(out, 'index.html'));
      }
    }
  } finally {
    await browser.close();
    if (!KEEP) await rm(work, { recursive: true, force: true });
    else process.stderr.write(`projects kept in ${work}\n`);
  }
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`${pad('post', 52)}${pad('build', 20)}${pad('leaks', 7)}${pad('lost', 10)}${pad('images', 8)}375px`);
  for (const r of rows) {
    console.log(`${pad(r.post, 52)}${pad(r.build.length > 18 ? `${r.build.slice(0, 17)}…` : r.build, 20)}${pad(r.leaks, 7)}${pad(`${r.lost}/${r.checked}`, 10)}${pad(r.images, 8)}${r.width ?? '-'}`);
  }
  const built = rows.filter((r) => r.build.startsWith('ok'));
  const sum = (f) => built.reduce((n, r) => n + f(r), 0);
  console.log(
    `\n${built.length}/${rows.length} built; leaks ${sum((r) => r.leaks)}; lost ${sum((r) => r.lost)}/${sum((r) => r.checked)} blocks; ` +
      `images ${sum((r) => Number(r.images.split('/')[0]))}/${sum((r) => Number(r.images.split('/')[1]))}; ` +
      `wider than 375 px: ${built.filter((r) => r.width !== 375).length}`,
  );
  console.log('');
  for (const r of rows) {
    if (r.build !== 'ok' && r.build !== 'ok (check errors)') console.log(`${r.post}: ${r.build}`);
    for (const l of r.leakSamples) console.log(`${r.post}: leak ${l}`);
    for (const l of r.lostSamples) console.log(`${r.post}: lost ${l}`);
  }
}

await main();
