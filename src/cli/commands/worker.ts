import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DEFAULTS } from '../../config/defaults.js';
import { NewsletterError } from '../../errors.js';
import { startWorker } from '../../queue/worker.js';
import { println, type CliIo } from '../io.js';
import { insecureAuthWarning } from '../../send/transport.js';
import { redisUrlFrom } from '../redis-url.js';
import { addSharedOptions, type SharedFlags } from '../shared-options.js';

interface WorkerFlags extends SharedFlags {
  queue?: string;
  smtp?: string;
  concurrency?: number;
  name?: string;
  lockMs?: number;
}

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got \`${value}\``);
    return n;
  };
}

export function registerWorker(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('worker')
      .description('take batches of distributed sends (`send --queue`) from Redis and send them through this machine\'s SMTP server')
      .option('--queue <url>', 'the Redis that holds the queue and the shared journal (default: $REDIS_URL)')
      .option('--smtp <url>', 'SMTP server this worker sends through (default: $SMTP_URL)')
      .option('--concurrency <n>', `messages in flight (SMTP connections) on this worker (default ${DEFAULTS.send.concurrency})`, wholeNumber('--concurrency', 1))
      .option('--name <name>', 'name in logs and `newsletter status` (default: host:pid)')
      .option('--lock-ms <ms>', 'how long a batch stays with a worker that stopped answering before another takes it (default 30000)', wholeNumber('--lock-ms', 500)),
    { out: false },
  )
    .addHelpText(
      'after',
      `
Examples:
  $ SMTP_URL=smtp://user:pass@relay-1:587 npx newsletter worker --queue redis://redis.internal:6379
  $ npx newsletter worker --queue redis://redis.internal:6379 --smtp smtp://relay-2:587 --concurrency 10

Run one on every sending machine, each with its own SMTP_URL, and the same NEWSLETTER_SECRET as
the machine that runs \`send --queue\` (it signs unsubscribe links). Rules of the send (retries,
--rate across all workers) come from \`send\`. A worker whose SMTP server cannot be reached hands
its batch back untouched and waits, retrying with backoff. SIGTERM or Ctrl-C: the messages in
flight finish and are recorded, the rest of the batch goes back to the queue.
A worker sends each issue with the config and templates that \`send --queue\` stored in Redis:
--content, --templates and --config are accepted as everywhere, and it says they are not used.`,
    )
    .action(async (flags: WorkerFlags) => {
      const env = io.env;
      const redisUrl = redisUrlFrom(flags.queue, env, '--queue');
      const unused = (['content', 'templates', 'config'] as const).filter((flag) => flags[flag] !== undefined).map((flag) => `--${flag}`);
      if (unused.length) println(io.stderr, `notice: ${unused.join(', ')} not used: a worker sends each issue with the config and templates that \`send --queue\` stored in Redis`);
      const smtpUrl = flags.smtp ?? env.SMTP_URL;
      if (!smtpUrl) throw new NewsletterError('USAGE', 'a worker needs an SMTP server: pass --smtp smtp://user:pass@host:587 or set SMTP_URL');
      const insecure = insecureAuthWarning(smtpUrl);
      if (insecure) println(io.stderr, `warning: ${insecure}`);
      if (!env.NEWSLETTER_SECRET) {
        throw new NewsletterError('SEND_CONFIG', 'NEWSLETTER_SECRET is not set: a worker signs unsubscribe links with it', { hint: 'set the same NEWSLETTER_SECRET as on the machine that runs `send --queue`' });
      }
      const worker = await startWorker({
        redisUrl,
        smtpUrl,
        secret: env.NEWSLETTER_SECRET,
        concurrency: flags.concurrency,
        name: flags.name,
        lockMs: flags.lockMs,
        log: (line) => println(io.stderr, line),
        cwd: io.cwd,
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          println(io.stderr, `${worker.name}: ${signal}: finishing the messages in flight, handing the rest back`);
          resolve();
        };
        const onTerm = () => stop('SIGTERM');
        const onInt = () => stop('SIGINT');
        process.on('SIGTERM', onTerm);
        process.on('SIGINT', onInt);
      });
      await worker.stop();
      println(io.stderr, `${worker.name}: stopped`);
    });
}
