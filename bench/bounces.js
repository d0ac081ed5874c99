/**
 * Issue 21 targets: `newsletter bounces` classifies at least 2,000 messages a second from a local
 * Maildir over IMAP, and the provider webhooks answer in under 20 ms median at 200 concurrent
 * clients (as the unsubscribe POST, bench/serve.js).
 *
 * 1. A real Dovecot (Debian's dovecot-imapd, a minimal config in a temp folder, as
 *    tests/helpers/dovecot.ts starts it) over a Maildir of MESSAGES reports: the corpus of
 *    tests/fixtures/bounces/ in turn, each rewritten for its own recipient and sent back to that
 *    recipient's VERP address (as bounces.address makes them). `readBounceMailbox` (lib/) reads
 *    them once: fetch, classify, match, record, flag. Reported: messages/s over the whole pass
 *    (the median of RUNS passes, each on a fresh Maildir and store), and the classifier alone on
 *    the same bytes in this process.
 * 2. `newsletter serve --processes 2` (the CLI, files store) with MAILGUN_WEBHOOK_SIGNING_KEY,
 *    driven by wrk with 200 connections: every request a Mailgun `failed` event with its own
 *    token, signed (so every request is verified, claimed and recorded: two durable writes).
 *   node bench/bounces.js [--messages 5000] [--runs 3] [--seconds 10]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from './queue.js';
import { argument, freePort, median } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MESSAGES = Number(argument('messages', '5000'));
const SECONDS = Number(argument('seconds', '10'));
/** IMAP passes, each over a fresh Maildir and store: the figure is their median. */
const RUNS = Number(argument('runs', '3'));
/**
 * Signed bodies per run: more than a run can send at 20,000 requests/s. A body sent twice is a
 * replay, answered 403 at once, and a run with 403s in it measures the refusal, not the record.
 */
const PER_RUN = Math.max(20_000, SECONDS * 20_000);
const { classifyMessage } = await import(path.join(ROOT, 'lib/bounces/classify.js'));
const { readBounceMailbox } = await import(path.join(ROOT, 'lib/bounces/mailbox.js'));
const { verpAddress } = await import(path.join(ROOT, 'lib/bounces/verp.js'));
const LIST_ID = 'Bench <bench.example.com>';
const SECRET = 'bench-secret';
const VERP_BASE = 'bounces@news.example.com';
const { openStore } = await import(path.join(ROOT, 'lib/store/index.js'));

function passwdEntry(name) {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return line ? { uid: Number(line.split(':')[2]), gid: Number(line.split(':')[3]) } : null;
}

async function startDovecot(dir) {
  const port = await freePort();
  const me = os.userInfo();
  const root = me.uid === 0;
  const mail = root ? passwdEntry('dovecot') : { uid: me.uid, gid: me.gid };
  const group = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(mail.gid))?.split(':')[0];
  for (const folder of ['run', 'state', 'home', 'Maildir/new', 'Maildir/cur', 'Maildir/tmp']) mkdirSync(path.join(dir, folder), { recursive: true });
  writeFileSync(path.join(dir, 'passwd'), 'bounces:{PLAIN}bench::::::\n');
  writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run\nstate_dir = ${dir}/state\nlog_path = ${dir}/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain\nmail_location = maildir:${dir}/Maildir\nfirst_valid_uid = ${mail.uid}\nfirst_valid_gid = ${mail.gid}\ndefault_internal_user = ${root ? 'dovecot' : me.username}\ndefault_internal_group = ${group}\ndefault_login_user = ${root ? 'dovenull' : me.username}\npassdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/passwd\n}\nuserdb {\n  driver = static\n  args = uid=${mail.uid} gid=${mail.gid} home=${dir}/home\n}\nservice imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n`,
  );
  if (root) {
    chmodSync(path.dirname(dir), 0o711);
    chmodSync(dir, 0o711);
    for (const folder of ['home', 'Maildir', 'Maildir/new', 'Maildir/cur', 'Maildir/tmp']) chownSync(path.join(dir, folder), mail.uid, mail.gid);
  }
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('data', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return { child, port, mail, root };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('dovecot did not start (apt-get install dovecot-imapd)');
}

/** The store as the CLI opens it: files under `dir`, or Redis (`bounces --store redis://…`) over them. */
function storeFor(dir, redisUrl) {
  return openStore({ paths: { root: path.join(dir, 'state') }, suppressions: path.join(dir, 'state', 'suppressions.txt') }, { url: redisUrl });
}

