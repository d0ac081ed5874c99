import path from 'node:path';
import { Encoder } from 'nodemailer/lib/qp';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReport, checkProjectIssue, checkReportSchema, composeMessage, formatReport, loadProject, renderIssue, renderProjectIssue, runChecks, RULE_IDS, type Project, type RenderedIssue, type Issue } from '../src/index.js';
import { prepareContext } from '../src/checks/context.js';
import { dedupeFindings } from '../src/checks/report.js';
import { headerValue, parseMessage, partOfType } from '../src/checks/mime.js';
import { LONGEST_ADDRESS, lengthenAddress } from '../src/checks/message-size.js';
import { crlf, messageInputFor } from '../src/render/message.js';
import { NewsletterError } from '../src/errors.js';
import { ROOT } from './helpers/cli.js';
import { checkFixture, EXAMPLE_CONFIG, fixtureDir, fixtureProject, ofRule, shown } from './check-helpers.js';

/** Severities from the config, config errors, the report and its JSON schema, and how size is measured. */

let project: Project;
let issue: Issue;
let rendered: RenderedIssue;

beforeAll(async () => {
  project = await loadProject({ cwd: ROOT, configFile: EXAMPLE_CONFIG });
  ({ issue, rendered } = await renderProjectIssue(project, 'weekly-1'));
});

function withRules(base: Project, rules: Record<string, 'error' | 'warn' | 'off'>, clients?: string[]): Project {
  return { ...base, config: { ...base.config, checks: { rules, clients: clients ?? base.config.checks.clients } } };
}

describe('severities from the config', () => {
  it('raise a rule to error, and turn rules off', async () => {
    const links = await fixtureProject('links');
    const input = await renderProjectIssue(links, 'http-link');
    const raised = await runChecks({ project: withRules(links, { 'links/http': 'error' }), ...input });
    expect(ofRule(raised, 'links/http').map((f) => f.severity)).toEqual(['error']);
    const off = await runChecks({ project: withRules(links, { 'links/http': 'off', 'compat/unsupported': 'off', 'compat/enhancement': 'off', 'compat/mjml': 'off' }), ...input });
    expect(off.filter((f) => f.rule === 'links/http' || f.rule.startsWith('compat/'))).toEqual([]);
  });

  it('an unknown rule id is a config error at its line, suggesting the closest id', async () => {
    const error = await checkFixture('unknown-rule').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NewsletterError);
    const config = path.join(fixtureDir('unknown-rule'), 'newsletter.config.json');
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', file: shown(fixtureDir('unknown-rule'), config), line: 20 });
    expect((error as NewsletterError).message).toBe('`checks.rules`: unknown rule `links/htpp`');
    expect((error as NewsletterError).hint).toMatch(/did you mean `links\/http`\?/);
  });

  it('an unknown client is a config error naming it', async () => {
    const error = await checkFixture('unknown-client').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', file: shown(fixtureDir('unknown-client'), 'newsletter.config.json'), line: 19 });
    expect((error as NewsletterError).message).toBe('`checks.clients`: unknown email client `hotmail`');
  });

  it('one platform of a client can be asked for alone', async () => {
    const findings = await runChecks({ project: withRules(project, {}, ['outlook.windows']), issue, rendered });
    const compat = findings.filter((f) => f.rule.startsWith('compat/'));
    expect(compat.length).toBeGreaterThan(0);
    for (const finding of compat) {
      // A declared enhancement is one note for all the clients that ignore it, so it names none.
      if (finding.rule !== 'compat/enhancement') expect(finding.client).toBe('outlook.windows');
      expect(finding.message).toMatch(/Outlook \(Windows\)/);
      expect(finding.message).not.toMatch(/Gmail|Yahoo|Windows Mail/);
    }
  });
});

describe('the report', () => {
  it('validates against the JSON schema, ok when no finding is an error', async () => {
    const findings = await runChecks({ project, issue, rendered });
    const clipped = await checkFixture('size', 'clipped');
    const report = buildReport([
      { slug: 'weekly-1', file: issue.file, findings },
      { slug: 'clipped', file: clipped.issue.file, findings: clipped.findings },
    ]);
    const parsed = checkReportSchema.parse(JSON.parse(JSON.stringify(report)));
    expect(parsed.issues.map((i) => [i.issue, i.ok])).toEqual([['weekly-1', true], ['clipped', false]]);
    expect(parsed.ok).toBe(false);
    expect(parsed.counts.error).toBe(parsed.issues.reduce((n, i) => n + i.counts.error, 0));
    for (const entry of parsed.issues) for (const finding of entry.findings) expect(RULE_IDS).toContain(finding.rule);
  });

  it('the table groups findings by severity, errors first, one aligned row each', async () => {
    const clipped = await checkFixture('size', 'clipped');
    const text = formatReport(buildReport([{ slug: 'clipped', file: clipped.issue.file, findings: clipped.findings }]));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['clipped', clipped.issue.file, 'FAILED', expect.stringMatching(/^\(1 error, \d+ warnings?, \d+ notes?(; \d+ from the templates, below)?\)$/)]);
    const ownBlock = lines.slice(0, lines.findIndex((l) => l.startsWith('templates  ')));
    const headings = ownBlock.filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().replace(/ \(\d+\)$/, ''));
    expect(headings[0]).toBe('Errors');
    const start = lines.findIndex((l) => l.trim().startsWith('Errors')) + 1;
    const errorRows = lines.slice(start, lines.indexOf('', start));
    expect(errorRows.map((row) => row.trim().split(/\s{2,}/).slice(0, 2))).toEqual([['size/gmail-clip', `${clipped.issue.file}:1`]]);
  });
});

