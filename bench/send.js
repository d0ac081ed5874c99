/**
 * Issue 4 targets, measured side by side in one run against the same local SMTP server:
 *  - our `send` of N personalized messages (journal on, fdatasync'd) delivers at least 2× the
 *    messages per second of nodemailer's default pooled `sendMail({from,to,subject,html,text})`
 *    with the same personalized HTML and text; deliveries/s counted at the server after the first 50;
 *  - personalization alone (slot values + filling HTML and text) at least 100,000 recipients/s;
 *  - peak RSS of `newsletter send --dry-run` over a 1,000,000-row list under 200 MB.
 * The SMTP server (smtp-server, consuming the data) runs in a child process of this file, so the
 * sender and the server each have a core.
 *   node bench/send.js [--messages 5000] [--runs 3] [--rows 1000000]
 */
import { fork, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argument, isMain, median } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const SKIP_FIRST = 50;

/* ---------- the server, in a child process: `node bench/send.js --serve` ---------- */

/**
 * `--per-ip-rate N`: the server accepts at most N messages a second from each client address,
 * holding its reply to DATA until the sender's next slot, as relays throttle a sending IP.
 */
async function serve() {
  const { SMTPServer } = await import('smtp-server');
  const perIpRate = argument('per-ip-rate', 0);
  const interval = perIpRate ? 1000 / perIpRate : 0;
  const nextSlot = new Map();
  let times = [];
  let cpu = process.cpuUsage();
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        const accept = () => {
          times.push(performance.now());
          callback(null, 'queued');
        };
        if (!interval) return accept();
        const now = performance.now();
        const at = Math.max(now, nextSlot.get(session.remoteAddress) ?? 0);
        nextSlot.set(session.remoteAddress, at + interval);
        if (at <= now) accept();
        else setTimeout(accept, at - now);
      });
    },
  });
  server.on('error', () => {});
  server.listen(0, '127.0.0.1', () => process.send({ port: server.server.address().port }));
  process.on('message', (message) => {
    if (message === 'reset') {
      times = [];
      cpu = process.cpuUsage();
      process.send({ reset: true });
    } else if (message === 'stats') {
      const n = times.length;
      const rate = n > SKIP_FIRST + 1 ? (n - 1 - SKIP_FIRST) / ((times[n - 1] - times[SKIP_FIRST]) / 1000) : 0;
      const used = process.cpuUsage(cpu);
      // Share of one core the server used while receiving: near 1 means the server was the limit.
      const busy = n > 1 ? (used.user + used.system) / 1000 / (times[n - 1] - times[0]) : 0;
      process.send({ delivered: n, rate, busy });
    } else if (message === 'exit') {
      server.close(() => process.exit(0));
    }
  });
}

export function startServer({ perIpRate = 0 } = {}) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', ...(perIpRate ? ['--per-ip-rate', String(perIpRate)] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const request = (message, key) =>
    new Promise((resolve) => {
      const onMessage = (reply) => {
        if (key in reply) {
          child.off('message', onMessage);
          resolve(reply);
        }
      };
      child.on('message', onMessage);
      if (message) child.send(message);
    });
  return request(null, 'port').then(({ port }) => ({
    port,
    pid: child.pid,
    reset: () => request('reset', 'reset'),
    stats: () => request('stats', 'rate'),
    stop: () => child.send('exit'),
  }));
}

/* ---------- the two senders ---------- */

async function project(dir) {
  const { loadProject } = await import(path.join(ROOT, 'lib/index.js'));
  copyFileSync(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  return loadProject({ configFile: path.join(dir, 'newsletter.config.json'), content: path.join(ROOT, 'content'), templates: path.join(ROOT, 'templates'), cwd: dir });
}

function writeList(file, rows) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('error', reject);
    out.write('email,name,city\n');
    let i = 0;
    const pump = () => {
      while (i < rows) {
        if (!out.write(`reader${i}@example.com,Reader ${i},Town ${i % 97}\n`)) {
          i++;
          out.once('drain', pump);
          return;
        }
        i++;
      }
      out.end(resolve);
    };
    pump();
  });
}