async function imapPass(dir, redisUrl = null) {
  const corpusDir = path.join(ROOT, 'tests/fixtures/bounces');
  const corpus = readdirSync(corpusDir).filter((n) => n.endsWith('.eml')).map((n) => readFileSync(path.join(corpusDir, n), 'latin1'));
  const dovecot = await startDovecot(path.join(dir, 'dovecot'));
  if (redisUrl) await redis.client.flushall();
  const store = await storeFor(dir, redisUrl);
  try {
    const sources = [];
    const journal = await store.journal({ listId: LIST_ID, issueSlug: 'weekly-1' });
    await journal.append({ status: 'run', at: new Date().toISOString(), pid: 1, transport: 'smtp', list: 'list.csv', destination: { kind: 'smtp', id: 'smtp://relay' } });
    for (let i = 0; i < MESSAGES; i++) {
      const email = `reader${i}@example.org`;
      // Each message its own: the corpus's recipients and report ids made unique.
      const text = corpus[i % corpus.length].replace(/[\w.+-]+@(example\.(org|net|com|de|fr|it|co\.uk)|gmail\.com|yahoo\.com|contoso\.com|fabrikam\.example|[\w.]*example\.\w+)/g, (m) => (m.startsWith('bounces+') ? m : email))
        .replace(/^Message-I[dD]: <([^>]+)>/m, `Message-ID: <${i}.$1>`)
        // The report comes back to this recipient's own VERP address, as a real one would.
        .replaceAll('bounces+ab3dbhegm2kqfrbdx7jn5s4wyq@news.example.com', verpAddress(VERP_BASE, SECRET, LIST_ID, 'weekly-1', email));
      sources.push(Buffer.from(text, 'latin1'));
      await journal.append({ status: 'accepted', email, line: i + 1, at: new Date().toISOString(), destination: 'smtp' });
      const name = `${Date.now()}.M${i}P${process.pid}.bench`;
      const temp = path.join(dir, 'dovecot', 'Maildir', 'tmp', name);
      writeFileSync(temp, sources[i]);
      if (dovecot.root) chownSync(temp, dovecot.mail.uid, dovecot.mail.gid);
      renameSync(temp, path.join(dir, 'dovecot', 'Maildir', 'new', name));
    }
    await journal.close();
    let started = performance.now();
    for (const source of sources) await classifyMessage(source);
    const classifyRate = MESSAGES / ((performance.now() - started) / 1000);
    started = performance.now();
    const summary = await readBounceMailbox(
      { url: `imap://bounces:bench@127.0.0.1:${dovecot.port}/INBOX`, processed: 'flag', folder: 'Processed', keyword: '$NewsletterHandled', claimTtlMs: 3600_000 },
      { store, listId: LIST_ID, secret: SECRET, verpBase: VERP_BASE, rules: { softBounceLimit: 3 } },
    );
    const seconds = (performance.now() - started) / 1000;
    return { rate: summary.read / seconds, classifyRate, summary };
  } finally {
    await store.close();
    dovecot.child.kill('SIGTERM');
  }
}

const LUA = `
local bodies = {}
local threads = {}
function setup(thread) thread:set("id", #threads); threads[#threads + 1] = thread end
issued = 0
function init(args)
  local n = 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then bodies[#bodies + 1] = line end
    n = n + 1
  end
end
function request()
  issued = issued + 1
  return wrk.format("POST", "/webhooks/mailgun", { ["Content-Type"] = "application/json" }, bodies[(issued - 1) % #bodies + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"non2xx":%d}\\n', summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status))
end
`;

