import path from 'node:path';
import type { Command } from 'commander';
import { startMjmlWorker } from '../../render/mjml-worker.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';
import type { Mjml2Html } from '../../render/mjml.js';
import { formatKb } from '../../format.js';
import { NewsletterError } from '../../errors.js';

export function registerBuild(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('build')
      .description('render issues into <out>/<issue>/ as index.html, index.txt and message.eml')
      .argument('[issues...]', 'issue slugs (file names under content/issues/ without .md); all when omitted'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ newsletter build                                  every issue under content/issues/
  $ newsletter build weekly-1                         one issue
  $ newsletter build weekly-1 --content ./my-content --out ./out

Each issue is written atomically: <out>/<issue>/ holds either the previous
build or the complete new one, never a mix. One line per issue is printed:
path, HTML size, and the count of preflight findings (errors, warnings,
notes) that \`newsletter check <issue>\` lists in full.`,
    )
    .action(async (issues: string[], flags: SharedFlags) => {
      // MJML loads on its own thread while this one loads the rest and reads the content.
      const mjml = startMjmlWorker();
      try {
        await buildIssues(issues, flags, io, mjml.compile);
      } finally {
        await mjml.close();
      }
    });
}

async function buildIssues(issues: string[], flags: SharedFlags, io: CliIo, compiler: Mjml2Html): Promise<void> {
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
  const { failed } = await buildAll(project, slugs, {
    secret: io.env.NEWSLETTER_SECRET,
    compiler,
    onBuilt(built) {
      const where = path.relative(io.cwd, path.join(built.folder, 'index.html'));
      // The preflight findings, counted; `newsletter check` lists them.
      const counts = countFindings(built.findings);
      const parts = [
        counts.error ? plural(counts.error, 'error') : '',
        counts.warn ? plural(counts.warn, 'warning') : '',
        counts.info ? plural(counts.info, 'note') : '',
      ].filter(Boolean);
      const status = parts.length ? `${parts.join(', ')} (newsletter check ${built.issue.slug})` : 'ok';
      println(io.stdout, `${where}  ${formatKb(built.htmlBytes)}  ${status}`);
      // What the sanitizer removed is named here too: it is the editor's text that is missing.
      for (const finding of built.findings) {
        if (finding.rule !== 'content/removed') continue;
        println(io.stdout, `  warning: ${finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ''}: ` : ''}${finding.message}`);
      }
    },
    onFailed({ slug, error }) {
      if (slugs.length > 1) println(io.stderr, `${slug}: failed`);
      if (slugs.length > 1) reportError(error, io, flags.debug ?? false);
    },
  });
  if (failed.length === 0) return;
  // One issue: its own error and exit code, as before. Several: each was printed as it failed.
  if (slugs.length === 1) throw failed[0]!.error;
  throw new NewsletterError('BUILD_FAILED', `${plural(failed.length, 'issue')} of ${slugs.length} failed (${failed.map((f) => f.slug).join(', ')}); the others were built`);
}