describe('findings from the templates', () => {
  it('are reported once for all issues, with the issues they affect, and counted in each', async () => {
    const findings = await runChecks({ project, issue, rendered });
    // One `check` run shows every issue's paths relative to one cwd: the fixture's issue, read from ROOT.
    const size = fixtureDir('size');
    const clipped = await checkProjectIssue(await loadProject({ cwd: ROOT, configFile: path.join(size, 'newsletter.config.json'), content: path.join(size, 'content') }), 'clipped');
    const report = buildReport([
      { slug: 'weekly-1', file: issue.file, findings },
      { slug: 'clipped', file: clipped.issue.file, findings: clipped.findings },
    ]);
    const fromTemplates = (f: { file?: string }) => f.file?.startsWith('templates') ?? false;
    for (const entry of report.issues) expect(entry.findings.filter(fromTemplates)).toEqual([]);
    const radius = report.shared.filter((f) => f.message.startsWith('`border-radius`'));
    expect(radius).toHaveLength(1);
    expect(radius[0]!.issues).toEqual(['weekly-1', 'clipped']);
    // Each issue still counts what affects it; the total counts a shared finding once.
    expect(report.issues[0]!.counts.info).toBe(findings.filter((f) => f.severity === 'info').length);
    const own = report.issues.reduce((n, i) => n + i.findings.filter((f) => f.severity === 'info').length, 0);
    expect(report.counts.info).toBe(own + report.shared.filter((f) => f.severity === 'info').length);
    const text = formatReport(report);
    expect(text.split('\n').filter((l) => l.includes('`border-radius` is a declared'))).toHaveLength(1);
    expect(text).toMatch(/^templates {2}from layouts, partials, the theme, the config and MJML, the same in every issue {2}\(/m);
  });

  it('identical findings appear once, with their counts added', () => {
    const twice = { rule: 'links/http', severity: 'warn' as const, message: 'link `http://a.example/`', file: 'content/articles/a.md', line: 3 };
    expect(dedupeFindings([twice, { ...twice }, { ...twice, line: 4 }])).toEqual([
      { ...twice, message: 'link `http://a.example/` (2 times)', count: 2 },
      { ...twice, line: 4 },
    ]);
  });
});

describe('what is measured and read back', () => {
  it('the HTML size is the text/html part exactly as nodemailer encodes it (quoted-printable, CRLF lines)', async () => {
    const context = await prepareContext({ project, issue, rendered }, { caniemail: null });
    const encoded = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const encoder = new Encoder();
      encoder.on('data', (c: Buffer) => chunks.push(c));
      encoder.on('end', () => resolve(Buffer.concat(chunks)));
      encoder.end(Buffer.from(crlf(rendered.html)));
    });
    expect(context.size.sampleBytes).toBe(encoded.length);
  });

  it('the largest recipient: the sample copy with a 254-character address, wherever the address is printed', async () => {
    const context = await prepareContext({ project, issue, rendered }, { caniemail: null });
    const email = rendered.recipient.email;
    const printed = rendered.html.split(email).length - 1 + (rendered.html.split(encodeURIComponent(email)).length - 1);
    expect(printed).toBeGreaterThanOrEqual(1);
    // The unsubscribe token carries the address encrypted: 4/3 of its bytes, base64url.
    const links = rendered.html.split(rendered.unsubscribeUrl).length - 1;
    expect(links).toBeGreaterThanOrEqual(1);
    const perAddress = LONGEST_ADDRESS - email.length;
    const expected = printed * perAddress + links * Math.floor((perAddress * 4) / 3);
    const grown = context.size.largestBytes - context.size.sampleBytes;
    // Soft line breaks of quoted-printable add a few more.
    expect(grown).toBeGreaterThanOrEqual(expected);
    expect(grown).toBeLessThan(expected * 1.1);
  });

  it('the largest copy is measured as composing that copy would encode it', async () => {
    const context = await prepareContext({ project, issue, rendered }, { caniemail: null });
    const email = rendered.recipient.email;
    const long = lengthenAddress(email);
    expect(long).toHaveLength(LONGEST_ADDRESS);
    // That copy rendered for real, unsubscribe token included, then composed.
    const copy = await renderIssue(issue, { config: project.config, templates: project.templates, recipient: { ...rendered.recipient, email: long } });
    const raw = await composeMessage(messageInputFor(project.config, copy));
    const parsed = await simpleParser(raw);
    expect(parsed.html).toContain(long);
    expect(partOfType(parseMessage(raw), 'text/html')!.encodedBody.length).toBe(context.size.largestBytes);
  });

  it('headers and parts are read back from the composed message as mailparser reads them', async () => {
    const raw = await composeMessage({ config: project.config, issueSlug: issue.slug, subject: rendered.subject, html: rendered.html, text: rendered.text, recipient: rendered.recipient, unsubscribeUrl: rendered.unsubscribeUrl });
    const ours = parseMessage(raw);
    const theirs = await simpleParser(raw);
    expect(ours.parts.map((p) => p.contentType)).toEqual(['text/plain', 'text/html']);
    const line = (key: string) => theirs.headerLines.find((h) => h.key === key)!.line.replace(/^[^:]+:\s*/, '').replace(/\r?\n\s+/g, ' ');
    expect(headerValue(ours.headers, 'list-unsubscribe-post')).toBe(line('list-unsubscribe-post'));
    expect(headerValue(ours.headers, 'list-unsubscribe')).toBe(line('list-unsubscribe'));
    expect(headerValue(ours.headers, 'reply-to')).toBe((theirs.replyTo as { text: string }).text);
    expect(partOfType(ours, 'text/html')!.encodedBody.length).toBeGreaterThan(Buffer.byteLength(theirs.html as string));
  });
});
