import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { journeyProject } from './helpers/journey-project.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * The whole journey of issue 18, as a user walks it, on a project of its own (the Harbour Letter,
 * tests/fixtures/journey/): a Markdown issue whose lead has a local image, a second article without
 * `url:` holding a table, a layout of its own. build → check → publish → send to a real SMTP
 * server → the one-click List-Unsubscribe of a delivered message POSTed to a running `serve` → the
 * next send skips that address. Every step is the CLI (bin/newsletter.js) in the project's folder.
 */

const SECRET = 'journey-secret';
const READERS = ['ann@harbour-readers.co.uk', 'bob@harbour-readers.co.uk', 'cleo@harbour-readers.co.uk'];
const SITE = 'https://harbour-letter.co.uk/';

let smtp: TestSmtpServer | null = null;
let serve: ServeProcess | null = null;
afterEach(async () => {
  await serve?.stop();
  serve = null;
  await smtp?.close();
  smtp = null;
});

describe('the journey, build to unsubscribe', () => {
  it('build → check → publish → send → one-click unsubscribe on serve → the next send skips the address', async () => {
    const dir = await journeyProject();
    await writeFile(path.join(dir, 'subscribers.csv'), `email,name\n${READERS.map((email) => `${email},${email.split('@')[0]}`).join('\n')}\n`);
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { NEWSLETTER_SECRET: SECRET, SMTP_URL: '', ...env }, timeoutMs: 90_000 });

    // build: the issue is written, no error-level finding.
    const build = await cli(['build']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(build.stdout).toMatch(/^dist\/harbour-1\/index\.html {2}\d+\.\d KB {2}ok\b/m);

    // check: exit 0, no error.
    const check = await cli(['check', 'harbour-1', '--json']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const report = JSON.parse(check.stdout) as { counts: { error: number } };
    expect(report.counts.error).toBe(0);

    // publish: the web edition holds the second article in full under its anchor, the feeds name
    // the lead image by its published URL.
    const publish = await cli(['publish']);
    expect(publish.code, publish.stdout + publish.stderr).toBe(0);
    const web = cheerio.load(await readFile(path.join(dir, 'dist/site/issues/harbour-1/index.html'), 'utf8'));
    const image = web('meta[property="og:image"]').attr('content')!;
    expect(image).toMatch(/^https:\/\/harbour-letter\.co\.uk\/assets\/ferry-[0-9a-f]+\.jpg$/);
    expect(web('#timetable').length).toBe(1);
    expect(web('th').map((_, th) => web(th).text().trim()).get()).toEqual(['Departure', 'From', 'Arrives', 'Days']);
    const feed = JSON.parse(await readFile(path.join(dir, 'dist/site/feed.json'), 'utf8')) as { items: { image?: string }[] };
    expect(feed.items[0]!.image).toBe(image);

    // send: one message per reader, accepted by a real SMTP server.
    smtp = await startSmtpServer();
    const first = await cli(['send', 'harbour-1', '--list', 'subscribers.csv', '--yes'], { SMTP_URL: smtp.url });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(smtp.deliveries.map((d) => d.to[0]).sort()).toEqual(READERS);

    // What Bob got: the lead image at its published URL, the card linking to its full text.
    const bob = await simpleParser(smtp.deliveries.find((d) => d.to[0] === READERS[1])!.raw);
    const email = cheerio.load(bob.html as string);
    expect(email('img').map((_, img) => email(img).attr('src')).get()).toContain(image);
    expect(email('h2#timetable').text().trim()).toBe('Every crossing of the winter timetable');
    expect(email('a').filter((_, a) => email(a).text().trim() === 'Read “Every crossing of the winter timetable” in full').attr('href')).toBe(`${SITE}issues/harbour-1/#timetable`);
    expect(bob.text).toContain(`${SITE}issues/harbour-1/#timetable`);
    // The raw header, as a mail client reads it.
    const header = bob.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
    expect(bob.headerLines.find((h) => h.key === 'list-unsubscribe-post')!.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const oneClick = new URL(/<(https:[^>]+)>/.exec(header)![1]!);
    expect(oneClick.origin).toBe('https://harbour-letter.co.uk');
    expect(oneClick.pathname).toMatch(/^\/unsubscribe\/[\w-]+$/);

    // serve (the site is published already): Bob's mail client POSTs the one-click URL.
    serve = await startServe(dir, [], { NEWSLETTER_SECRET: SECRET });
    expect(serve.output()).not.toContain('publishing it first');
    expect((await fetch(new URL('issues/harbour-1/', serve.url))).status).toBe(200);
    const answer = await fetch(new URL(oneClick.pathname, serve.url), {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(200);

    // The next issue goes to Ann and Cleo only.
    const issue = await readFile(path.join(dir, 'content/issues/harbour-1.md'), 'utf8');
    await writeFile(path.join(dir, 'content/issues/harbour-2.md'), issue.replace(/^subject: .*$/m, 'subject: "The ferry\'s first week"').replace('date: 2024-11-04', 'date: 2024-11-11'));
    smtp.deliveries.length = 0;
    const second = await cli(['send', 'harbour-2', '--list', 'subscribers.csv', '--yes'], { SMTP_URL: smtp.url });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(smtp.deliveries.map((d) => d.to[0]).sort()).toEqual([READERS[0], READERS[2]]);
    const journal = (await readFile(path.join(dir, '.newsletter/sends/harbour-2.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { status: string; email?: string });
    expect(journal.find((record) => record.email === READERS[1])?.status).toBe('skipped-suppressed');
  }, 240_000);
});
