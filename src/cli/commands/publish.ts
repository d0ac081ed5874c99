import { availableParallelism } from 'node:os';
import { issueSlugsArgument } from '../../content/slug.js';
import { displayPath } from '../../fs/display-path.js';
import { startMjmlPool } from '../../render/mjml-worker.js';
import type { Mjml2Html } from '../../render/mjml.js';
import type { Command } from 'commander';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';
import { NewsletterError } from '../../errors.js';

interface PublishFlags extends SharedFlags {
  drafts?: boolean;
}

export function registerPublish(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('publish')
      .description('write the website to <out>/site/: web editions, archive, RSS/Atom/JSON feeds, sitemap')
      .argument('[issues...]', 'issues to render again (the others keep their published page); all when omitted', issueSlugsArgument)
      .option('--drafts', 'publish drafts (`draft: true`) and issues dated in the future too, for a staging site'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter publish                       every issue, into dist/site/
  $ npx newsletter publish weekly-1              render weekly-1 again; archive and feeds list all
  $ npx newsletter publish --drafts --out stage  a staging copy with drafts and future issues
  $ rsync -a --delete dist/site/ host:/var/www/newsletter/

The site is served at \`siteUrl\` (config): issues/<slug>/ is the web edition
("View in browser" of the email) without any reader's data; index.html is the
archive, newest first, 50 issues a page; feed.xml, atom.xml and feed.json carry
every issue in full. A file whose content did not change is not rewritten, so a
sync uploads only what changed; every other file is replaced atomically.`,
    )
    .action(async (issues: string[], flags: PublishFlags) => {
      // MJML is most of the work: a worker per core, loading while this thread reads the content.
      const lanes = Math.max(1, Math.min(4, availableParallelism()));
      const mjml = startMjmlPool(lanes);
      try {
        await publishIssues(issues, flags, io, mjml.compile, lanes);
      } finally {
        await mjml.close();
      }
    });
}

async function publishIssues(issues: string[], flags: PublishFlags, io: CliIo, compiler: Mjml2Html, lanes: number): Promise<void> {
  const [{ loadProject }, { publishSite }, { reportError }, { plural }] = await Promise.all([
    import('../../pipeline.js'),
    import('../../publish/publish-site.js'),
    import('../main.js'),
    import('../../checks/report.js'),
  ]);
  const project = await loadProject(configRequest(flags, io));
  const shown = (file: string) => displayPath(file, io.cwd, '.');
  const reported: { slug: string; error: unknown }[] = [];
  const result = await publishSite({
    project,
    slugs: issues,
    drafts: flags.drafts,
    compiler,
    concurrency: lanes * 2,
    onEvent(event) {
      if (event.kind === 'skipped') println(io.stdout, `${event.slug}: left out (${event.reason === 'draft' ? '`draft: true`' : 'dated in the future'}; --drafts publishes it)`);
      else if (event.kind === 'notice') println(io.stderr, `${event.file ? `${event.file}: ` : ''}${event.message}`);
      else if (event.kind === 'failed') {
        reported.push(event);
        println(io.stderr, `${event.slug}: failed`);
        reportError(event.error, io, flags.debug ?? false);
      } else if (event.kind === 'rendered' && io.stdout.isTTY) io.stdout.write(`\rrendering ${event.index}/${event.total}${event.index === event.total ? '\n' : ''}`);
    },
  }).catch((error: unknown) => {
    // Every issue failed (each printed above): the site is left as it was.
    if (!reported.some((failure) => failure.error === error)) throw error;
    throw new NewsletterError('PUBLISH_FAILED', `no issue could be published (${reported.map((f) => f.slug).join(', ')}, above); the site was left as it was`);
  });
  const count = result.issues.length;
  println(io.stdout, `${shown(result.siteDir)}/  ${count} ${count === 1 ? 'issue' : 'issues'}: ${result.written.length} files written, ${result.unchanged} unchanged, ${result.removed.length} removed`);
  println(io.stdout, `serve it at ${project.config.siteUrl} (any static host, or \`newsletter serve\`)`);
  if (result.failed.length) {
    const slugs = result.failed.map((f) => f.slug).join(', ');
    throw new NewsletterError('PUBLISH_FAILED', `${plural(result.failed.length, 'issue')} could not be published (${slugs}, above); the others were`, {
      hint: 'fix the file named above and run `newsletter publish` again',
    });
  }
}
