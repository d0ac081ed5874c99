import { Command, CommanderError } from 'commander';
import { ERROR_CODES, NewsletterError, isNewsletterError } from '../errors.js';
import { processIo, println, type CliIo } from './io.js';
import { registerBuild } from './commands/build.js';
import { registerCheck } from './commands/check.js';
import { registerSend } from './commands/send.js';
import { registerPreview } from './commands/preview.js';
import { registerScreenshot } from './commands/screenshot.js';

/**
 * The CLI only parses arguments, calls the pipeline and prints. Every command is registered here,
 * in the order `--help` lists them.
 */
const COMMANDS: ((program: Command, io: CliIo) => void)[] = [registerBuild, registerCheck, registerPreview, registerScreenshot, registerSend];

function createProgram(io: CliIo): Command {
  const program = new Command('newsletter')
    .description('Render Markdown and wire-copy articles into responsive email with MJML, preview, check and send them.')
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
  $ newsletter build weekly-1        render one issue
  $ newsletter <command> --help      flags and examples of a command

Every command takes --content DIR, --templates DIR, --config FILE and --out DIR.
Errors print as FILE:LINE: MESSAGE; exit code 1 for content, template and
config errors, 2 for wrong usage.`,
    );
  for (const register of COMMANDS) register(program, io);
  for (const command of program.commands) command.exitOverride();
  return program;
}

function wantsDebug(argv: readonly string[]): boolean {
  return argv.includes('--debug');
}

/** Runs the CLI and returns the exit code; never calls process.exit, so tests can run it in-process. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
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
