/**
 * Issue 12 targets, measured side by side in one run against the same local smtp-server (a child
 * process, as in bench/send.js) and a real redis-server (AOF on, appendfsync everysec):
 *  - a distributed send (`send --queue` + N `newsletter worker` processes, 5 connections each)
 *    with 1 worker reaches ≥ 0.8× the local `send` rate, with 2 workers ≥ 1.2× (4 reported too);
 *    deliveries/s counted at the server after the first 50; the ratio is the median over pairs of
 *    a distributed run and a local run made next to it (in turn before and after: the VM's speed
 *    drifts by a third and more within minutes, so runs far apart compare the machine, not the senders);
 *    workers are started once per set and warmed, as the local sender's process is;
 *  - Redis memory of a million-recipient send's state ≤ 200 MB: the queued batches (all of the
 *    list at once: the peak before workers start) and the journal's accepted set (the end state);
 *  - the coordinator's peak RSS flat in the list size (100,000 vs 1,000,000 rows queued).
 *  - where the machine is not the limit: the same sends to a relay that throttles each sending
 *    IP (`--per-ip-rate`, default 250/s), each worker on its own loopback address.
 *   node bench/queue.js [--messages 5000] [--runs 6] [--rows 1000000] [--throttled-messages 6000] [--per-ip-rate 250]
 *   (--runs 0: the memory figures and the throttled relay only; --throttled-messages 0 leaves it out)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendWithNewsletter, startServer } from './send.js';
import { argument, freePort, isMain, median } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const SECRET = 'bench-queue-secret';
const BIN = path.join(ROOT, 'bin/newsletter.js');

export async function startRedis() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.on('error', () => reject(new Error('redis-server is not installed: apt-get install redis-server')));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  const { Redis } = await import('ioredis');
  const client = new Redis(`redis://127.0.0.1:${port}`);
  return {
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    client,
    async usedMemory() {
      const info = await client.info('memory');
      return Number(/used_memory:(\d+)/.exec(info)[1]);
    },
    async stop() {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writeList(file, rows) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('error', reject);
    out.write('email,name,city\n');
    let i = 0;
    const pump = () => {
      while (i < rows) {
        const ok = out.write(`reader${i}@example.com,Reader ${i},Town ${i % 97}\n`);
        i++;
        if (!ok) return void out.once('drain', pump);
      }
      out.end(resolve);
    };
    pump();
  });
}

/** The Redis keys of weekly-1 sent from the project in `dir`. */
async function keysOf(dir) {
  const { loadConfig } = await import(path.join(ROOT, 'lib/config/load-config.js'));
  const { listIdFor } = await import(path.join(ROOT, 'lib/render/list-id.js'));
  const { sendKeys, DEFAULT_PREFIX } = await import(path.join(ROOT, 'lib/store/redis/keys.js'));
  return sendKeys(DEFAULT_PREFIX, { listId: listIdFor(await loadConfig({ cwd: dir })), issueSlug: 'weekly-1' });
}

function projectDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-queue-'));
  copyFileSync(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  return dir;
}

function cliArgs(dir, extra) {
  return [BIN, 'send', 'weekly-1', '--list', path.join(dir, 'list.csv'), '--yes', '--content', path.join(ROOT, 'content'), '--templates', path.join(ROOT, 'templates'), ...extra];
}

/** `smtpUrl`: one URL for all, or each worker's (`(i) => url`). */
export function startWorkers(n, redisUrl, smtpUrl) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const url = typeof smtpUrl === 'function' ? smtpUrl(i) : smtpUrl;
      const child = spawn(process.execPath, [BIN, 'worker', '--queue', redisUrl, '--smtp', url, '--concurrency', '5', '--name', `bench-${i + 1}`], {
        env: { ...process.env, NEWSLETTER_SECRET: SECRET, REDIS_URL: '', SMTP_URL: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return new Promise((resolve) => {
        let out = '';
        child.stderr.on('data', (chunk) => {
          out += chunk;
          if (out.includes('waiting for batches')) resolve(child);
        });
      });
    }),
  );
}

