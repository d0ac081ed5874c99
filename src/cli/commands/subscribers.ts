import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { NewsletterError } from '../../errors.js';
import type { ImportFormat } from '../../signup/import.js';
import type { Store } from '../../store/types.js';
import { redisUrlFrom } from '../redis-url.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { println, type CliIo } from '../io.js';

interface StoreFlags extends SharedFlags {
  store?: string | true;
}

function collectField(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected NAME=VALUE, e.g. --field name="Ann Example"');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function parseFormat(value: string): ImportFormat {
  if (value === 'mailchimp' || value === 'substack' || value === 'buttondown' || value === 'csv') return value;
  throw new InvalidArgumentError('expected mailchimp, substack, buttondown or csv');
}

/** Opens the store the flags name (`--store`, REDIS_URL) for the config of the working directory, runs `work`, closes it. */
async function withStore<T>(flags: StoreFlags, io: CliIo, work: (store: Store, config: Awaited<ReturnType<typeof loadConfig>>) => Promise<T>): Promise<T> {
  const config = await loadConfig(configRequest(flags, io));
  const { openStore } = await import('../../store/index.js');
  const url = flags.store !== undefined || io.env.REDIS_URL ? redisUrlFrom(typeof flags.store === 'string' ? flags.store : undefined, io.env, '--store') : null;
  const store = await openStore(config, { cwd: io.cwd, url: url ?? undefined });
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}

function storeCommand(parent: Command, name: string, description: string): Command {
  return addSharedOptions(parent.command(name).description(description), { out: false }).option(
    '--store [url]',
    'the Redis store that `serve --store` and `send --store` use (default URL: $REDIS_URL, which alone turns this on)',
  );
}

export function registerSubscribers(program: Command, io: CliIo): void {
  const command = program
    .command('subscribers')
    .description('the confirmed subscribers `send` reaches without --list: add, remove, list, import, export (docs/signup.md)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter subscribers list
  $ npx newsletter subscribers add ann@example.com --field name="Ann Example"
  $ npx newsletter subscribers import mailchimp-export.csv     also Substack and Buttondown exports
  $ npx newsletter subscribers export > consent.csv            the proof of consent, as CSV
  $ npx newsletter subscribers export --json > consent.json
  $ npx newsletter subscribers remove --erase ann@example.com  GDPR erasure; stays suppressed by hash`,
    );

  storeCommand(command, 'add', 'add an address by hand (its source says `cli`)')
    .argument('<address>')
    .option('--field <name=value>', 'a field of the address (repeatable): `name` or one of signup.fields', collectField, {})
    .action(async (address: string, flags: StoreFlags & { field: Record<string, string> }) => {
      const { addSubscriber } = await import('../../signup/admin.js');
      const result = await withStore(flags, io, (store, config) => addSubscriber(store, config, address, flags.field));
      println(io.stdout, result === 'added' ? `added ${address.trim().toLowerCase()}` : `${address.trim().toLowerCase()} was subscribed already: its consent is renewed (the earlier one kept in its history)`);
    });

  storeCommand(command, 'remove', 'remove an address from the subscribers; --erase forgets everything about it (GDPR)')
    .argument('<address>')
    .option('--erase', 'delete its consent records, suppression records and send records; it stays suppressed by a one-way hash')
    .action(async (address: string, flags: StoreFlags & { erase?: boolean }) => {
      const { removeSubscriber } = await import('../../signup/admin.js');
      const found = await withStore(flags, io, (store) => removeSubscriber(store, address, flags.erase === true));
      if (flags.erase) println(io.stdout, `erased ${found ? 'the subscriber and ' : ''}every record of the address; it stays suppressed by its hash`);
      else if (found) println(io.stdout, 'removed; its consent stays in the history until `--erase`');
      else throw new NewsletterError('USAGE', 'not a subscriber: nothing removed', { hint: 'npx newsletter subscribers list' });
    });

  storeCommand(command, 'list', 'one line per subscriber: address, status, confirmed, source').action(async (flags: StoreFlags) => {
    const { subscribersWithStatus } = await import('../../signup/export.js');
    const count = await withStore(flags, io, async (store) => {
      let n = 0;
      for await (const s of subscribersWithStatus(store)) {
        println(io.stdout, `${s.email}  ${s.status}  ${s.confirmedAt ?? '-'}  ${s.source}`);
        n++;
      }
      return n;
    });
    println(io.stderr, `${count} subscriber${count === 1 ? '' : 's'}`);
  });

  storeCommand(command, 'import', 'import a CSV export of Mailchimp, Substack or Buttondown (or any CSV with an `email` column)')
    .argument('<file>')
    .option('--format <name>', 'mailchimp, substack, buttondown or csv (default: told by the header row)', parseFormat)
    .action(async (file: string, flags: StoreFlags & { format?: ImportFormat }) => {
      const { importSubscribers } = await import('../../signup/import.js');
      const report = await withStore(flags, io, (store, config) => importSubscribers(file, store, config, { format: flags.format, cwd: io.cwd }));
      for (const example of report.examples) println(io.stderr, `${file}:${example.line}: skipped: ${example.reason}`);
      if (report.skipped > report.examples.length) println(io.stderr, `… and ${report.skipped - report.examples.length} more rows skipped`);
      println(io.stdout, `${report.format} export, ${report.rows} rows: ${report.added} added, ${report.present} already subscribed (unchanged), ${report.suppressed} suppressed (unsubscribed or bounced there), ${report.skipped} skipped`);
    });

  storeCommand(command, 'export', 'write every subscriber with the proof of consent to stdout: CSV, or --json')
    .option('--json', 'a JSON array instead of CSV')
    .action(async (flags: StoreFlags & { json?: boolean }) => {
      const { exportSubscribers } = await import('../../signup/export.js');
      const count = await withStore(flags, io, (store, config) => exportSubscribers(store, config, io.stdout, flags.json ? 'json' : 'csv'));
      println(io.stderr, `${count} subscriber${count === 1 ? '' : 's'} exported`);
    });
}
