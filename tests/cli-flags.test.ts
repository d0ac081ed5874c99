import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { ERROR_CODES } from '../src/errors.js';
import { ROOT } from './helpers/cli.js';
import { memoryIo } from './helpers/memory-io.js';

/**
 * The CLI keeps what its help and the README promise: every flag promised for a command is in
 * that command's `--help` (commander lists exactly the options it accepts) and is accepted, and
 * the top-level help lists every exit status of the error table.
 */

async function help(args: string[]): Promise<string> {
  const io = memoryIo(ROOT);
  const code = await main(['node', 'newsletter', ...args, '--help'], io);
  expect(code, io.err()).toBe(0);
  return io.out();
}

function flagsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<![\w-])--[a-z0-9][a-z0-9-]*/g)].map((m) => m[0]))];
}

/** The options a command's --help lists (its "Options:" section). */
function optionsOf(commandHelp: string): Set<string> {
  const section = commandHelp.split(/^Options:$/m)[1]!.split(/^\S/m)[0]!;
  return new Set(section.split('\n').flatMap((line) => flagsIn(/^\s+(?:-\w, )?(--\S+)/.exec(line)?.[1] ?? '')));
}

async function commandHelps(): Promise<{ top: string; texts: string[]; commands: Map<string, Set<string>> }> {
  const top = await help([]);
  const names = top.split(/^Commands:$/m)[1]!.split(/^\S/m)[0]!.split('\n').map((line) => /^ {2}([a-z][a-z-]*)\b/.exec(line)?.[1]).filter((name): name is string => !!name && name !== 'help');
  const commands = new Map<string, Set<string>>();
  const texts = [top];
  for (const name of names) {
    const text = await help([name]);
    texts.push(text);
    const options = optionsOf(text);
    // A command with subcommands (`subscribers add|list|…`): its flags are its subcommands'.
    const subcommands = (text.split(/^Commands:$/m)[1] ?? '').split(/^\S/m)[0]!.split('\n').map((line) => /^ {2}([a-z][a-z-]*)\b/.exec(line)?.[1]).filter((sub): sub is string => !!sub && sub !== 'help');
    for (const sub of subcommands) {
      const subText = await help([name, sub]);
      texts.push(subText);
      for (const flag of optionsOf(subText)) options.add(flag);
    }
    commands.set(name, options);
  }
  return { top, texts, commands };
}

/**
 * Promises of the top-level help's prose: each sentence (or clause after `;`) that names flags
 * promises them to the commands it names, or to all with "every command".
 */
function helpPromises(top: string, all: readonly string[]): [string, string][] {
  const prose = top.split(/^Getting started:$/m)[1]!.split(/^Exit codes:$/m)[0]!.replace(/^\s+\$ .*$/gm, '');
  const promises: [string, string][] = [];
  for (const clause of prose.replace(/\s+/g, ' ').split(/[.;] /)) {
    const flags = flagsIn(clause).filter((flag) => flag !== '--help');
    if (!flags.length) continue;
    const named = /\bevery command\b/i.test(clause) ? all : all.filter((name) => new RegExp(`\\b${name}\\b`).test(clause));
    expect(named.length, `"${clause}" names flags but no command`).toBeGreaterThan(0);
    for (const command of named) for (const flag of flags) promises.push([command, flag]);
  }
  return promises;
}

/**
 * Promises of the README and docs/ pages: an example line promises its flags to its command; a table row whose first cell is a command (`| \`worker\` | \`--name NAME\` |`)
 * promises its flags to that command; a flag table (`| flag |` header) promises the flags of its
 * first column to the command its section is about (the nearest heading naming `newsletter X`),
 * or, in the "Commands" section, to every command (`--out` excepted: the section itself says
 * `send` has none, and the help gives it to the commands that write files).
 */
