import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { openStore } from '../../store/index.js';
import { describeEntry } from '../../store/suppression-entry.js';
import { liftSuppression, listSuppressions, parseReason, parseSince } from '../../store/suppression-list.js';
import { displayPath } from '../../fs/display-path.js';
import { println, type CliIo } from '../io.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { redisUrlFrom } from '../redis-url.js';

interface SuppressionsFlags extends SharedFlags {
  config?: string;
  store?: string | true;
  reason?: string;
  since?: string;
  json?: boolean;
}

/** The store `send` would use: Redis with --store or REDIS_URL (suppressions.txt imported first), else suppressions.txt. */
async function storeFor(flags: SuppressionsFlags, io: CliIo) {
  const config = await loadConfig(configRequest(flags, io));
  const url = flags.store !== undefined || io.env.REDIS_URL ? redisUrlFrom(typeof flags.store === 'string' ? flags.store : undefined, io.env, '--store') : null;
  const store = await openStore(config, { cwd: io.cwd, url });
  const where = url ? 'the Redis store' : displayPath(config.suppressions, io.cwd, '.');
  return { store, where };
}

export function registerSuppressions(program: Command, io: CliIo): void {
  const command = addSharedOptions(program.command('suppressions'), { out: false })
    .description('list the suppressed addresses with why, from where and since when; `suppressions remove ADDRESS` lifts one')
    .option('--reason <word>', 'only this reason: unsubscribed, bounced, complained, manual or erased')
    .option('--since <when>', 'only those recorded since a date (2026-12-01), a time or an age (7d, 12h)')
    .option('--json', 'print one JSON array of {email, reason, source, issue, status, diagnostic, note, at}')
    .option('--store [url]', 'the Redis store that `send --store`/`serve --store` use (default URL: $REDIS_URL, which alone turns this on)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter suppressions                          every suppressed address, newest first
  $ npx newsletter suppressions --reason bounced --since 7d
  $ npx newsletter suppressions --json > suppressions.json
  $ npx newsletter suppressions remove ann@example.com   lifts it, saying what it was

Without --store (or REDIS_URL) this is suppressions.txt next to the config; lines
written by hand there count as reason \`manual\` (docs/suppressions.md).`,
    )
    .action(async (flags: SuppressionsFlags) => {
      const since = flags.since === undefined ? undefined : parseSince(flags.since);
      const reason = flags.reason === undefined ? undefined : parseReason(flags.reason);
      const { store } = await storeFor(flags, io);
      try {
        const records = await listSuppressions(store, { reason, since });
        if (flags.json) return println(io.stdout, JSON.stringify(records, null, 2));
        for (const record of records) println(io.stdout, `${record.email}  ${describeEntry(record)}`);
        const problems = await store.suppressions.problems();
        for (const problem of problems) println(io.stderr, `warning: ${problem.file}:${problem.line}: ${problem.message}`);
        println(io.stderr, `${records.length} suppressed${reason ? ` (${reason})` : ''}${since ? ` since ${since.toISOString()}` : ''}`);
      } finally {
        await store.close();
      }
    });
  command
    .command('remove')
    .description('lift the suppression of one address (it gets the next issue), saying what it was')
    .argument('<address>', 'the email address')
    .option('--store [url]', 'the Redis store (default URL: $REDIS_URL, which alone turns this on)')
    .option('--config <file>', 'config file (its `suppressions` names the list)')
    .action(async (address: string, own: SuppressionsFlags) => {
      const flags = { ...command.opts<SuppressionsFlags>(), ...own };
      const { store, where } = await storeFor(flags, io);
      try {
        const lifted = await liftSuppression(store, address);
        // Already where the user wants it: said, not an error (a script may lift addresses twice).
        if (!lifted) println(io.stdout, `${address.trim().toLowerCase()} is not suppressed in ${where}: nothing to remove`);
        else println(io.stdout, `removed ${lifted.email}: it was ${describeEntry(lifted)}`);
      } finally {
        await store.close();
      }
    });
}
