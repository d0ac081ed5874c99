import type { Command } from 'commander';
import { issueSlugsArgument } from '../../content/slug.js';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../browser.js';
import path from 'node:path';
import { buildReport, checkProjectIssue, describeRules, formatReport, type Finding } from '../../checks/index.js';
import { failureFinding, plural } from '../../checks/report.js';
import { issuesDir } from '../../content/load-issue.js';
import { NewsletterError, isNewsletterError } from '../../errors.js';
import { loadProject, selectIssues } from '../../pipeline.js';
import { brokenLayoutWarnings } from '../../render/templates.js';
import { displayPath } from '../../fs/display-path.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';
import { startMjmlWorker } from '../../render/mjml-worker.js';
import { sendWarnings } from '../../send/send-warnings.js';
import type { Mjml2Html } from '../../render/mjml.js';

interface CheckFlags extends SharedFlags {
  json?: boolean;
  a11y?: boolean;
  listRules?: boolean;
}

export function registerCheck(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('check')
      .description('preflight: is each issue fit to send? size, links, images, compliance, inbox, plain text, client support, accessibility, dark mode')
      .argument('[issues...]', 'issue slugs (file names under content/issues/ without .md); all when omitted', issueSlugsArgument),
  )
    .option('--json', 'print one JSON document (for CI) instead of the table')
    .option('--a11y', 'also audit the rendered email with axe-core in the system Chromium (CHROMIUM_PATH or /usr/bin/chromium)')
    .option('--list-rules', 'list every rule with its default and configured severity, then exit')
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter check                     every issue; a table grouped by severity
  $ npx newsletter check weekly-1 --json     one JSON document on stdout, for CI
  $ npx newsletter check weekly-1 --a11y     adds an axe-core audit in Chromium
  $ npx newsletter check --list-rules        rule ids, for "checks.rules" in the config

Each finding has a rule id, a severity (error, warn, info), what to do, and
the file and line it comes from when known. Exit code 1 when any finding is
an error, 0 otherwise. Set severities per rule in the config:
  "checks": { "rules": { "links/http": "error", "compat/partial": "warn" },
              "clients": ["gmail", "outlook", "apple-mail", "yahoo"] }`,
    )
    .action(async (issues: string[], flags: CheckFlags) => {
      // As in build: MJML loads on its own thread while this one loads the project.
      const mjml = flags.listRules ? null : startMjmlWorker();
      try {
        await checkIssues(issues, flags, io, mjml?.compile);
      } finally {
        await mjml?.close();
      }
    });
}

async function checkIssues(issues: string[], flags: CheckFlags, io: CliIo, compiler: Mjml2Html | undefined): Promise<void> {
  const project = await loadProject(configRequest(flags, io));
  if (flags.listRules) {
    const rules = await describeRules(project.config);
    if (flags.json) {
      println(io.stdout, JSON.stringify(rules, null, 2));
      return;
    }
    const width = Math.max(...rules.map((r) => r.id.length));
    for (const rule of rules) {
      const changed = rule.severity === rule.defaultSeverity ? '' : ` (default ${rule.defaultSeverity})`;
      println(io.stdout, `${rule.id.padEnd(width)}  ${rule.severity.padEnd(5)}  ${rule.description}${changed}`);
    }
    return;
  }
  const slugs = await selectIssues(project, issues);
  // One browser for every issue's audit: starting Chromium is the slow part.
  let browser: Browser | undefined;
  const results: { slug: string; file: string; findings: Finding[] }[] = [];
  try {
    if (flags.a11y) browser = await launchChromium(io.env);
    for (const slug of slugs) {
      try {
        const { issue, findings } = await checkProjectIssue(project, slug, { a11y: flags.a11y, env: io.env, browser, secret: io.env.NEWSLETTER_SECRET, compiler });
        results.push({ slug, file: issue.file, findings });
      } catch (error) {
        // One issue on its own fails as before; of several (or for CI), a broken one is a finding
        // and the others are still checked.
        if (!isNewsletterError(error) || (slugs.length === 1 && !flags.json)) throw error;
        results.push({ slug, file: displayPath(path.join(issuesDir(project.config.paths.content), `${slug}.md`), io.cwd), findings: [failureFinding(error)] });
      }
    }
  } finally {
    await browser?.close();
  }
  // Every issue checked, so none uses a broken layout: say that one would fail.
  for (const line of brokenLayoutWarnings(project.templates)) println(io.stderr, `warning: ${line}`);
  // Sending's own preconditions, on stderr so `--json` stays one document.
  for (const warning of await sendWarnings(project, io.env, io.cwd)) println(io.stderr, `warning: ${warning}`);
  const report = buildReport(results, { templates: displayPath(project.config.paths.templates, io.cwd), config: project.config.paths.config ? displayPath(project.config.paths.config, io.cwd) : undefined });
  if (flags.json) println(io.stdout, JSON.stringify(report, null, 2));
  else io.stdout.write(formatReport(report, { color: Boolean(io.stdout.isTTY) && !io.env.NO_COLOR }));
  if (!report.ok) {
    const failed = report.issues.filter((issue) => !issue.ok).map((issue) => issue.issue);
    throw new NewsletterError('CHECK_FAILED', `${plural(report.counts.error, 'error-level finding')} in ${failed.join(', ')}`, {
      hint: 'fix the errors above, or lower a rule in "checks.rules" of the config if it does not apply to you',
    });
  }
}