/** CPU seconds (user + system) a process has used so far, from /proc: robust to a loaded machine. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export async function stopWorkers(children) {
  await Promise.all(
    children.map((child) => {
      child.kill('SIGTERM');
      return new Promise((resolve) => child.once('exit', resolve));
    }),
  );
}

function runCli(args, cwd, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NEWSLETTER_SECRET: SECRET, SMTP_URL: '', REDIS_URL: '', ...env } });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

export async function distributedSend(redis, server, messages) {
  const dir = projectDir();
  await writeList(path.join(dir, 'list.csv'), messages);
  await redis.client.flushall();
  const { code, out } = await runCli(cliArgs(dir, ['--queue', redis.url]), dir);
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`send --queue failed:\n${out}`);
}

/** Queues `rows` recipients with no worker running, then stops following; Redis memory and the coordinator's peak RSS. */
async function queueOnly(redis, rows) {
  const dir = projectDir();
  await writeList(path.join(dir, 'list.csv'), rows);
  await redis.client.flushall();
  const before = await redis.usedMemory();
  const script = `const { main } = await import(${JSON.stringify(path.join(ROOT, 'lib/cli/main.js'))});
const code = await main(process.argv.slice(0, 2).concat(process.argv.slice(2)));
process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n');
process.exitCode = code;`;
  const args = ['--input-type=module', '-e', script, 'x', ...cliArgs(dir, ['--queue', redis.url]).slice(1)];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, NEWSLETTER_SECRET: SECRET, SMTP_URL: '', REDIS_URL: '' } });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  child.stdout.on('data', () => {});
  // Once the whole list is queued, Ctrl-C: the coordinator stops following (the batches stay).
  const runKey = (await keysOf(dir)).run;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    if ((await redis.client.hget(runKey, 'streamed')) === '1') break;
  }
  const seconds = (performance.now() - started) / 1000;
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  const queued = (await redis.usedMemory()) - before;
  rmSync(dir, { recursive: true, force: true });
  return { queuedMb: queued / 2 ** 20, coordinatorRssMb: Number(/MAXRSS (\d+)/.exec(err)[1]) / 1024, seconds };
}

/** The journal at the end of a million-recipient send: every address in the accepted set. */
async function acceptedSetMemory(redis, rows) {
  await redis.client.flushall();
  const before = await redis.usedMemory();
  const dir = projectDir();
  const key = (await keysOf(dir)).accepted('smtp');
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < rows; i += 10_000) {
    const chunk = [];
    for (let j = i; j < Math.min(rows, i + 10_000); j++) chunk.push(`reader${j}@example.com`);
    await redis.client.sadd(key, ...chunk);
  }
  return ((await redis.usedMemory()) - before) / 2 ** 20;
}

const WARM_UP = 1000;

/** The server's rate for the last send, which must have delivered every message. */
async function deliveredRate(server, messages, workers) {
  const { delivered, rate } = await server.stats();
  if (delivered !== messages) throw new Error(`server got ${delivered} of ${messages} with ${workers} workers`);
  return rate;
}

/** CPU ms a process used for each message past the warm-up's: its fixed start-up cost taken out. */
function marginal(warmMs, runMs, messages) {
  return (runMs - warmMs) / (messages - WARM_UP);
}

/**
 * Workers are long-lived (`newsletter worker` runs as a service and takes one send after another),
 * so each set of 1, 2 and 4 is started once and warmed with 1,000 messages a worker, as the local
 * sender's process is warmed (the JIT and the connections); a cold start on every run measured
 * the workers' start-up, which a real send pays once. Within a set, local and distributed runs
 * alternate, so each ratio is of runs made side by side.
 */
