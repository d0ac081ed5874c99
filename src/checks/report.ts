import { z } from 'zod';
import type { Finding, FindingSeverity } from './types.js';

/** What `newsletter check` prints: a JSON document for CI (`--json`), or a table grouped by severity. */

const severitySchema = z.enum(['error', 'warn', 'info']);

export const findingSchema = z.strictObject({
  rule: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/),
  severity: severitySchema,
  message: z.string().min(1),
  file: z.string().min(1).optional(),
  line: z.number().int().positive().optional(),
  client: z.string().min(1).optional(),
  count: z.number().int().positive().optional(),
});

const countsSchema = z.strictObject({ error: z.number().int().min(0), warn: z.number().int().min(0), info: z.number().int().min(0) });

export const issueReportSchema = z.strictObject({
  issue: z.string().min(1),
  file: z.string().min(1),
  ok: z.boolean(),
  counts: countsSchema,
  findings: z.array(findingSchema),
});

/** The `--json` document. `ok` is false exactly when some finding is an error (exit code 1). */
export const checkReportSchema = z.strictObject({
  version: z.literal(1),
  ok: z.boolean(),
  counts: countsSchema,
  issues: z.array(issueReportSchema),
});

export type CheckReport = z.infer<typeof checkReportSchema>;
export type IssueReport = z.infer<typeof issueReportSchema>;
export type Counts = z.infer<typeof countsSchema>;

export function countFindings(findings: readonly Finding[]): Counts {
  const counts: Counts = { error: 0, warn: 0, info: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}

function clean(finding: Finding): Finding {
  return Object.fromEntries(Object.entries(finding).filter(([, value]) => value !== undefined)) as unknown as Finding;
}

export function buildReport(issues: { slug: string; file: string; findings: readonly Finding[] }[]): CheckReport {
  const reports = issues.map(({ slug, file, findings }) => ({
    issue: slug,
    file,
    ok: !hasErrors(findings),
    counts: countFindings(findings),
    findings: findings.map(clean),
  }));
  const counts: Counts = { error: 0, warn: 0, info: 0 };
  for (const report of reports) for (const key of ['error', 'warn', 'info'] as const) counts[key] += report.counts[key];
  return { version: 1, ok: reports.every((r) => r.ok), counts, issues: reports };
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function summarize(counts: Counts): string {
  return `${plural(counts.error, 'error')}, ${plural(counts.warn, 'warning')}, ${plural(counts.info, 'note')}`;
}

const HEADINGS: Record<FindingSeverity, string> = { error: 'Errors', warn: 'Warnings', info: 'Notes' };

export interface FormatOptions {
  /** ANSI colours for a terminal. */
  color?: boolean;
}

function location(finding: Finding): string {
  if (!finding.file) return '-';
  return finding.line ? `${finding.file}:${finding.line}` : finding.file;
}

/** One block per issue: a summary line, then findings grouped by severity as aligned columns. */
export function formatReport(report: CheckReport, options: FormatOptions = {}): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const tone: Record<FindingSeverity, string> = { error: '31;1', warn: '33;1', info: '36' };
  const lines: string[] = [];
  for (const issue of report.issues) {
    lines.push(`${paint('1', issue.issue)}  ${issue.file}  ${issue.ok ? paint('32', 'ok') : paint('31;1', 'FAILED')}  (${summarize(issue.counts)})`);
    for (const severity of ['error', 'warn', 'info'] as const) {
      const group = issue.findings.filter((f) => f.severity === severity);
      if (group.length === 0) continue;
      lines.push('', `  ${paint(tone[severity], `${HEADINGS[severity]} (${group.length})`)}`);
      const ruleWidth = Math.max(...group.map((f) => f.rule.length));
      const whereWidth = Math.min(48, Math.max(...group.map((f) => location(f).length)));
      for (const finding of group) {
        const client = finding.client ? `[${finding.client}] ` : '';
        lines.push(`    ${finding.rule.padEnd(ruleWidth)}  ${location(finding).padEnd(whereWidth)}  ${client}${finding.message}`);
      }
    }
    lines.push('');
  }
  if (report.issues.length > 1) lines.push(`${plural(report.issues.length, 'issue')}: ${summarize(report.counts)}`);
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}
