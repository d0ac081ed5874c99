import { mkdir, mkdtemp, readFile, realpath, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileInside, urlSegments } from '../src/preview/safe-path.js';
import { planChanges, requestPaths } from '../src/preview/change-plan.js';
import { loadConfig } from '../src/config/load-config.js';
import { isNoise } from '../src/preview/watch-project.js';
import { darkView, linksInNewTab, phoneView } from '../src/preview/email-views.js';
import { isLoopbackHost } from '../src/preview/preview-server.js';
import { PreviewSession, type PreviewUpdate } from '../src/preview/preview-session.js';
import { readSampleRecipients } from '../src/preview/sample-recipients.js';
import { openInBrowser } from '../src/preview/open-browser.js';
import { copyPreviewProject } from './helpers/preview-project.js';

// The preview's parts without a browser: path safety, what a change re-renders, the dark view,
// the picker's list reading, and a session living through broken and fixed files.

describe('urlSegments', () => {
  it.each([
    ['/', []],
    ['/issues/weekly-1/', ['issues', 'weekly-1']],
    ['/files/content/a%20b.md', ['files', 'content', 'a b.md']],
  ])('splits %s into decoded segments', (input, expected) => {
    expect(urlSegments(input)).toEqual(expected);
  });

  it.each(['/../x', '/a/..', '/a/./b', '/%2e%2e/x', '/a/%2E%2e', '/a%2fb', '/a%5cb', '/a%00b', '//etc/passwd', '/a//b', '/%E0%A4%A', 'http://h/x', 'x'])(
    'refuses %s',
    (input) => {
      expect(urlSegments(input)).toBeNull();
    },
  );
});

describe('fileInside', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'preview-files-'));
    await mkdir(path.join(root, 'inside'));
    await writeFile(path.join(root, 'inside/ok.txt'), 'ok');
    await writeFile(path.join(root, 'inside/.env'), 'SECRET=1');
    await writeFile(path.join(root, 'outside.txt'), 'outside');
    await symlink(path.join(root, 'outside.txt'), path.join(root, 'inside/escape.txt'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('serves regular files inside the root and nothing else', async () => {
    const inside = path.join(root, 'inside');
    expect(await fileInside(inside, ['ok.txt'])).toBe(path.join(await realpath(inside), 'ok.txt'));
    expect(await fileInside(inside, ['.env'])).toBeNull();
    expect(await fileInside(inside, ['escape.txt'])).toBeNull();
    expect(await fileInside(inside, ['..', 'outside.txt'])).toBeNull();
    expect(await fileInside(inside, [])).toBeNull();
    expect(await fileInside(inside, ['missing.txt'])).toBeNull();
    expect(await fileInside(root, ['inside'])).toBeNull();
  });
});

describe('planChanges', () => {
  const paths = { content: '/p/content', templates: '/p/templates', config: '/p/newsletter.config.json' };

  it('maps files to the work they call for', () => {
    const plan = planChanges(paths, [
      '/p/content/articles/summit.md',
      '/p/content/articles/wire.txt',
      '/p/content/issues/weekly-2.md',
      '/p/content/issues/notes.txt',
      '/p/content/images/photo.jpg',
      '/p/dist/weekly-1/index.html',
    ]);
    expect(plan).toEqual({ project: false, issues: new Set(['weekly-2']), articles: new Set(['summit', 'wire']), content: true });
  });

  it('reloads the project for the config file and anything under templates', () => {
    expect(planChanges(paths, ['/p/newsletter.config.json']).project).toBe(true);
    expect(planChanges(paths, ['/p/templates/partials/footer.mjml']).project).toBe(true);
    expect(planChanges(paths, ['/p/templates-old/x.mjml']).project).toBe(false);
    expect(planChanges(paths, ['/p/other.json'])).toEqual({ project: false, issues: new Set(), articles: new Set(), content: false });
  });
});

describe('requestPaths', () => {
  it('resolves the folders exactly as loadConfig does, without reading the config', async () => {
    const project = await copyPreviewProject();
    try {
      for (const request of [{ cwd: project.dir }, { cwd: project.dir, content: 'content/../content', templates: './templates', out: 'build/out', configFile: 'newsletter.config.json' }]) {
        const { paths } = await loadConfig(request);
        const ours = requestPaths(request);
        expect({ content: ours.content, templates: ours.templates, out: ours.out, config: ours.config }).toEqual({
          content: paths.content,
          templates: paths.templates,
          out: paths.out,
          config: paths.config,
        });
      }
    } finally {
      await project.cleanup();
    }
  });
});

