/**
 * How the bounce classifier does on real bounces we did not write: the set-of-emails collection of
 * the Sisimai project (hundreds of bounces as MTAs and providers really sent them), scored against
 * Sisimai's own expected results (its go-sisimai `fact/*_test.go` tables: per message, each
 * recipient's reason and whether Sisimai counts it a hard bounce). Nothing is copied into this
 * repository; fetch both and point this script at them:
 *
 *   git clone --depth 1 https://github.com/sisimai/set-of-emails /tmp/set-of-emails
 *   git clone --depth 1 https://github.com/sisimai/go-sisimai /tmp/go-sisimai
 *   npm run build:ts && node scripts/bounce-corpus-report.js /tmp/set-of-emails/maildir/bsd /tmp/go-sisimai/fact [--list]
 *
 * Reported: how many of the messages Sisimai reads as bounces we classify as bounces (the rest
 * are left in the mailbox as unknown, or ignored as delay notices: a delay is news, not a failure,
 * by our rules), complaints and delivery reports likewise, and how often our hard or soft agrees
 * with Sisimai's. Sisimai's "filtered" for a 5.1.1 "user unknown" (Japanese carriers answer so when
 * their domain filter refuses) is one we read as hard on purpose: the code and the words say so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [maildir, factDir] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const list = process.argv.includes('--list');
if (!maildir || !factDir) {
  console.error('usage: node scripts/bounce-corpus-report.js <set-of-emails/maildir/bsd> <go-sisimai/fact> [--list]');
  process.exit(64);
}
const { classifyMessage } = await import(path.join(ROOT, 'lib/bounces/classify.js'));

/** `{"01", 1, "5.1.1", "550", "userunknown", true, ""}` rows of each test's public list, by message file. */
function expectations() {
  const expected = new Map();
  for (const name of readdirSync(factDir)) {
    const engine = /^\d+-((?:lhost|rhost|rfc\d+|arf)[-\w]*)_test\.go$/.exec(name)?.[1];
    if (!engine) continue;
    const source = readFileSync(path.join(factDir, name), 'utf8');
    const publicList = source.split('publiclist')[1]?.split('EngineTest')[0] ?? '';
    for (const m of publicList.matchAll(/\{"(\d+)",\s*\d+,\s*"([^"]*)",\s*"[^"]*",\s*"([^"]*)",\s*(true|false),\s*"[^"]*"\}/g)) {
      const file = `${engine}-${m[1]}.eml`;
      if (!expected.has(file)) expected.set(file, []);
      expected.get(file).push({ status: m[2], reason: m[3], hard: m[4] === 'true' });
    }
  }
  return expected;
}

const expected = expectations();
const counts = { messages: 0, bounces: 0, bouncesFound: 0, unnamed: 0, delayNotices: 0, left: 0, complaints: 0, complaintsFound: 0, deliveries: 0, deliveriesFound: 0, vacations: 0, vacationsIgnored: 0, severityAgrees: 0, ourHardTheirSoft: 0, ourSoftTheirHard: 0 };
const notes = [];
for (const [file, wanted] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
  let raw;
  try {
    raw = readFileSync(path.join(maildir, file));
  } catch {
    continue;
  }
  counts.messages++;
  const report = await classifyMessage(raw);
  const reasons = new Set(wanted.map((w) => w.reason));
  const only = (reason) => reasons.size === 1 && reasons.has(reason);
  if (only('feedback')) {
    counts.complaints++;
    if (report.kind === 'complaint') counts.complaintsFound++;
    else notes.push(`${file}: a complaint, read as ${report.kind} (${report.form})`);
  } else if (only('delivered')) {
    counts.deliveries++;
    if (report.kind === 'delivered') counts.deliveriesFound++;
    else notes.push(`${file}: a delivery report, read as ${report.kind} (${report.form})`);
  } else if (only('vacation')) {
    counts.vacations++;
    if (report.kind === 'ignored') counts.vacationsIgnored++;
    else notes.push(`${file}: an auto-reply, read as ${report.kind} (${report.form})`);
  } else {
    counts.bounces++;
    if (report.kind !== 'bounce') {
      if (report.kind === 'ignored' && report.form.endsWith('-delayed')) counts.delayNotices++;
      else counts.left++;
      notes.push(`${file}: a bounce (${[...reasons].join(', ')}), read as ${report.kind} (${report.form})`);
      continue;
    }
    counts.bouncesFound++;
    // Read as a failure, but naming nobody: only a VERP tag or our quoted Message-ID can say whose.
    if (report.recipients.every((r) => !r.email)) counts.unnamed++;
    const theirHard = wanted.some((w) => w.hard);
    const ourHard = report.recipients.some((r) => r.severity === 'hard');
    if (theirHard === ourHard) counts.severityAgrees++;
    else {
      if (ourHard) counts.ourHardTheirSoft++;
      else counts.ourSoftTheirHard++;
      notes.push(`${file}: ${ourHard ? 'hard' : 'soft'} here, ${theirHard ? 'hard' : 'soft'} for Sisimai (${wanted.map((w) => `${w.reason} ${w.status}`).join(', ')}): ${report.recipients.map((r) => `${r.status} ${(r.diagnostic ?? '').replace(/\s+/g, ' ').slice(0, 120)}`).join(' | ')}`);
    }
  }
}

const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
console.log(`messages with Sisimai's expected results: ${counts.messages}`);
console.log(`bounces: ${counts.bouncesFound} of ${counts.bounces} read as bounces (${pct(counts.bouncesFound, counts.bounces)}; ${counts.unnamed} of them naming no recipient, for VERP or the quoted Message-ID to match); ${counts.delayNotices} read as delay notices (ignored by our rules), ${counts.left} left in the mailbox as unknown`);
console.log(`  hard or soft as Sisimai says: ${counts.severityAgrees} of ${counts.bouncesFound} (${pct(counts.severityAgrees, counts.bouncesFound)}); hard here and soft there: ${counts.ourHardTheirSoft}; soft here and hard there: ${counts.ourSoftTheirHard}`);
console.log(`complaints: ${counts.complaintsFound} of ${counts.complaints}; delivery reports: ${counts.deliveriesFound} of ${counts.deliveries}; auto-replies ignored: ${counts.vacationsIgnored} of ${counts.vacations}`);
if (list) for (const note of notes) console.log(`  ${note}`);
