import { Option, type Command } from 'commander';
import type { ConfigRequest } from '../config/load-config.js';
import type { CliIo } from './io.js';

/** The flags every command understands, with the same meaning everywhere. */
export interface SharedFlags {
  content?: string;
  templates?: string;
  config?: string;
  out?: string;
  debug?: boolean;
}

/** `out: false` for a command that writes no output folder: `--out` is then an unknown option, not ignored. */
export function addSharedOptions(command: Command, options: { out?: boolean } = {}): Command {
  command
    .addOption(new Option('--content <dir>', 'folder with articles/ and issues/').default(undefined, 'content'))
    .addOption(new Option('--templates <dir>', 'folder with layouts/, partials/ and theme.json').default(undefined, 'templates'))
    .addOption(new Option('--config <file>', 'config file').default(undefined, 'newsletter.config.json if present'));
  if (options.out !== false) command.addOption(new Option('--out <dir>', 'output folder').default(undefined, 'dist'));
  return command.option('--debug', 'print stack traces of errors');
}

export function configRequest(flags: SharedFlags, io: CliIo): ConfigRequest {
  return { configFile: flags.config, content: flags.content, templates: flags.templates, out: flags.out, cwd: io.cwd };
}