export async function run({ messages = 5000, runs = 6, rows = 1_000_000, throttledMessages = 6000, perIpRate = 250 } = {}) {
  const redis = await startRedis();
  if (runs === 0) return memory(redis, { messages, runs, rows, throttledMessages, perIpRate, rates: { local: [], 1: [], 2: [], 4: [] } });
  const server = await startServer();
  const smtpUrl = `smtp://127.0.0.1:${server.port}`;
  // rates[n]: the set's runs; beside[n]: the local runs made between them.
  const rates = { local: [], 1: [], 2: [], 4: [] };
  const beside = { 1: [], 2: [], 4: [] };
  // CPU ms per message past the warm-up: the local send's process, one worker's, Redis's.
  const cpu = { local: [], worker: [], redis: [] };
  // CPU ms per message of each process, whole runs (start-up included): where the cores go.
  const share = Object.fromEntries(['local', 1, 2, 4].map((k) => [k, { sender: [], sink: [], redis: [] }]));
  try {
    // Two warm-ups: the second, warm, is the fixed cost the per-message CPU is measured past.
    await sendWithNewsletter(server, WARM_UP);
    const localWarm = process.cpuUsage();
    await sendWithNewsletter(server, WARM_UP);
    const warmed = process.cpuUsage(localWarm);
    const localWarmMs = (warmed.user + warmed.system) / 1000;
    for (const n of [1, 2, 4]) {
      const workers = await startWorkers(n, redis.url, smtpUrl);
      try {
        // Each worker as warm as the local sender's process (JIT tiers take thousands of messages).
        await distributedSend(redis, server, WARM_UP * n);
        const warmBefore = cpuSeconds(workers[0].pid);
        const redisWarmBefore = cpuSeconds(redis.pid);
        await distributedSend(redis, server, WARM_UP);
        const workerWarmMs = (cpuSeconds(workers[0].pid) - warmBefore) * 1000;
        const redisWarmMs = (cpuSeconds(redis.pid) - redisWarmBefore) * 1000;
        const localRun = async () => {
          await server.reset();
          const localCpu = process.cpuUsage();
          const sinkBefore = cpuSeconds(server.pid);
          await sendWithNewsletter(server, messages);
          const usedLocal = process.cpuUsage(localCpu);
          const localMs = (usedLocal.user + usedLocal.system) / 1000;
          if (n === 1) cpu.local.push(marginal(localWarmMs, localMs, messages));
          share.local.sender.push(localMs / messages);
          share.local.sink.push(((cpuSeconds(server.pid) - sinkBefore) * 1000) / messages);
          const localRate = (await server.stats()).rate;
          rates.local.push(localRate);
          return localRate;
        };
        const queueRun = async () => {
          await server.reset();
          const before = workers.map((w) => cpuSeconds(w.pid));
          const redisBefore = cpuSeconds(redis.pid);
          const sinkBefore = cpuSeconds(server.pid);
          await distributedSend(redis, server, messages);
          const workersMs = workers.reduce((sum, w, i) => sum + (cpuSeconds(w.pid) - before[i]) * 1000, 0);
          const redisMs = (cpuSeconds(redis.pid) - redisBefore) * 1000;
          if (n === 1) {
            cpu.worker.push(marginal(workerWarmMs, workersMs, messages));
            cpu.redis.push(marginal(redisWarmMs, redisMs, messages));
          }
          share[n].sender.push(workersMs / messages);
          share[n].redis.push(redisMs / messages);
          share[n].sink.push(((cpuSeconds(server.pid) - sinkBefore) * 1000) / messages);
          return deliveredRate(server, messages, n);
        };
        // Pairs in turn local-first and queue-first (ABBA), so a machine speeding up or slowing
        // down through the set favours neither side.
        for (let i = 0; i < runs; i++) {
          let local, queued;
          if (i % 2 === 0) {
            local = await localRun();
            queued = await queueRun();
          } else {
            queued = await queueRun();
            local = await localRun();
          }
          beside[n].push(local);
          rates[n].push(queued);
        }
      } finally {
        await stopWorkers(workers);
      }
    }
  } finally {
    server.stop();
  }
  return memory(redis, { messages, runs, rows, rates, beside, cpu, share, throttledMessages, perIpRate });
}

/**
 * Where one machine is not the limit: a relay that accepts `perIpRate` messages a second from
 * each sending address (as real relays throttle an IP), each worker sending from an address of
 * its own (127.0.0.2, 127.0.0.3, …: all of 127/8 is loopback), the local send from 127.0.0.1.
 */
async function throttled(redis, { messages, perIpRate }) {
  const server = await startServer({ perIpRate });
  const rates = { local: 0, 1: 0, 2: 0, 4: 0 };
  try {
    await server.reset();
    await sendWithNewsletter(server, messages);
    rates.local = (await server.stats()).rate;
    for (const n of [1, 2, 4]) {
      const workers = await startWorkers(n, redis.url, (i) => `smtp://127.0.0.1:${server.port}?localAddress=127.0.0.${i + 2}`);
      try {
        await distributedSend(redis, server, WARM_UP * n);
        await server.reset();
        await distributedSend(redis, server, messages);
        rates[n] = await deliveredRate(server, messages, n);
      } finally {
        await stopWorkers(workers);
      }
    }
  } finally {
    server.stop();
  }
  return { messages, perIpRate, rates };
}

async function memory(redis, result) {
  try {
    const relay = result.throttledMessages ? await throttled(redis, { messages: result.throttledMessages, perIpRate: result.perIpRate }) : null;
    const small = await queueOnly(redis, Math.round(result.rows / 10));
    const large = await queueOnly(redis, result.rows);
    const acceptedMb = await acceptedSetMemory(redis, result.rows);
    return { ...result, small, large, acceptedMb, relay };
  } finally {
    await redis.stop();
  }
}

