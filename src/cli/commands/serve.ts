import { access } from 'node:fs/promises';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULTS } from '../../config/defaults.js';
import { displayPath } from '../../fs/display-path.js';
import { isLoopbackHost } from '../../preview/preview-server.js';
import { addSharedOptions, configRequest, type SharedFlags } from '../shared-options.js';
import { lineBatch, println, type CliIo } from '../io.js';
import { untilSignal } from '../signals.js';
import { parsePort } from './preview.js';
import { checkServeSecret } from '../../serve/handler.js';
import { redisUrlFrom } from '../redis-url.js';
import type { Project } from '../../pipeline.js';
import { isNewsletterError } from '../../errors.js';

interface ServeFlags extends SharedFlags {
  port: number;
  host: string;
  store?: string | true;
  processes: number;
}

function parseProcesses(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError('expected a number of processes from 1 to 64, or auto (one per core)');
  return n;
}

export function registerServe(program: Command, io: CliIo): void {
  addSharedOptions(
    program
      .command('serve')
      .description('answer one-click unsubscribes (RFC 8058), sign-ups and provider webhooks, and serve the published site')
      .option('--port <port>', 'port to listen on; 0 picks a free one', parsePort, DEFAULTS.serve.port)
      .option('--host <host>', 'address to listen on (behind a reverse proxy, keep the default)', DEFAULTS.serve.host)
      .option('--store [url]', 'record unsubscribes in the Redis store that `send --store`/`--queue` read, on any machine (default URL: $REDIS_URL, which alone turns this on)')
      .option('--processes <n>', 'processes answering on the port, sharing the suppression store; auto: one per core', parseProcesses, DEFAULTS.serve.processes),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ NEWSLETTER_SECRET=… npx newsletter serve             http://127.0.0.1:8080/
  $ npx newsletter serve --port 9000 --out /srv/newsletter
  $ npx newsletter serve --store redis://redis.internal:6379   one list for every machine
  $ npx newsletter serve --processes auto               a process per core, one port

Answers, under the path of \`siteUrl\`:
  GET  /unsubscribe/<token>    a page naming the address, with one button (changes nothing)
  POST /unsubscribe/<token>    List-Unsubscribe=One-Click: added to the suppression list,
                               on disk (fsync) before the 200; action=resubscribe removes it
  POST /webhooks/<provider>    bounces and complaints of ses, postmark, sendgrid, mailgun,
                               each on when its key is set: SES_TOPIC_ARNS,
                               POSTMARK_WEBHOOK_AUTH, SENDGRID_WEBHOOK_PUBLIC_KEY,
                               MAILGUN_WEBHOOK_SIGNING_KEY (signed; docs/bounces.md)
  POST /subscribe              sign-up (form or JSON): a confirmation email through
                               SMTP_URL (docs/signup.md); GET|POST /confirm/<token>
  GET  /healthz                ok (503 while the suppression store cannot be reached)
  GET  anything else           the site of \`newsletter publish\` (published first if missing)

NEWSLETTER_SECRET (environment or .env) must be the key \`send\` used. Put it behind
a reverse proxy that terminates https at \`siteUrl\` (docs/publish-and-serve.md). One log line
per request; tokens and addresses never appear in it. Ctrl-C stops it.`,
    )
    .action(async (given: ServeFlags) => {
      const [{ loadProject }, { openStore }, { createUnsubscribeHandler, startNodeServer }, { publishSite, siteDir }, cluster] = await Promise.all([
        import('../../pipeline.js'),
        import('../../store/index.js'),
        import('../../serve/index.js'),
        import('../../publish/publish-site.js'),
        import('../../serve/cluster.js'),
      ]);
      const { openSignup } = await import('../../signup/index.js');
      const env = io.env; // .env is already under it (cli/env.ts)
      const secret = env.NEWSLETTER_SECRET ?? '';
      // One of the processes of `--processes N`: the primary has checked and published already,
      // and passes its flags on as they were parsed.
      const processNumber = cluster.serveProcessNumber(env);
      const flags = processNumber === null ? given : cluster.flagsOfPrimary<ServeFlags>(env);
      // Before publishing or listening: without the key nothing it answers could be right.
      checkServeSecret(secret);
      const shown = (file: string) => displayPath(file, io.cwd, '.');
      // The shared store on Redis (--store, else REDIS_URL), or suppressions.txt next to the config.
      const storeUrl = flags.store !== undefined || env.REDIS_URL ? redisUrlFrom(typeof flags.store === 'string' ? flags.store : undefined, env, '--store') : null;
      const serving = async (project: Project, url: string, processes: string) => {
        const store = storeUrl ? `the Redis store at ${(await import('../../store/redis/connection.js')).maskRedisUrl(storeUrl)}` : shown(project.config.suppressions);
        return `Serving ${project.config.siteUrl} at ${url} (site ${shown(siteDir(project))}/, suppressions ${store}${processes}); Ctrl-C to stop`;
      };
      const stopping = (signal: string) => `${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping`;
      const reportError = (error: unknown) => println(io.stderr, `error: ${(error as Error)?.message ?? String(error)}`);
      const formatError = (error: unknown) => (isNewsletterError(error) ? error.format() : `unexpected error: ${(error as Error)?.message ?? String(error)}`);

      // The primary (or the only process) loads the project once; each of `--processes` loads its own.
      let primaryProject: Project | null = null;
      if (processNumber === null) {
        const project = (primaryProject = await loadProject(configRequest(flags, io)));
        const site = siteDir(project);
        try {
          await access(path.join(site, 'index.html'));
        } catch {
          println(io.stdout, `no site in ${shown(site)}/: publishing it first`);
          // Unsubscribes must be answered whatever the site's state: an issue that cannot be
          // published is said, and the server starts all the same.
          try {
            const published = await publishSite({ project });
            for (const { slug, error } of published.failed) println(io.stderr, `publish: ${slug} failed, not on the site: ${formatError(error)}`);
          } catch (error) {
            println(io.stderr, `publish: the site could not be written, serving unsubscribes only: ${formatError(error)}`);
          }
        }
        if (!isLoopbackHost(flags.host)) println(io.stderr, `note: listening on ${flags.host}; put https in front of it (docs/publish-and-serve.md)`);
        if (flags.processes > 1) {
          // From now on: a Ctrl-C while the processes start stops them once they have.
          const stop = untilSignal();
          const served = await cluster.startServeCluster({ processes: flags.processes, flags, config: project.config, cwd: io.cwd, env, log: (line) => println(io.stderr, line) });
          println(io.stdout, await serving(project, served.url, `, ${served.processes} processes`));
          try {
            println(io.stdout, stopping(await Promise.race([stop, served.failed])));
          } finally {
            await served.close();
          }
          return;
        }
      }

      // With several processes, each line says which one answered.
      const which = processNumber === null ? '' : ` p${processNumber}`;
      const startServing = async () => {
        const project = primaryProject ?? (await loadProject(configRequest(flags, io)));
        if (processNumber !== null) cluster.checkSameConfig(env, project.config, project.config.paths.config ? shown(project.config.paths.config) : undefined);
        // failFast: while Redis is away an unsubscribe gets a 503 at once, never a request held open.
        const store = await openStore(project.config, { cwd: io.cwd, url: storeUrl ?? undefined, failFast: true });
        let signup: Awaited<ReturnType<typeof openSignup>> | null = null;
        try {
          // Lines of suppressions.txt that suppress nothing: said once (by the first process), with their place.
          if (processNumber === null || processNumber === 1) {
            for (const problem of await store.suppressions.problems()) println(io.stderr, `warning: ${problem.file}:${problem.line}: ${problem.message}`);
          }
          // From here on stdout carries a line per request: every line goes through the batch.
          const out = lineBatch(io.stdout);
          // Sign-ups need a way to send the confirmation: SMTP_URL turns them on.
          let lastRetryNotice = -Infinity;
          signup = env.SMTP_URL
            ? await openSignup({
                project,
                store,
                secret,
                smtpUrl: env.SMTP_URL,
                captchaSecret: env.CAPTCHA_SECRET,
                onRefusal: (refusal) => out.println(`${new Date().toISOString()} signup ${refusal.outcome === 'confirm-not-sent' ? 'mail-failed' : 'refused'} ${refusal.outcome}${refusal.address ? ` address ${refusal.address}` : ''}${refusal.ip ? ` from ${refusal.ip}` : ''}${which}`),
                onMailError: (kind, error) => reportError(new Error(`${new Date().toISOString()} a ${kind} email was not sent: ${(error as Error)?.message ?? String(error)}${which}`)),
                // Said at once, not when the retries give up minutes later; once a minute at most.
                onMailRetry: (kind, error, inMs) => {
                  if (performance.now() - lastRetryNotice < 60_000) return;
                  lastRetryNotice = performance.now();
                  println(io.stderr, `warning: ${new Date().toISOString()} the SMTP server refused a ${kind} email for now (${error.message}): trying again in ${Math.round(inMs / 1000)} s; sign-up emails wait in memory meanwhile${which}`);
                },
              })
            : null;
          const handler = await createUnsubscribeHandler({
            project,
            secret,
            suppressions: store.suppressions,
            webhooks: { store, env },
            siteDir: siteDir(project),
            onRequest: (log) => out.println(`${new Date().toISOString()} ${log.method} ${log.path} ${log.status} ${log.outcome} ${log.ms.toFixed(1)}ms${which}`),
            onError: reportError,
            signup: signup?.service,
          });
          const server = await startNodeServer(handler, { host: flags.host, port: flags.port, onError: reportError });
          return { project, store, out, server, signup };
        } catch (error) {
          // Nothing left open: a process that cannot start must exit.
          await signup?.close().catch(() => undefined);
          await store.close().catch(() => undefined);
          throw error;
        }
      };
      // Listened for from the start: the primary may say stop while this process is still starting.
      const stopped = processNumber === null ? null : cluster.untilStopped();
      const { project, store, out, server, signup } = await startServing().catch(async (error: unknown) => {
        if (processNumber !== null) await cluster.reportStartFailure(error);
        throw error;
      });
      if (stopped) {
        cluster.reportListening(server.url);
        await stopped;
      } else {
        const stop = untilSignal();
        out.println(await serving(project, server.url, ''));
        if (!signup) out.println('sign-ups (POST /subscribe) are off: set SMTP_URL to send their confirmation emails (docs/signup.md)');
        out.println(stopping(await stop));
      }
      await server.close();
      await signup?.close();
      await store.close();
      out.flush();
      // The primary's channel would keep this process alive.
      if (processNumber !== null) process.disconnect?.();
    });
}
