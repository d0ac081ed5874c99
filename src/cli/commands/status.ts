import type { Command } from 'commander';
import { assertIssueSlug } from '../../content/slug.js';
import { listIssues } from '../../content/load-issue.js';
import { NewsletterError } from '../../errors.js';
import { didYouMean } from '../../suggest.js';
import { loadConfig } from '../../config/load-config.js';
import { queueStatus, type QueueStatus } from '../../queue/status.js';
import { listIdFor } from '../../render/list-id.js';
import { formatCount } from '../../send/progress.js';
import { println, type CliIo } from '../io.js';
import { maskRedisUrl } from '../../store/redis/connection.js';
import { redisUrlFrom } from '../redis-url.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { deliveryRates, formatDeliveryRates, type DeliveryRates } from '../../bounces/delivery-rates.js';
import { openStore } from '../../store/index.js';
import { RedisStore } from '../../store/redis/redis-store.js';

interface StatusFlags extends SharedFlags {
  queue?: string;
  json?: boolean;
}

/** `queue`: the Redis as shown to the user (password masked), for the command that starts a worker. */
export function formatStatus(status: QueueStatus, queue = '<redis-url>'): string[] {
  if (status.state === 'none') return [`${status.issueSlug}: no distributed send of this issue in this Redis`];
  const lines = [`${status.issueSlug}: ${status.state === 'stopped' ? 'stopped before the whole list was queued (run the same send again)' : status.state}`];
  const run = status.run;
  if (run) {
    lines.push(`  this run:  ${formatCount(run.sent)} of ${formatCount(run.total)} sent, ${formatCount(run.failed)} failed, ${formatCount(run.pending)} pending (started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''})`);
    if (run.failedBatches) lines.push(`  failed batches: ${run.failedBatches} (last: ${run.lastBatchError}); the next run requeues their rows`);
  }
  const outcomes = Object.entries(status.outcomes)
    .filter(([kind]) => kind !== 'accepted')
    .map(([kind, n]) => `${formatCount(n)} ${kind}`);
  lines.push(`  all runs:  ${formatCount(status.sentTotal)} accepted${outcomes.length ? `; ${outcomes.join(', ')}` : ''}`);
  const b = status.batches;
  lines.push(`  batches:   ${formatCount(b.pending)} pending (${b.active} active, ${b.waiting} waiting, ${b.delayed} handed back)`);
  const live = status.liveWorkers === null ? 'unknown (this Redis does not list its clients)' : `${status.liveWorkers} live`;
  lines.push(`  workers:   ${live}${status.liveWorkers === 0 && status.state === 'running' ? `: nothing is sending; start one with \`npx newsletter worker --queue ${queue}\`` : ''}`);
  if (status.workers.length) {
    const width = Math.max(...status.workers.map((w) => w.name.length));
    for (const w of status.workers) {
      lines.push(`    ${w.name.padEnd(width)}  ${w.live ? 'live ' : 'gone '} ${formatCount(w.sent).padStart(9)} sent  ${formatCount(w.failed).padStart(7)} failed  ${formatCount(w.batches).padStart(6)} batches  last seen ${w.lastSeen ?? 'never'}`);
    }
  }
  return lines;
}

export function registerStatus(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('status')
      .description('counts of a send: delivered, bounces and complaints with their rates; for `send --queue`, also pending and live workers')
      .argument('<issue>', 'issue slug', assertIssueSlug)
      .option('--queue <url>', 'the Redis of a distributed send (default: $REDIS_URL; without either, the local send\'s journal)')
      .option('--json', 'print the status as JSON'),
    { out: false },
  )
    .addHelpText(
      'after',
      `
The config (--config) names the newsletter with its listId; --content is where an issue
not sent yet is looked for (a name neither sent nor written is an error that suggests one).

Examples:
  $ npx newsletter status weekly-1 --queue redis://redis.internal:6379
  $ watch -n 2 npx newsletter status weekly-1      with REDIS_URL set
  $ npx newsletter status weekly-1 --json          a local send, for a dashboard

Warns when complaints pass 0.1% or hard bounces 2% of delivered (docs/bounces.md).`,
    )
    .action(async (issueSlug: string, flags: StatusFlags) => {
      const env = io.env;
      const config = await loadConfig(configRequest(flags, io));
      const key = { listId: listIdFor(config), issueSlug };
      // A queued send's Redis (--queue or REDIS_URL); else the local send's files store.
      const queue = flags.queue !== undefined || env.REDIS_URL ? redisUrlFrom(flags.queue, env, '--queue') : null;
      const status = queue ? await queueStatus({ queue, key }) : null;
      const store = queue ? await RedisStore.open({ url: queue, name: 'newsletter-status' }) : await openStore(config, { cwd: io.cwd });
      let delivery: DeliveryRates;
      let sentIssues: string[];
      try {
        delivery = await deliveryRates(store, key);
        sentIssues = (await store.bounces.sentIssues(key.listId)).map((issue) => issue.slug);
      } finally {
        await store.close();
      }
      // Nothing sent under this name: a typo (an error that says which issues there are), or an
      // issue of the content folder not sent yet (said so, not shown as a send of nothing).
      if (!sentIssues.includes(issueSlug) && (!status || status.state === 'none')) {
        const written = await listIssues(config.paths.content, io.cwd).catch(() => [] as string[]);
        if (!written.includes(issueSlug)) {
          const known = [...new Set([...sentIssues, ...written])];
          throw new NewsletterError('USAGE', `no send of \`${issueSlug}\` and no such issue in the content${didYouMean(issueSlug, known)}`, {
            hint: sentIssues.length ? `issues sent: ${sentIssues.join(', ')}` : 'nothing has been sent with this config yet',
          });
        }
        if (flags.json) println(io.stdout, JSON.stringify({ issueSlug, state: 'not-sent', delivery }, null, 2));
        else println(io.stdout, `${issueSlug}: not sent yet`);
        return;
      }
      if (flags.json) println(io.stdout, JSON.stringify(status ? { ...status, delivery } : { issueSlug, state: 'local', delivery }, null, 2));
      else {
        for (const line of status && queue ? formatStatus(status, maskRedisUrl(queue)) : [`${issueSlug}: local send`]) println(io.stdout, line);
        for (const line of formatDeliveryRates(delivery)) println(io.stdout, line);
      }
    });
}