/** nodemailer as documented: a pooled transport with default options, one sendMail per recipient. */
export async function sendWithNodemailer(server, messages) {
  const nodemailer = (await import('nodemailer')).default;
  const { compileIssue } = await import(path.join(ROOT, 'lib/render/personalize.js'));
  const { loadIssue } = await import(path.join(ROOT, 'lib/index.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-send-'));
  const { config, templates } = await project(dir);
  const issue = await loadIssue(config.paths.content, 'weekly-1', config.paths.cwd);
  const compiled = await compileIssue(issue, { config, templates, secret: 'bench', fields: ['email', 'name', 'city'] });
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, pool: true });
  let next = 0;
  const worker = async () => {
    // Twice as many senders as pooled connections keeps every connection busy.
    while (next < messages) {
      const i = next++;
      const recipient = { email: `reader${i}@example.com`, name: `Reader ${i}`, city: `Town ${i % 97}` };
      const copy = compiled.fill(compiled.values(recipient));
      await transport.sendMail({ from: config.from, to: recipient.email, subject: issue.subject, html: copy.html, text: copy.text });
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  transport.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Ours: the library behind `newsletter send`, journal on, list streamed from a CSV. */
export async function sendWithNewsletter(server, messages) {
  const { sendIssue } = await import(path.join(ROOT, 'lib/send/send-issue.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-send-'));
  const loaded = await project(dir);
  await writeList(path.join(dir, 'list.csv'), messages);
  const result = await sendIssue({
    project: loaded,
    issueSlug: 'weekly-1',
    list: 'list.csv',
    transport: { kind: 'smtp', url: `smtp://127.0.0.1:${server.port}`, display: 'bench' },
    secret: 'bench',
    cwd: dir,
    journalSync: true,
  });
  if (result.sent !== messages) throw new Error(`sent ${result.sent} of ${messages}`);
  rmSync(dir, { recursive: true, force: true });
}

/* ---------- personalization alone, and the dry-run memory ---------- */

async function personalizationRate(recipients = 200_000, rounds = 5) {
  const { compileIssue } = await import(path.join(ROOT, 'lib/render/personalize.js'));
  const { loadIssue } = await import(path.join(ROOT, 'lib/index.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-send-'));
  const { config, templates } = await project(dir);
  const issue = await loadIssue(config.paths.content, 'weekly-1', config.paths.cwd);
  const compiled = await compileIssue(issue, { config, templates, secret: 'bench', fields: ['email', 'name'] });
  const rates = [];
  let bytes = 0;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < recipients; i++) {
      const copy = compiled.fill(compiled.values({ email: `reader${i}@example.com`, name: `Reader ${i}` }));
      // Touch both strings so they are materialized, as sending them would.
      bytes += copy.html.length + copy.text.length;
    }
    rates.push(recipients / ((performance.now() - started) / 1000));
  }
  rmSync(dir, { recursive: true, force: true });
  return { rate: median(rates), bytes };
}

async function dryRunPeakRss(rows) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-send-'));
  copyFileSync(path.join(ROOT, 'newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  await writeList(path.join(dir, 'list.csv'), rows);
  const script = `const { main } = await import(${JSON.stringify(path.join(ROOT, 'lib/cli/main.js'))});
const code = await main(process.argv.slice(0, 2).concat(process.argv.slice(2)));
process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n');
process.exitCode = code;`;
  const args = ['--input-type=module', '-e', script, 'x', 'send', 'weekly-1', '--list', 'list.csv', '--dry-run', '--content', path.join(ROOT, 'content'), '--templates', path.join(ROOT, 'templates')];
  const started = performance.now();
  const { stderr, stdout, code } = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, SMTP_URL: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (exitCode) => resolve({ stdout: out, stderr: err, code: exitCode }));
  });
  const seconds = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`dry run failed:\n${stdout}\n${stderr}`);
  const peakMb = Number(/MAXRSS (\d+)/.exec(stderr)[1]) / 1024;
  return { peakMb, seconds, summary: stdout.split('\n').find((l) => l.startsWith('list:')) };
}

export async function run({ messages = 5000, runs = 3, rows = 1_000_000 } = {}) {
  const server = await startServer();
  const baseline = [];
  const ours = [];
  try {
    // Warm both paths (JIT, mjml load), then alternate so machine noise hits both alike.
    for (const send of [sendWithNodemailer, sendWithNewsletter]) await send(server, 200);
    for (let i = 0; i < runs; i++) {
      for (const [send, into] of [[sendWithNodemailer, baseline], [sendWithNewsletter, ours]]) {
        await server.reset();
        await send(server, messages);
        const { delivered, rate } = await server.stats();
        if (delivered !== messages) throw new Error(`server got ${delivered} of ${messages}`);
        into.push(rate);
      }
    }
  } finally {
    server.stop();
  }
  const personalization = await personalizationRate();
  const dryRun = await dryRunPeakRss(rows);
  return {
    messages,
    runs,
    nodemailerPerSecond: median(baseline),
    oursPerSecond: median(ours),
    ratio: median(ours) / median(baseline),
    pairRatios: ours.map((rate, i) => rate / baseline[i]),
    personalizationPerSecond: personalization.rate,
    dryRunRows: rows,
    dryRunPeakRssMb: dryRun.peakMb,
    dryRunSeconds: dryRun.seconds,
    dryRunSummary: dryRun.summary,
  };
}

if (process.argv.includes('--serve')) {
  await serve();
} else if (isMain(import.meta.url)) {
  const r = await run({ messages: argument('messages', 5000), runs: argument('runs', 3), rows: argument('rows', 1_000_000) });
  const f = (n) => Math.round(n).toLocaleString('en-GB');
  console.log(`send of ${f(r.messages)} personalized messages to a local smtp-server, deliveries/s after the first ${SKIP_FIRST} (median of ${r.runs}):`);
  console.log(`  nodemailer pooled sendMail (defaults)   ${f(r.nodemailerPerSecond)}/s`);
  console.log(`  newsletter send (journal on)            ${f(r.oursPerSecond)}/s`);
  console.log(`  ratio                                   ${r.ratio.toFixed(2)}×  (per run: ${r.pairRatios.map((x) => x.toFixed(2)).join(', ')})  target ≥ 2×  ${r.ratio >= 2 ? 'ok' : 'MISSED'}`);
  console.log(`personalization alone                     ${f(r.personalizationPerSecond)} recipients/s  target ≥ 100,000  ${r.personalizationPerSecond >= 100_000 ? 'ok' : 'MISSED'}`);
  console.log(`dry run of ${f(r.dryRunRows)} rows: peak RSS ${r.dryRunPeakRssMb.toFixed(0)} MB in ${r.dryRunSeconds.toFixed(1)} s  target < 200 MB  ${r.dryRunPeakRssMb < 200 ? 'ok' : 'MISSED'}`);
  console.log(`  ${r.dryRunSummary}`);
}
