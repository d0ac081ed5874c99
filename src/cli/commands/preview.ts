import { InvalidArgumentError, type Command } from 'commander';
import { displayPath } from '../../fs/display-path.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';
import { untilSignal } from '../signals.js';
import { DEFAULT_PREVIEW_HOST, DEFAULT_PREVIEW_PORT, isLoopbackHost, startPreviewServer } from '../../preview/preview-server.js';
import { readSampleRecipients } from '../../preview/sample-recipients.js';
import { openInBrowser } from '../../preview/open-browser.js';
import type { PreviewUpdate, PreviewSession } from '../../preview/preview-session.js';

interface PreviewFlags extends SharedFlags {
  port: number;
  host: string;
  open?: boolean;
  list?: string;
  checks: boolean;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535 (0 picks a free one)');
  return port;
}

function describeUpdate(session: PreviewSession, update: PreviewUpdate, cwd: string): string[] {
  const time = new Date().toTimeString().slice(0, 8);
  const lines: string[] = [];
  if (update.kind === 'checks') {
    for (const slug of update.slugs) {
      const findings = session.issue(slug)?.findings ?? [];
      const count = (severity: string) => findings.filter((finding) => finding.severity === severity).length;
      lines.push(`${time}  ${slug}: checks: ${count('error')} errors, ${count('warn')} warnings`);
    }
    return lines;
  }
  if (update.project && session.projectProblem) lines.push(`${time}  ${session.projectProblem.formatted}`);
  for (const slug of update.slugs) {
    const state = session.issue(slug);
    if (!state) lines.push(`${time}  ${slug}: removed`);
    else if (state.problem) lines.push(`${time}  ${slug}: ${state.problem.formatted}`);
    else if (state.good) lines.push(`${time}  ${slug}: rendered in ${Math.round(state.good.renderMs)} ms`);
  }
  if (!lines.length && update.files.length) lines.push(`${time}  ${update.files.map((file) => displayPath(file, cwd)).join(', ')}: nothing to re-render`);
  return lines;
}

export function registerPreview(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('preview')
      .description('serve a live preview of every issue; re-renders and reloads open pages on every save')
      .option('--port <port>', 'port to listen on; 0 picks a free one', parsePort, DEFAULT_PREVIEW_PORT)
      .option('--host <host>', 'address to listen on; anything but loopback shows unsent issues to your network', DEFAULT_PREVIEW_HOST)
      .option('--open', 'open the preview in the system browser (xdg-open / open)')
      .option('--list <file>', 'CSV or JSON subscriber list: its first 50 rows fill the recipient picker')
      .option('--no-checks', 'do not run the checks of `newsletter check` after each render'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter preview                              http://127.0.0.1:3000/
  $ npx newsletter preview --port 4000 --open           opens it in your browser
  $ npx newsletter preview --list subscribers.csv       pick a row to see its copy
  $ npx newsletter preview --port 0                     any free port (printed)
  $ npx newsletter preview --no-checks                  skip the checks panel

Every save under the content or templates folder, or of the config, re-renders
what it touches and updates every open page without a reload, keeping the
scroll position. A broken file never stops the server: the page shows the
error (file, line, message) over the last good render until the next good save.
Views: desktop, phone (375 px), dark mode, plain text, HTML, MJML, headers.
The findings of \`newsletter check\` (without the axe audit) follow each render.
Ctrl-C stops the server.`,
    )
    .action(async (flags: PreviewFlags) => {
      if (!isLoopbackHost(flags.host)) {
        println(io.stderr, `warning: listening on ${flags.host}: anyone who can reach this machine can read your unsent issues`);
      }
      const request = configRequest(flags, io);
      const recipients = flags.list ? await readSampleRecipients(flags.list, io.cwd) : [];
      // Loaded here, not at the top: `--help` and other commands should not pay for the rule tables.
      const runChecks = flags.checks ? (await import('../../checks/index.js')).runChecks : null;
      const server = await startPreviewServer({
        request,
        host: flags.host,
        port: flags.port,
        recipients,
        check: runChecks ? (input) => runChecks(input) : undefined,
      });
      const stop = untilSignal();
      const paths = server.session.paths;
      const shown = (file: string) => displayPath(file, io.cwd, '.');
      println(io.stdout, `Preview: ${server.url}`);
      println(io.stdout, `watching ${shown(paths.content)}/, ${shown(paths.templates)}/ and ${shown(paths.config)}; Ctrl-C to stop`);
      const opened = flags.open ? await openInBrowser(server.url, io.env) : null;
      if (opened && !opened.opened) println(io.stderr, `warning: --open: could not open a browser (${opened.reason}): open ${server.url} yourself`);
      server.onUpdate((update) => {
        for (const line of describeUpdate(server.session, update, io.cwd)) println(io.stdout, line);
      });
      const signal = await stop;
      println(io.stdout, `${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the preview`);
      await server.close();
    });
}
