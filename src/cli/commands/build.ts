import path from 'node:path';
import { issueSlugsArgument } from '../../content/slug.js';
import type { Command } from 'commander';
import { startMjmlWorker } from '../../render/mjml-worker.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { NewsletterError } from '../../errors.js';
import { displayPath } from '../../fs/display-path.js';
import type { Finding } from '../../checks/types.js';
import { println, type CliIo } from '../io.js';
import { brokenLayoutWarnings } from '../../render/templates.js';
import type { Mjml2Html } from '../../render/mjml.js';
import { formatKb } from '../../format.js';

interface BuildFlags extends SharedFlags {
  strict?: boolean;
}

export function registerBuild(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('build')
      .description('render issues into <out>/<issue>/ as index.html, index.txt and message.eml')
      .argument('[issues...]', 'issue slugs (file names under content/issues/ without .md); all when omitted', issueSlugsArgument),
  )
    .option('--strict', 'exit 1 when an error-level finding of the checks remains (for CI); the files are written all the same')
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter build                              every issue under content/issues/
  $ npx newsletter build weekly-1                     one issue
  $ npx newsletter build weekly-1 --content ./content --out ./out
  $ npx newsletter build --strict                     in CI: exit 1 if a check finds an error

Each issue is written atomically: <out>/<issue>/ holds either the previous
build or the complete new one, never a mix. One line per issue is printed:
path, HTML size, and the count of preflight findings (errors, warnings,
notes) that \`npx newsletter check <issue>\` lists in full; each error is
printed under its issue's line with its rule and message.`,
    )
    .action(async (issues: string[], flags: BuildFlags) => {
      // MJML loads on its own thread while this one loads the rest and reads the content.
      const mjml = startMjmlWorker();
      try {
        await buildIssues(issues, flags, io, mjml.compile);
      } finally {
        await mjml.close();
      }
    });
}

async function buildIssues(issues: string[], flags: BuildFlags, io: CliIo, compiler: Mjml2Html): Promise<void> {
  const [{ buildIssues: buildAll, loadProject, selectIssues }, { countFindings }, { plural }, { loadCaniemail }, { reportError }] = await Promise.all([
    import('../../pipeline.js'),
    import('../../checks/index.js'),
    import('../../checks/report.js'),
    import('../../checks/caniemail.js'),
    import('../main.js'),
  ]);
  const project = await loadProject(configRequest(flags, io));
  // The checks' client data (640 KB of JSON) loads while this thread waits for MJML's first compile.
  loadCaniemail().catch(() => undefined);
  const slugs = await selectIssues(project, issues);
  const withErrors: { slug: string; errors: number }[] = [];
  const { failed } = await buildAll(project, slugs, {
    secret: io.env.NEWSLETTER_SECRET,
    compiler,
    onBuilt(built) {
      const where = displayPath(path.join(built.folder, 'index.html'), io.cwd);
      const findings = built.findings;
      const counts = countFindings(findings);
      const parts = [counts.error ? plural(counts.error, 'error') : '', counts.warn ? plural(counts.warn, 'warning') : ''].filter(Boolean);
      const notes = counts.info ? plural(counts.info, 'note') : '';
      const check = `npx newsletter check ${built.issue.slug}`;
      const status = parts.length ? `${[...parts, notes].filter(Boolean).join(', ')} (${check})` : notes ? `ok (${notes}: ${check})` : 'ok';
      println(io.stdout, `${where}  ${formatKb(built.htmlBytes)}  ${status}`);
      // Errors are what would make `check` (and a careful editor) stop the send: say what they are here.
      for (const finding of findings.filter((f) => f.severity === 'error')) println(io.stdout, `  ${formatError(finding)}`);
      // What the sanitizer removed is named here too: it is the editor's text that is missing.
      for (const finding of findings.filter((f) => f.rule === 'content/removed' && f.severity !== 'error')) println(io.stdout, `  ${formatFinding('warning', finding)}`);
      if (counts.error) withErrors.push({ slug: built.issue.slug, errors: counts.error });
    },
    onFailed({ slug, error }) {
      if (slugs.length === 1) return;
      println(io.stderr, `${slug}: failed`);
      reportError(error, io, flags.debug ?? false);
    },
  });
  // A broken layout that no issue here used would fail the next issue that does: say so once.
  for (const line of brokenLayoutWarnings(project.templates, failed.map((f) => f.error))) println(io.stderr, `warning: ${line}`);
  if (failed.length) {
    // One issue: its own error and exit code, as before. Several: each was printed as it failed.
    if (slugs.length === 1) throw failed[0]!.error;
    throw new NewsletterError('BUILD_FAILED', `${plural(failed.length, 'issue')} of ${slugs.length} failed (${failed.map((f) => f.slug).join(', ')}); the others were built`);
  }
  if (flags.strict && withErrors.length) {
    const total = withErrors.reduce((n, f) => n + f.errors, 0);
    throw new NewsletterError('CHECK_FAILED', `--strict: ${plural(total, 'error-level finding')} in ${withErrors.map((f) => f.slug).join(', ')}`, {
      hint: 'the files are written; fix the errors above, or lower a rule in "checks.rules" of the config',
    });
  }
}

function formatFinding(label: string, finding: Finding): string {
  const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ''}: ` : '';
  return `${label}: ${where}${finding.message}`;
}

function formatError(finding: Finding): string {
  const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ''}: ` : '';
  return `error ${finding.rule}: ${where}${finding.message}`;
}
