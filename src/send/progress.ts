import type { SendPlan, SendResult } from './send-issue.js';

/**
 * The words of `send`'s output, as strings: the plan shown before sending, the progress line, the
 * summary. The CLI decides where and how often they are printed.
 */

const number = new Intl.NumberFormat('en-GB');

export function formatCount(n: number): string {
  return number.format(n);
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

/** An address as printed: control characters (a row's CR/LF) shown escaped, never as line breaks. */
export function shownAddress(email: string): string {
  if (!email) return '(no address)';
  return /[\x00-\x1f\x7f]/.test(email) ? JSON.stringify(email) : email;
}

function skippedParts(plan: SendPlan): string {
  const c = plan.counts;
  const parts = [`${formatCount(c.invalid)} invalid`, `${formatCount(c.duplicate)} duplicate`, `${formatCount(c.suppressed)} suppressed`, `${formatCount(c.alreadySent)} already sent`];
  return parts.join(', ');
}

/** `2 unsubscribed, 1 bounced`: the suppressed rows by reason, most first; empty when there are none. */
export function formatReasons(by: Readonly<Record<string, number>>): string {
  return Object.entries(by)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([reason, n]) => `${formatCount(n)} ${reason}`)
    .join(', ');
}

export function formatPlan(plan: SendPlan): string[] {
  const lines = [`issue:      ${plan.issueSlug} — ${plan.subject}`, `transport:  ${plan.transport}`];
  if (plan.testTo) lines.push(`recipient:  ${plan.testTo} (test message: no journal, no suppressions)`);
  else {
    const c = plan.counts;
    lines.push(`list:       ${plan.list}: ${formatCount(c.rows)} rows → ${formatCount(c.toSend)} to send (${skippedParts(plan)})`);
    if (c.padded) lines.push(`            ${formatCount(c.padded)} of them with trailing fields left out, read as empty values`);
    if (c.suppressed) lines.push(`suppressed: ${formatReasons(c.suppressedBy)}`);
    lines.push(`journal:    ${plan.journal}${plan.restart ? ' (starting over: kept as a backup, every recipient is sent again)' : ''}`);
    if (plan.outboxCopies) lines.push(`outbox:     ${formatCount(plan.outboxCopies)} earlier cop${plan.outboxCopies === 1 ? 'y' : 'ies'} written to the outbox (not counted as sent: nobody received them)`);
  }
  if (plan.personalization === 'render') lines.push(`note:       each copy is rendered on its own: ${plan.fallbackReason}`);
  return lines;
}

/** What a delivery is called: an outbox copy is written, not sent. */
export function deliveredWord(plan: SendPlan): string {
  return plan.destination.kind === 'outbox' ? 'written to outbox' : 'sent';
}

export function formatSkipped(plan: SendPlan, dryRun = false): string[] {
  const c = plan.counts;
  const skipped = c.invalid + c.duplicate + c.suppressed;
  if (!skipped) return [];
  const lines = ['skipped:'];
  for (const example of c.examples) lines.push(`  ${plan.list}:${example.line}  ${shownAddress(example.email)}  ${example.reason}`);
  const where = dryRun ? 'a real run records each in the journal' : plan.journal ? 'each is in the journal' : 'not journaled';
  if (skipped > c.examples.length) lines.push(`  … and ${formatCount(skipped - c.examples.length)} more (${where})`);
  return lines;
}

export interface ProgressState {
  /** `sent`, or `written` for an outbox run. */
  word?: string | undefined;
  done: number;
  sent: number;
  failed: number;
  total: number;
  elapsedMs: number;
}

function rateAndEta(state: ProgressState): { rate: number; eta: string } {
  const rate = state.elapsedMs > 0 ? (state.done * 1000) / state.elapsedMs : 0;
  const eta = rate > 0 ? formatDuration(((state.total - state.done) / rate) * 1000) : '?';
  return { rate, eta };
}

/** One line for a terminal, redrawn in place: a bar, counts, rate and ETA. */
export function formatProgressBar(state: ProgressState, width = 24): string {
  const fraction = state.total ? Math.min(1, state.done / state.total) : 1;
  const filled = Math.round(fraction * width);
  const { rate, eta } = rateAndEta(state);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}%  ${formatCount(state.done)}/${formatCount(state.total)}  ${state.word ?? 'sent'} ${formatCount(state.sent)}  failed ${formatCount(state.failed)}  ${formatCount(Math.round(rate))}/s  ETA ${eta}`;
}

/** The same as a log line, for output that is not a terminal. */
export function formatProgressLine(state: ProgressState): string {
  const { rate, eta } = rateAndEta(state);
  return `progress: ${formatCount(state.done)}/${formatCount(state.total)} done, ${state.word ?? 'sent'} ${formatCount(state.sent)}, failed ${formatCount(state.failed)} (${formatCount(Math.round(rate))}/s, ETA ${eta})`;
}

/**
 * What became of every row: sent + failed + skipped = rows, always. Skipped holds the rows the plan
 * skipped (invalid, duplicate, suppressed, already sent), those suppressed while the send ran, and
 * those it never reached (stopped or interrupted: the same command sends them).
 */
export function summaryCounts(result: SendResult): { rows: number; skipped: number; late: number; notTried: number } {
  const c = result.plan.counts;
  const late = result.suppressedLate ?? 0;
  const notTried = Math.max(0, c.toSend - result.sent - result.failedCount - late);
  return { rows: c.rows, skipped: c.invalid + c.duplicate + c.suppressed + c.alreadySent + late + notTried, late, notTried };
}

export function formatSummary(result: SendResult): string[] {
  const c = result.plan.counts;
  const { rows, skipped, late, notTried } = summaryCounts(result);
  const extra = [late ? `${formatCount(late)} suppressed during the send` : '', notTried ? `${formatCount(notTried)} not tried (the send stopped before them; the same command sends them)` : ''].filter(Boolean);
  const lines = [
    `${result.interrupted ? 'interrupted: ' : ''}${deliveredWord(result.plan)} ${formatCount(result.sent)}, failed ${formatCount(result.failedCount)}, skipped ${formatCount(skipped)} of ${formatCount(rows)} rows (${[skippedParts(result.plan), ...extra].join(', ')}) in ${formatDuration(result.durationMs)}`,
  ];
  if (c.suppressed) lines.push(`suppressed: ${formatReasons(c.suppressedBy)}${late ? `, ${formatCount(late)} during the send` : ''}`);
  if (result.unrecorded) {
    lines.push(
      `not recorded: ${formatCount(result.unrecorded)} of those ${formatCount(result.sent)} were delivered but the journal could not record them; a rerun sends them again (fix the journal's disk first)`,
    );
  }
  if (result.failedCount) {
    lines.push('failed:');
    const where = result.plan.list ?? 'test';
    for (const f of result.failed) {
      const kind = f.status === 'failed-permanent' ? 'permanent' : `temporary, gave up after ${f.attempts} attempts`;
      lines.push(`  ${where}:${f.line}  ${shownAddress(f.email)}  ${f.reason} (${kind})`);
    }
    if (result.failedCount > result.failed.length) lines.push(`  … and ${formatCount(result.failedCount - result.failed.length)} more (each is in the journal)`);
  }
  return lines;
}