/** An example (`$ npx newsletter serve --store redis://…   # comment`) promises its flags to its command. */
function examplePromises(text: string, all: readonly string[]): [string, string][] {
  const promises: [string, string][] = [];
  for (const line of text.split('\n')) {
    // README comments start with `#`; --help puts its comments after a run of spaces.
    const example = /\bnpx newsletter ([a-z]+)\b(.*)$/.exec(line.replace(/\s#\s.*$/, '').split(/(?<=\S)\s{2,}/)[0]!);
    if (example && all.includes(example[1]!)) for (const flag of flagsIn(example[2]!)) promises.push([example[1]!, flag]);
  }
  return promises;
}

function readmePromises(readme: string, all: readonly string[]): [string, string][] {
  const promises: [string, string][] = [...examplePromises(readme, all)];
  let section: string[] = [];
  let inFlagTable = false;
  for (const line of readme.split('\n')) {
    const heading = /^(#{1,4}) (.*)$/.exec(line);
    if (heading) {
      const named = /`newsletter ([a-z]+)/.exec(heading[2]!)?.[1];
      if (named && all.includes(named)) section = [named];
      else if (heading[2] === 'Commands') section = [...all];
      else if (heading[1]!.length <= 2) section = [];
      inFlagTable = false;
      continue;
    }
    if (!line.startsWith('|')) {
      inFlagTable = false;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (/^flag\b/.test(cells[0] ?? '')) {
      inFlagTable = true;
      continue;
    }
    const command = /^`([a-z]+)`$/.exec(cells[0] ?? '')?.[1];
    if (command && all.includes(command)) {
      for (const flag of flagsIn(cells[1] ?? '')) promises.push([command, flag]);
    } else if (inFlagTable) {
      for (const flag of flagsIn(cells[0] ?? '')) {
        for (const name of section) if (!(flag === '--out' && section.length > 1)) promises.push([name, flag]);
      }
    }
  }
  return promises;
}

/** The README and every page of docs/, each read on its own (a page's sections end with it). */
async function documentation(): Promise<string[]> {
  const names = (await readdir(path.join(ROOT, 'docs'))).filter((n) => n.endsWith('.md'));
  return Promise.all([path.join(ROOT, 'README.md'), ...names.map((n) => path.join(ROOT, 'docs', n))].map((file) => readFile(file, 'utf8')));
}

describe('every flag promised exists', () => {
  it('the top-level help, the README and docs/ promise only flags each command has', async () => {
    const { top, texts, commands } = await commandHelps();
    const all = [...commands.keys()];
    expect(all).toEqual(expect.arrayContaining(['build', 'check', 'preview', 'screenshot', 'send', 'publish', 'serve', 'worker', 'status']));
    const pages = await documentation();
    const promised = [...helpPromises(top, all), ...texts.flatMap((text) => examplePromises(text, all)), ...pages.flatMap((page) => readmePromises(page, all))];
    // The walk found the promises it is about (guards against a parser that finds nothing).
    expect(promised).toEqual(expect.arrayContaining([['worker', '--debug'], ['status', '--content'], ['send', '--list'], ['preview', '--open'], ['check', '--a11y'], ['worker', '--lock-ms']]));
    const missing = [...new Set(promised.filter(([command, flag]) => !commands.get(command)!.has(flag)).map(([command, flag]) => `${command} ${flag}`))];
    expect(missing).toEqual([]);
  });

  it('a promised flag is accepted, not an unknown option', async () => {
    // No Redis is named: the worker stops at that, after its flags were parsed.
    const worker = memoryIo(ROOT);
    expect(await main(['node', 'newsletter', 'worker', '--debug'], { ...worker, env: {} })).toBe(ERROR_CODES.USAGE.exit);
    expect(worker.err()).not.toMatch(/unknown option/);
    expect(worker.err()).toMatch(/no Redis to use/);
    // Without Redis, status reads the local send's journal (docs/bounces.md).
    for (const args of [['status', 'weekly-1', '--content', 'content'], ['status', 'weekly-1', '--templates', 'templates', '--debug'], ['suppressions', '--content', 'content', '--debug']]) {
      const io = memoryIo(ROOT);
      const code = await main(['node', 'newsletter', ...args], { ...io, env: {} });
      expect(io.err(), args.join(' ')).not.toMatch(/unknown option/);
      expect(code, `${args.join(' ')}: ${io.err()}`).toBe(0);
    }
  });
});

describe('exit codes', () => {
  it('--help lists every exit status of the error table, with 0', async () => {
    const top = await help([]);
    const listed = new Map([...top.split(/^Exit codes:$/m)[1]!.matchAll(/^ {2}(\d+) +(\S.*)$/gm)].map((m) => [Number(m[1]), m[2]!]));
    const exits = new Set([0, ...Object.values(ERROR_CODES).map((code) => code.exit)]);
    expect([...listed.keys()].sort((a, b) => a - b)).toEqual([...exits].sort((a, b) => a - b));
    expect(listed.get(70)).toMatch(/internal error/);
    for (const meaning of listed.values()) expect(meaning).not.toMatch(/see the error codes/);
  });
});