if (isMain(import.meta.url)) {
  const r = await run({ messages: argument('messages', 5000), runs: argument('runs', 6), rows: argument('rows', 1_000_000), throttledMessages: argument('throttled-messages', 6000), perIpRate: argument('per-ip-rate', 250) });
  const f = (n) => Math.round(n).toLocaleString('en-GB');
  const local = median(r.rates.local);
  if (r.runs) console.log(`send of ${f(r.messages)} messages to one local smtp-server, deliveries/s after the first 50 (median of ${r.runs}; each set of workers started once and warmed with ${f(WARM_UP)} messages a worker; × local: the median of the ratios of runs paired with a local run, in turn before and after it):`);
  if (r.runs) console.log(`  local send (5 connections)          ${f(local)}/s  (all ${r.rates.local.length} runs: ${r.rates.local.map(f).join(', ')})`);
  for (const n of r.runs ? [1, 2, 4] : []) {
    const rate = median(r.rates[n]);
    const pairs = r.rates[n].map((x, i) => x / r.beside[n][i]);
    const ratio = median(pairs);
    const target = n === 1 ? 0.8 : n === 2 ? 1.2 : null;
    const verdict = target === null ? '' : `target ≥ ${target}×  ${ratio >= target ? 'ok' : 'MISSED'}`;
    console.log(`  --queue, ${n} worker${n > 1 ? 's' : ' '} (5 connections each) ${f(rate)}/s  ${ratio.toFixed(2)}×  ${verdict}`);
    console.log(`      runs ${r.rates[n].map(f).join(', ')}; the local run paired with each ${r.beside[n].map(f).join(', ')}; ratios ${pairs.map((x) => x.toFixed(2)).join(', ')} (median of the medians: ${(rate / median(r.beside[n])).toFixed(2)}×)`);
  }
  if (r.runs) {
    console.log('cores in use while sending (CPU per message of whole runs × the median rate; the coordinator not counted):');
    for (const k of ['local', 1, 2, 4]) {
      const rate = median(k === 'local' ? r.rates.local : r.rates[k]);
      const part = (name) => (median(r.share[k][name]) * rate) / 1000;
      const label = k === 'local' ? 'local send      ' : `${k} worker${k > 1 ? 's' : ' '}       `;
      console.log(`  ${label} ${k === 'local' ? 'sender' : 'workers'} ${part('sender').toFixed(2)}, SMTP server ${part('sink').toFixed(2)}${k === 'local' ? '' : `, Redis ${part('redis').toFixed(2)}`}`);
    }
    console.log(`CPU per message past the warm-up's (median; robust to a busy machine): local send ${median(r.cpu.local).toFixed(3)} ms; one worker ${median(r.cpu.worker).toFixed(3)} ms + Redis ${median(r.cpu.redis).toFixed(3)} ms`);
    console.log(`  the queue's CPU overhead: ${((median(r.cpu.worker) + median(r.cpu.redis)) / median(r.cpu.local)).toFixed(2)}× the local send's per message`);
  }
  if (r.relay) {
    const { rates, perIpRate, messages } = r.relay;
    console.log(`a relay that accepts ${perIpRate} messages/s per sending IP, ${f(messages)} messages, each worker from its own loopback address:`);
    console.log(`  local send ${f(rates.local)}/s; --queue with 1 worker ${f(rates[1])}/s (${(rates[1] / rates.local).toFixed(2)}×), 2 workers ${f(rates[2])}/s (${(rates[2] / rates.local).toFixed(2)}×), 4 workers ${f(rates[4])}/s (${(rates[4] / rates.local).toFixed(2)}×)`);
  }
  const perMillion = (mb, n) => (mb * 1_000_000) / n;
  const queuedPerMillion = perMillion(r.large.queuedMb, r.rows);
  const acceptedPerMillion = perMillion(r.acceptedMb, r.rows);
  console.log(`Redis memory for ${f(r.rows)} recipients: queued batches ${r.large.queuedMb.toFixed(0)} MB, accepted set ${r.acceptedMb.toFixed(0)} MB`);
  console.log(`  per million: at most ${(queuedPerMillion + acceptedPerMillion).toFixed(0)} MB (both at once)  target ≤ 200 MB  ${queuedPerMillion + acceptedPerMillion <= 200 ? 'ok' : 'MISSED'}`);
  console.log(`coordinator peak RSS: ${f(r.rows / 10)} rows ${r.small.coordinatorRssMb.toFixed(0)} MB, ${f(r.rows)} rows ${r.large.coordinatorRssMb.toFixed(0)} MB (queued in ${r.large.seconds.toFixed(1)} s)`);
}