async function webhookLoad(dir) {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: apt-get install wrk');
  const project = path.join(dir, 'serve');
  mkdirSync(path.join(project, 'dist/site'), { recursive: true });
  cpSync(path.join(ROOT, 'content'), path.join(project, 'content'), { recursive: true });
  writeFileSync(path.join(project, 'newsletter.config.json'), readFileSync(path.join(ROOT, 'newsletter.config.json')));
  writeFileSync(path.join(project, 'dist/site/index.html'), '<!doctype html><title>bench</title>');
  const key = 'bench-mailgun-key';
  const timestamp = String(Math.floor(Date.now() / 1000));
  // A file of bodies per run: a token or event sent again would be a replay, refused (403).
  for (let run = 0; run < 3; run++) {
    const lines = [];
    for (let i = 0; i < PER_RUN; i++) {
      const token = randomBytes(16).toString('hex');
      const n = run * PER_RUN + i;
      lines.push(JSON.stringify({ signature: { timestamp, token, signature: createHmac('sha256', key).update(timestamp + token).digest('hex') }, 'event-data': { event: 'failed', severity: 'permanent', recipient: `gone${n}@example.org`, id: `ev${n}` } }));
    }
    writeFileSync(path.join(dir, `bodies-${run}.txt`), `${lines.join('\n')}\n`);
  }
  writeFileSync(path.join(dir, 'post.lua'), LUA);
  const logFile = path.join(dir, 'serve.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/newsletter.js'), 'serve', '--port', '0', '--processes', '2', '--templates', path.join(ROOT, 'templates')], {
    cwd: project,
    env: { ...process.env, NEWSLETTER_SECRET: 'bench-secret', MAILGUN_WEBHOOK_SIGNING_KEY: key, REDIS_URL: '' },
    stdio: ['ignore', fd, 'inherit'],
  });
  closeSync(fd);
  let port = null;
  for (let i = 0; i < 300 && port === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    port = Number(/ at http:\/\/127\.0\.0\.1:(\d+)\//.exec(readFileSync(logFile, 'utf8'))?.[1] ?? NaN) || null;
  }
  if (port === null) throw new Error(`serve did not start:\n${readFileSync(logFile, 'utf8')}`);
  try {
    const runs = [];
    for (let run = 0; run < 3; run++) {
      const out = spawnSync('wrk', ['-t2', '-c200', `-d${SECONDS}s`, '--latency', '-s', path.join(dir, 'post.lua'), `http://127.0.0.1:${port}/`, '--', path.join(dir, `bodies-${run}.txt`), '2'], { encoding: 'utf8' });
      const line = /^BENCH (.*)$/m.exec(out.stdout);
      if (!line) throw new Error(`wrk failed: ${out.stdout}${out.stderr}`);
      const r = JSON.parse(line[1]);
      runs.push({ medianMs: r.p50Us / 1000, p99Ms: r.p99Us / 1000, rps: r.requests / (r.durationUs / 1e6), non2xx: r.non2xx });
      console.log(`  run ${run + 1}: median ${runs[run].medianMs.toFixed(1)} ms, p99 ${runs[run].p99Ms.toFixed(1)} ms, ${Math.round(runs[run].rps)} requests/s, ${r.non2xx} not 2xx`);
    }
    return { medianMs: median(runs.map((r) => r.medianMs)), rps: median(runs.map((r) => r.rps)), non2xx: runs.reduce((n, r) => n + r.non2xx, 0) };
  } finally {
    child.kill('SIGINT');
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nl-bench-bounces-'));
// Dovecot's own users (when run as root) reach their Maildir through it.
chmodSync(dir, 0o711);
console.log(`bounces over IMAP: ${MESSAGES} reports in a local Dovecot Maildir, ${RUNS} runs`);
const passes = [];
for (let run = 0; run < RUNS; run++) {
  const pass = await imapPass(path.join(dir, `imap-${run}`));
  passes.push(pass);
  console.log(`  run ${run + 1}: ${Math.round(pass.rate)} messages/s (classifier alone ${Math.round(pass.classifyRate)}/s)`);
}
const rate = median(passes.map((p) => p.rate));
console.log(`  classifier alone: median ${Math.round(median(passes.map((p) => p.classifyRate)))} messages/s`);
console.log(`  bounces (fetch, classify, match, record, flag): median ${Math.round(rate)} messages/s (target >= 2,000) ${rate >= 2000 ? 'OK' : 'MISSED'}`);
console.log(`  ${JSON.stringify(passes[0].summary)}`);
// The same passes on the Redis store (`bounces --store redis://…`), when redis-server is here.
let redis = null;
try {
  redis = await startRedis();
} catch (error) {
  console.log(`  on the Redis store: not measured (${error.message})`);
}
if (redis) {
  try {
    const onRedis = [];
    for (let run = 0; run < RUNS; run++) {
      const pass = await imapPass(path.join(dir, `imap-redis-${run}`), redis.url);
      onRedis.push(pass.rate);
      // Both stores read the same reports: the counts must agree, or the figure measures something else.
      if (JSON.stringify(pass.summary) !== JSON.stringify(passes[0].summary)) console.log(`  on the Redis store, counts differ: ${JSON.stringify(pass.summary)}`);
    }
    const redisRate = median(onRedis);
    console.log(`  on the Redis store: ${onRedis.map((r) => Math.round(r)).join(', ')} messages/s, median ${Math.round(redisRate)} (target >= 2,000) ${redisRate >= 2000 ? 'OK' : 'MISSED'}`);
  } finally {
    await redis.stop();
  }
}
console.log(`webhooks: 200 connections, ${SECONDS} s x 3, Mailgun events signed, each a durable record`);
const hooks = await webhookLoad(dir);
const valid = hooks.non2xx === 0;
console.log(`  median ${hooks.medianMs.toFixed(1)} ms (target < 20 ms) ${!valid ? 'INVALID (answers other than 2xx; see above)' : hooks.medianMs < 20 ? 'OK' : 'MISSED'}, ${Math.round(hooks.rps)} requests/s, ${hooks.non2xx} not 2xx`);
