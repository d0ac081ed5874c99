import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULTS } from '../../config/defaults.js';
import { displayPath } from '../../fs/display-path.js';
import { isLoopbackHost } from '../../preview/preview-server.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { lineBatch, println, type CliIo } from '../io.js';
import { untilSignal } from '../signals.js';
import { parsePort } from './preview.js';
import { checkServeSecret } from '../../serve/handler.js';
import { redisUrlFrom } from '../redis-url.js';

interface ServeFlags extends SharedFlags {
  port: number;
  host: string;
  store?: string | true;
}

export function registerServe(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('serve')
      .description('answer one-click unsubscribes (RFC 8058) and serve the published site')
      .option('--port <port>', 'port to listen on; 0 picks a free one', parsePort, DEFAULTS.serve.port)
      .option('--host <host>', 'address to listen on (behind a reverse proxy, keep the default)', DEFAULTS.serve.host)
      .option('--store [url]', 'record unsubscribes in the Redis store that `send --store`/`--queue` read, on any machine (default URL: $REDIS_URL, which alone turns this on)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ NEWSLETTER_SECRET=… npx newsletter serve             http://127.0.0.1:8080/
  $ npx newsletter serve --port 9000 --out /srv/newsletter
  $ npx newsletter serve --store redis://redis.internal:6379   one list for every machine

Answers, under the path of \`siteUrl\`:
  GET  /unsubscribe/<token>    a page naming the address, with one button (changes nothing)
  POST /unsubscribe/<token>    List-Unsubscribe=One-Click: added to the suppression list,
                               on disk (fsync) before the 200; action=resubscribe removes it
  GET  /healthz                ok
  GET  anything else           the site of \`newsletter publish\` (published first if missing)

NEWSLETTER_SECRET (environment or .env) must be the key \`send\` used. Put it behind
a reverse proxy that terminates https at \`siteUrl\` (README, "serve"). One log line
per request; tokens and addresses never appear in it. Ctrl-C stops it.`,
    )
    .action(async (flags: ServeFlags) => {
      const [{ loadProject }, { openStore }, { createUnsubscribeHandler, startNodeServer }, { publishSite, siteDir }] = await Promise.all([
        import('../../pipeline.js'),
        import('../../store/index.js'),
        import('../../serve/index.js'),
        import('../../publish/publish-site.js'),
      ]);
      const env = io.env; // .env is already under it (cli/env.ts)
      const secret = env.NEWSLETTER_SECRET ?? '';
      // Before publishing or listening: without the key nothing it answers could be right.
      checkServeSecret(secret);
      const project = await loadProject(configRequest(flags, io));
      const site = siteDir(project);
      const shown = (file: string) => displayPath(file, io.cwd, '.');
      try {
        await access(path.join(site, 'index.html'));
      } catch {
        println(io.stdout, `no site in ${shown(site)}/: publishing it first`);
        await publishSite({ project });
      }
      // The shared store on Redis (--store, else REDIS_URL), or suppressions.txt next to the config.
      const storeUrl = flags.store !== undefined || env.REDIS_URL ? redisUrlFrom(typeof flags.store === 'string' ? flags.store : undefined, env, '--store') : null;
      const store = await openStore(project.config, { cwd: io.cwd, url: storeUrl ?? undefined });
      // From here on stdout carries a line per request: every line goes through the batch.
      const out = lineBatch(io.stdout);
      const handler = await createUnsubscribeHandler({
        project,
        secret,
        suppressions: store.suppressions,
        siteDir: site,
        onRequest: (log) => out.println(`${new Date().toISOString()} ${log.method} ${log.path} ${log.status} ${log.outcome} ${log.ms.toFixed(1)}ms`),
        onError: (error) => println(io.stderr, `error: ${(error as Error)?.message ?? String(error)}`),
      });
      if (!isLoopbackHost(flags.host)) println(io.stderr, `note: listening on ${flags.host}; put https in front of it (README, "serve")`);
      const server = await startNodeServer(handler, { host: flags.host, port: flags.port, onError: (error) => println(io.stderr, `error: ${(error as Error)?.message ?? String(error)}`) });
      const stop = untilSignal();
      const where = storeUrl ? `the Redis store at ${(await import('../../store/redis/connection.js')).maskRedisUrl(storeUrl)}` : shown(project.config.suppressions);
      out.println(`Serving ${project.config.siteUrl} at ${server.url} (site ${shown(site)}/, suppressions ${where}); Ctrl-C to stop`);
      const signal = await stop;
      out.println(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping`);
      await server.close();
      await store.close();
      out.flush();
    });
}
