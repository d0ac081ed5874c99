import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { formatCount } from '../../send/progress.js';
import type { MailboxEvent, MailboxSummary } from '../../bounces/mailbox.js';
import { println, type CliIo } from '../io.js';
import { redisUrlFrom } from '../redis-url.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { untilSignal } from '../signals.js';

interface BouncesFlags extends SharedFlags {
  imap?: string;
  watch?: boolean;
  store?: string | true;
  config?: string;
  json?: boolean;
}

export function formatBounceSummary(s: MailboxSummary): string {
  const n = (count: number, one: string, many = `${one}s`) => `${formatCount(count)} ${count === 1 ? one : many}`;
  const parts = [
    `${formatCount(s.read)} read`,
    n(s.hard, 'hard bounce'),
    `${formatCount(s.soft)} soft`,
    n(s.complaints, 'complaint'),
    n(s.deliveries, 'delivery report'),
    n(s.unsubscribes, 'unsubscribe request'),
    n(s.ignored, 'auto-reply or delay notice', 'auto-replies and delay notices'),
    `${n(s.suppressed, 'address', 'addresses')} suppressed`,
  ];
  if (s.alreadyHandled) parts.push(`${formatCount(s.alreadyHandled)} handled before`);
  const left = s.unknown + s.unmatched + s.unverified;
  const why = [`${s.unknown} not recognised`, `${s.unmatched} naming nobody we sent to`, ...(s.unverified ? [`${s.unverified} unsubscribe request${s.unverified === 1 ? '' : 's'} not vouched for`] : [])];
  if (left) parts.push(`${formatCount(left)} left in the mailbox (${why.join(', ')})`);
  return parts.join(', ');
}

/** Why a message was left for a person, as the `left` line says it. */
function leftBecause(event: Extract<MailboxEvent, { type: 'left' }>): string {
  if (event.why === 'unverified') return `an unsubscribe request the receiving server did not vouch for (${event.detail ?? 'no reason given'}): if it is genuine, add ${event.email ?? 'the address'} to suppressions.txt`;
  if (event.why === 'unmatched') return event.detail ? `${event.detail}${event.email ? `: ${event.email}` : ''}` : 'names nobody we sent to';
  return 'not recognised';
}

/** Why reports may be counted without their issue: no tags to read, no key to read them, or another key. */
export function verpWarnings(verp: boolean, address: string | null, secret: string | undefined, summary: MailboxSummary): string[] {
  if (!address) return ['`bounces.address` is not set, so sends carry no VERP tags: reports are matched by the headers they quote, and one that quotes none is left in the mailbox (docs/bounces.md)'];
  if (!verp || !secret) return ['NEWSLETTER_SECRET is not set: the VERP tags of `bounces.address` cannot be read, so reports are matched by the headers they quote and may be counted without their issue; set the key `send` used (environment or .env)'];
  const { seen, resolved } = summary.verpTags;
  if (seen > 0 && resolved === 0) return [`${formatCount(seen)} report${seen > 1 ? 's' : ''} carried a VERP tag of \`${address}\` and none verified: is NEWSLETTER_SECRET the key \`send\` used?`];
  return [];
}

export function registerBounces(program: Command, io: CliIo): void {
  addSharedOptions(program.command('bounces'), { out: false })
    .description('read the bounce mailbox over IMAP: suppress hard bounces, complaints and unsubscribe requests, count soft bounces')
    .option('--imap <url>', 'the mailbox: imaps://user:pass@host/INBOX (default: `bounces.imap` in the config, then $BOUNCES_IMAP_URL)')
    .option('--watch', 'keep reading as mail arrives (IMAP IDLE) until Ctrl-C')
    .option('--store [url]', 'record in the Redis store the sends use (default URL: $REDIS_URL, which alone turns this on)')
    .option('--json', 'print the summary and what was done to whom as JSON (with --watch: a JSON line per pass)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx newsletter bounces --imap 'imaps://bounces%40news.example.com:secret@imap.example.com/INBOX'
  $ BOUNCES_IMAP_URL=… npx newsletter bounces --watch

Handled messages get the keyword $NewsletterHandled (or move to \`bounces.folder\` with
\`bounces.processed: "move"\`); nothing is deleted. Messages it cannot recognise stay
as they are and are counted. NEWSLETTER_SECRET must be the key \`send\` used, to read
the VERP tags of \`bounces.address\` (docs/bounces.md).`,
    )
    .action(async (flags: BouncesFlags) => {
      const { processBounces } = await import('../../bounces/index.js');
      const env = io.env;
      const config = await loadConfig(configRequest(flags, io));
      const storeUrl = flags.store !== undefined || env.REDIS_URL ? redisUrlFrom(typeof flags.store === 'string' ? flags.store : undefined, env, '--store') : null;
      const abort = new AbortController();
      const events: object[] = [];
      if (flags.watch) void untilSignal().then(() => abort.abort());
      const result = await processBounces({
        config,
        imap: flags.imap,
        env,
        cwd: io.cwd,
        storeUrl,
        hooks: {
          watch: flags.watch,
          signal: abort.signal,
          onEvent: (event) => {
            // On stderr either way: the connection's news is not the mailbox's.
            if (event.type === 'reconnecting') return println(io.stderr, `${new Date().toISOString()} connection lost (${event.why}): trying again in ${Math.round(event.inMs / 1000)} s`);
            if (flags.json) {
              // What was done to whom, for scripts; with --watch, a JSON line per pass as it ends.
              if (event.type === 'event') events.push({ ...event.event, outcome: event.outcome });
              else if (event.type === 'left') events.push({ left: event.why, uid: event.uid, subject: event.subject, ...(event.email ? { email: event.email } : {}), ...(event.detail ? { detail: event.detail } : {}) });
              else if (event.type === 'pass' && flags.watch) println(io.stdout, JSON.stringify({ summary: event.summary, events: events.splice(0) }));
              return;
            }
            if (event.type === 'connected') println(io.stdout, `${event.mailbox}: ${formatCount(event.messages)} messages`);
            else if (event.type === 'event') println(io.stdout, `  ${event.event.kind.padEnd(12)}${event.event.email}${event.event.issue ? ` (${event.event.issue})` : ''}${event.event.status ? ` ${event.event.status}` : ''}: ${event.outcome}`);
            else if (event.type === 'left') println(io.stdout, `  ${'left'.padEnd(12)}#${event.uid} ${JSON.stringify(event.subject)} (${leftBecause(event)})`);
            else if (event.type === 'pass' && flags.watch) println(io.stdout, formatBounceSummary(event.summary));
          },
        },
      });
      for (const warning of verpWarnings(result.verp, config.bounces.address, env.NEWSLETTER_SECRET, result.summary)) println(io.stderr, `warning: ${warning}`);
      if (flags.json && !flags.watch) println(io.stdout, JSON.stringify({ ...result, events }, null, 2));
      else if (!flags.json) println(io.stdout, formatBounceSummary(result.summary));
    });
}
