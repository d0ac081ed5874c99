import type { Command } from 'commander';
import { assertIssueSlug } from '../../content/slug.js';
import { loadConfig } from '../../config/load-config.js';
import { queueStatus, type QueueStatus } from '../../queue/status.js';
import { listIdFor } from '../../render/list-id.js';
import { formatCount } from '../../send/progress.js';
import { println, type CliIo } from '../io.js';
import { maskRedisUrl } from '../../store/redis/connection.js';
import { redisUrlFrom } from '../redis-url.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';

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
      .description('counts of a distributed send (`send --queue`): sent, failed, pending, live workers')
      .argument('<issue>', 'issue slug', assertIssueSlug)
      .option('--queue <url>', 'the Redis of the send (default: $REDIS_URL)')
      .option('--json', 'print the status as JSON'),
    { out: false },
  )
    .addHelpText(
      'after',
      `
The config (--config) names the newsletter with its listId; --content and --templates are
accepted as everywhere and change nothing here.

Examples:
  $ npx newsletter status weekly-1 --queue redis://redis.internal:6379
  $ watch -n 2 npx newsletter status weekly-1      with REDIS_URL set`,
    )
    .action(async (issueSlug: string, flags: StatusFlags) => {
      const env = io.env;
      const queue = redisUrlFrom(flags.queue, env, '--queue');
      const config = await loadConfig(configRequest(flags, io));
      const status = await queueStatus({ queue, key: { listId: listIdFor(config), issueSlug } });
      if (flags.json) println(io.stdout, JSON.stringify(status, null, 2));
      else for (const line of formatStatus(status, maskRedisUrl(queue))) println(io.stdout, line);
    });
}
