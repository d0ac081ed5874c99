import { Command, CommanderError } from 'commander';
import { ERROR_CODES, NewsletterError, isNewsletterError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { processIo, println, type CliIo } from './io.js';
import { withDotEnv } from './env.js';

type Register = (program: Command, io: CliIo) => void;

/**
 * Every command, in the order `--help` lists them. Each is loaded only when it runs (or for the
 * help overview): `build` should not pay for loading a browser driver, an SMTP pool or a file
 * watcher it never uses, and the cold start of `build` has a budget.
 */
const COMMANDS: readonly { name: string; load: () => Promise<Register> }[] = [
  { name: 'build', load: async () => (await import('./commands/build.js')).registerBuild },
  { name: 'check', load: async () => (await import('./commands/check.js')).registerCheck },
  { name: 'preview', load: async () => (await import('./commands/preview.js')).registerPreview },
  { name: 'screenshot', load: async () => (await import('./commands/screenshot.js')).registerScreenshot },
  { name: 'send', load: async () => (await import('./commands/send.js')).registerSend },
  { name: 'publish', load: async () => (await import('./commands/publish.js')).registerPublish },
  { name: 'serve', load: async () => (await import('./commands/serve.js')).registerServe },
  { name: 'worker', load: async () => (await import('./commands/worker.js')).registerWorker },
  { name: 'status', load: async () => (await import('./commands/status.js')).registerStatus },
  { name: 'suppressions', load: async () => (await import('./commands/suppressions.js')).registerSuppressions },
  { name: 'bounces', load: async () => (await import('./commands/bounces.js')).registerBounces },
  { name: 'subscribers', load: async () => (await import('./commands/subscribers.js')).registerSubscribers },
];

/** The commands to load: the one named on the command line, or all of them (help, typos). */
function commandsFor(argv: readonly string[]): typeof COMMANDS {
  // `--version` alone prints one line: no command needs to load for it.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) return [];
  const named = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const match = COMMANDS.filter((command) => command.name === named);
  return match.length ? match : COMMANDS;
}

/** The package's version, from its package.json (lib/cli/main.js and src/cli/main.ts are both two levels down). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** What each exit status means; every exit of ERROR_CODES is listed (tests/cli-flags.test.ts). */
const EXIT_MEANINGS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'a content, template, config, check or delivery error',
  2: 'wrong usage (unknown flag or command, missing argument)',
  70: 'an internal error (a bug: report it with the --debug output)',
};

function exitCodesLine(): string {
  const exits = [...new Set([0, ...Object.values(ERROR_CODES).map((code) => code.exit)])].sort((a, b) => a - b);
  return ['Exit codes:', ...exits.map((exit) => `  ${String(exit).padEnd(3)} ${EXIT_MEANINGS[exit] ?? 'see the error codes in the README'}`)].join('\n');
}

function createProgram(io: CliIo, registers: readonly Register[]): Command {
  const program = new Command('newsletter')
    .description('Render Markdown and wire-copy articles into responsive email with MJML, preview, check and send them.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .addHelpText(
      'after',
      `
Getting started:
  $ npm start                        render every issue under content/ into dist/
  $ npx newsletter build weekly-1    render one issue
  $ npx newsletter <command> --help  flags and examples of a command

Every command takes --content DIR, --templates DIR, --config FILE and --debug
(stack traces of errors); build, check, preview, screenshot, publish and serve
also take --out DIR. Environment variables (NEWSLETTER_SECRET, SMTP_URL,
REDIS_URL, CHROMIUM_PATH) are read from the environment, then from .env in the
working directory; a variable set in the environment wins.
Errors print as FILE:LINE: MESSAGE.

${exitCodesLine()}`,
    );
  for (const register of registers) register(program, io);
  for (const command of program.commands) command.exitOverride();
  return program;
}

function wantsDebug(argv: readonly string[]): boolean {
  return argv.includes('--debug');
}

/** Runs the CLI and returns the exit code; never calls process.exit, so tests can run it in-process. */
export async function main(argv: readonly string[], outside: CliIo = processIo()): Promise<number> {
  let io: CliIo;
  try {
    io = withDotEnv(outside);
  } catch (error) {
    return reportError(error, outside, wantsDebug(argv));
  }
  const registers = await Promise.all(commandsFor(argv).map((command) => command.load()));
  const program = createProgram(io, registers);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; their text is already printed.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      if (error.exitCode === 0) return 0;
      return ERROR_CODES.USAGE.exit;
    }
    return reportError(error, io, wantsDebug(argv));
  }
}

export function reportError(error: unknown, io: CliIo, debug: boolean): number {
  const known: NewsletterError = isNewsletterError(error)
    ? error
    : new NewsletterError('INTERNAL', `unexpected error: ${(error as Error)?.message ?? String(error)}`, {
        hint: 'run again with --debug for the stack trace, and report it',
      });
  println(io.stderr, known.format());
  if (debug) {
    const original = isNewsletterError(error) ? (error.cause ?? error) : error;
    println(io.stderr, (original as Error)?.stack ?? String(original));
  }
  return known.exitCode;
}