describe('isNoise', () => {
  it('ignores editor swap files, backups and hidden files, not content', () => {
    const root = '/p/content';
    for (const noise of ['.weekly-1.md.swp', 'articles/x.md~', 'articles/.#x.md', '.git/index', 'articles/4913', 'issues/.weekly-1.md.swx']) {
      expect({ noise, ignored: isNoise(root, path.join(root, noise)) }).toEqual({ noise, ignored: true });
    }
    for (const real of ['articles/summit.md', 'issues/weekly-1.md', 'images/photo.jpg']) {
      expect({ real, ignored: isNoise(root, path.join(root, real)) }).toEqual({ real, ignored: false });
    }
    // A project that itself lives under a hidden folder is still watched.
    expect(isNoise('/home/me/.projects/news/content', '/home/me/.projects/news/content/articles/a.md')).toBe(false);
  });
});

describe('email views', () => {
  const email = `<!doctype html><html><head><style>
    .a { color: #000; }
    @media (prefers-color-scheme: dark) { .a { color: #fff !important; } }
    @media screen and (prefers-color-scheme: light) { .a { color: #111 !important; } }
  </style></head><body><div class="a">x</div></body></html>`;

  it('turns the email’s own dark rules on and its light-only rules off', () => {
    const { html, mode } = darkView(email);
    expect(mode).toBe('native');
    const css = cheerio.load(html)('style').text();
    const media = [...css.matchAll(/@media ([^{]+)\{/g)].map((m) => m[1]!.trim());
    expect(media).toEqual(['(min-width: 0px)', 'screen and (min-width: 100000px)']);
  });

  it('inverts an email without dark rules, images back to normal', () => {
    const { html, mode } = darkView('<html><head><title>t</title></head><body><img src="x.png" alt=""></body></html>');
    expect(mode).toBe('inverted');
    const $ = cheerio.load(html);
    expect($('head style').text()).toMatch(/^html\{filter:invert\(1\) hue-rotate\(180deg\)/);
    expect($('head title').text()).toBe('t');
  });

  it('opens the email’s links in a new tab rather than inside the frame', () => {
    const $ = cheerio.load(linksInNewTab('<html><head><title>t</title></head><body><a href="https://example.com/">x</a></body></html>'));
    expect($('head base').attr('target')).toBe('_blank');
    expect($('head base').attr('href')).toBeUndefined();
  });

  it('hides the scrollbar in the phone view so the email gets all 375 px', () => {
    const $ = cheerio.load(phoneView(email));
    expect($('head style').last().text()).toContain('scrollbar-width:none');
    expect($('body .a').text()).toBe('x');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['192.168.1.10', false],
    ['::', false],
    ['example.com', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('readSampleRecipients', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'preview-list-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads only the first rows of a long CSV, skipping invalid ones', async () => {
    const rows = ['email,name', 'not-an-address,Nobody', ...Array.from({ length: 500 }, (_, i) => `reader${i}@example.com,Reader ${i}`)];
    await writeFile(path.join(dir, 'long.csv'), `\uFEFF${rows.join('\n')}\n`);
    const recipients = await readSampleRecipients('long.csv', dir);
    expect(recipients).toHaveLength(50);
    expect(recipients[0]).toEqual({ email: 'reader0@example.com', name: 'Reader 0' });
    expect(recipients[49]).toEqual({ email: 'reader49@example.com', name: 'Reader 49' });
  });

  it('reads a JSON list', async () => {
    await writeFile(path.join(dir, 'list.json'), JSON.stringify([{ email: 'a@example.com', name: 'A', plan: 'pro' }, { email: 'b@example.com' }]));
    expect(await readSampleRecipients('list.json', dir)).toEqual([
      { email: 'a@example.com', name: 'A', plan: 'pro' },
      { email: 'b@example.com' },
    ]);
  });

  it('refuses a CSV without an email column, naming the file and line', async () => {
    await writeFile(path.join(dir, 'no-email.csv'), 'name,city\nA,B\n');
    await expect(readSampleRecipients('no-email.csv', dir)).rejects.toMatchObject({ code: 'LIST_INVALID', file: 'no-email.csv', line: 1 });
  });
});

describe('PreviewSession', () => {
  let project: Awaited<ReturnType<typeof copyPreviewProject>>;
  beforeAll(async () => {
    project = await copyPreviewProject();
  });
  afterAll(() => project?.cleanup());

  it('starts with broken templates, shows the problem for every issue, and recovers on the next good save', async () => {
    const footer = path.join(project.dir, 'templates/partials/footer.mjml');
    const good = await readFile(footer, 'utf8');
    await writeFile(footer, `${good}\n{{#if}}\n`);
    const session = new PreviewSession({ request: { cwd: project.dir } });
    const updates: PreviewUpdate[] = [];
    session.onUpdate((update) => updates.push(update));
    try {
      await session.start();
      // The project loads; every layout calls the footer, so every issue shows the footer's error.
      expect(session.projectProblem).toBeNull();
      expect(session.issues().map((state) => [state.slug, state.good, session.problemFor(state)?.code])).toEqual([
        ['weekly-1', null, 'TEMPLATE_SYNTAX'],
        ['weekly-2', null, 'TEMPLATE_SYNTAX'],
      ]);
      for (const state of session.issues()) expect(session.problemFor(state)?.file).toMatch(/templates\/partials\/footer\.mjml$/);

      await writeFile(footer, good);
      await session.apply([footer]);
      expect(session.projectProblem).toBeNull();
      expect(session.issues().map((state) => [state.slug, state.good?.issue.subject, state.problem])).toEqual([
        ['weekly-1', 'Kim heads to Russia: what a Putin summit could mean', null],
        ['weekly-2', 'Ferries, timetables and a new pontoon', null],
      ]);
      expect(updates.at(-1)).toMatchObject({ kind: 'render', project: true, slugs: ['weekly-1', 'weekly-2'] });
    } finally {
      await writeFile(footer, good);
      await session.close();
    }
  });

  it('notices issues being added and removed, and an issue fixed by adding its missing article', async () => {
    const session = new PreviewSession({ request: { cwd: project.dir } });
    const updates: PreviewUpdate[] = [];
    session.onUpdate((update) => updates.push(update));
    const issueFile = path.join(project.dir, 'content/issues/weekly-3.md');
    const articleFile = path.join(project.dir, 'content/articles/late-news.md');
    try {
      await session.start();
      await writeFile(issueFile, '---\nsubject: "Late news"\narticles:\n  - late-news\n---\nHello.\n');
      await session.apply([issueFile]);
      expect(updates.at(-1)).toMatchObject({ listChanged: true, slugs: ['weekly-3'] });
      expect(session.issue('weekly-3')?.problem).toMatchObject({ code: 'CONTENT_NOT_FOUND', line: 4 });

      await writeFile(articleFile, '---\ntitle: "Late news"\n---\nIt arrived.\n');
      await session.apply([articleFile]);
      expect(session.issue('weekly-3')?.problem).toBeNull();
      expect(session.issue('weekly-3')?.good?.issue.articles.map((article) => article.title)).toEqual(['Late news']);

      await unlink(issueFile);
      await session.apply([issueFile]);
      expect(updates.at(-1)).toMatchObject({ listChanged: true, slugs: ['weekly-3'] });
      expect(session.issues().map((state) => state.slug)).toEqual(['weekly-1', 'weekly-2']);
    } finally {
      await rm(issueFile, { force: true });
      await rm(articleFile, { force: true });
      await session.close();
    }
  });
});

describe('openInBrowser', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'preview-open-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('hands the URL to xdg-open when it is on PATH, and says so when there is none', async () => {
    const log = path.join(dir, 'opened.txt');
    await writeFile(path.join(dir, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${log}'\n`, { mode: 0o755 });
    expect(await openInBrowser('http://127.0.0.1:3000/', { PATH: dir }, 'linux')).toEqual({ opened: true });
    expect(await readFile(log, 'utf8')).toBe('http://127.0.0.1:3000/');
    expect(await openInBrowser('http://127.0.0.1:3000/', { PATH: path.join(dir, 'empty') }, 'linux')).toEqual({ opened: false, reason: 'no xdg-open on PATH' });
  });

  it('says why when the opener fails, and counts an opener still running as opened', async () => {
    const failing = path.join(dir, 'failing');
    await mkdir(failing, { recursive: true });
    // What xdg-open does on a machine with no browser configured.
    await writeFile(path.join(failing, 'xdg-open'), `#!/bin/sh\necho "xdg-open: no method available for opening '$1'" >&2\nexit 3\n`, { mode: 0o755 });
    expect(await openInBrowser('http://127.0.0.1:3000/', { PATH: failing }, 'linux')).toEqual({
      opened: false,
      reason: "xdg-open exited with 3: xdg-open: no method available for opening 'http://127.0.0.1:3000/'",
    });
    const foreground = path.join(dir, 'foreground');
    await mkdir(foreground, { recursive: true });
    await writeFile(path.join(foreground, 'xdg-open'), '#!/bin/sh\nexec /bin/sleep 2\n', { mode: 0o755 });
    expect(await openInBrowser('http://127.0.0.1:3000/', { PATH: foreground }, 'linux', 300)).toEqual({ opened: true });
  });
});
