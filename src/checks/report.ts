import { z } from 'zod';
import type { NewsletterError } from '../errors.js';
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

const sharedFindingSchema = findingSchema.extend({ issues: z.array(z.string().min(1)).min(1) });

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
  /**
   * Findings that come from a layout, a partial, the theme or MJML itself: once per template and
   * line, with the issues they affect, instead of once per issue. Counted in each of those issues.
   */
  shared: z.array(sharedFindingSchema),
});

export type CheckReport = z.infer<typeof checkReportSchema>;
export type IssueReport = z.infer<typeof issueReportSchema>;
export type Counts = z.infer<typeof countsSchema>;
export type SharedFinding = z.infer<typeof sharedFindingSchema>;

export function countFindings(findings: readonly Finding[]): Counts {
  const counts: Counts = { error: 0, warn: 0, info: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}

/** An issue that could not be loaded or rendered, as the one error-level finding of its report. */
export function failureFinding(error: NewsletterError): Finding {
  return { rule: 'issue/unreadable', severity: 'error', message: error.hint ? `${error.message} (${error.hint})` : error.message, file: error.file, line: error.line };
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}

function clean(finding: Finding): Finding {
  return Object.fromEntries(Object.entries(finding).filter(([, value]) => value !== undefined)) as unknown as Finding;
}

const identity = (f: Finding) => [f.rule, f.severity, f.message, f.file ?? '', f.line ?? '', f.client ?? ''].join('\u0000');

/**
 * Identical findings (same rule, severity, message, place and client) as one, with their counts
 * added: a partial included twice, or two articles with the same broken link on one line.
 */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const merged = new Map<string, { finding: Finding; seen: number }>();
  for (const finding of findings) {
    const key = identity(finding);
    const known = merged.get(key);
    if (known) {
      known.seen++;
      known.finding.count = (known.finding.count ?? 1) + (finding.count ?? 1);
    } else {
      merged.set(key, { finding: { ...finding }, seen: 1 });
    }
  }
  return [...merged.values()].map(({ finding, seen }) => (seen > 1 ? { ...finding, message: `${finding.message} (${seen} times)` } : finding));
}

export interface ReportOptions {
  /** The templates folder as findings name it (`templates`): findings there are reported once for all issues. */
  templates?: string | undefined;
  /** The config file as findings name it: its findings (`replyTo`, `unsubscribeUrl`) are the same for every issue too. */
  config?: string | undefined;
}

/** A finding every issue of the same templates would get: a template's place, or MJML's own markup. */
function isShared(finding: Finding, templates: string, config: string | undefined): boolean {
  if (!finding.file) return finding.rule === 'compat/mjml';
  if (config !== undefined && finding.file === config) return true;
  return finding.file === templates || finding.file.startsWith(`${templates}/`) || finding.file.startsWith(`${templates}\\`);
}

export function buildReport(issues: { slug: string; file: string; findings: readonly Finding[] }[], options: ReportOptions = {}): CheckReport {
  const templates = (options.templates ?? 'templates').replace(/[/\\]+$/, '');
  const shared = new Map<string, SharedFinding>();
  const reports = issues.map(({ slug, file, findings }) => {
    const all = dedupeFindings(findings);
    const own: Finding[] = [];
    for (const finding of all) {
      if (!isShared(finding, templates, options.config)) {
        own.push(finding);
        continue;
      }
      const key = identity(finding);
      const known = shared.get(key);
      if (known) known.issues.push(slug);
      else shared.set(key, { ...(clean(finding) as Finding), issues: [slug] });
    }
    return { issue: slug, file, ok: !hasErrors(all), counts: countFindings(all), findings: own.map(clean) };
  });
  const sharedList = [...shared.values()];
  const counts = countFindings([...reports.flatMap((r) => r.findings), ...sharedList]);
  return { version: 1, ok: reports.every((r) => r.ok), counts, issues: reports, shared: sharedList };
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

/**
 * One block per issue (a summary line that counts everything affecting it, then its own findings
 * grouped by severity as aligned columns), then one block for what comes from the templates.
 */
export function formatReport(report: CheckReport, options: FormatOptions = {}): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const tone: Record<FindingSeverity, string> = { error: '31;1', warn: '33;1', info: '36' };
  const lines: string[] = [];
  const table = (findings: readonly (Finding & { issues?: string[] })[]) => {
    for (const severity of ['error', 'warn', 'info'] as const) {
      const group = findings.filter((f) => f.severity === severity);
      if (group.length === 0) continue;
      lines.push('', `  ${paint(tone[severity], `${HEADINGS[severity]} (${group.length})`)}`);
      const ruleWidth = Math.max(...group.map((f) => f.rule.length));
      const whereWidth = Math.min(48, Math.max(...group.map((f) => location(f).length)));
      for (const finding of group) {
        const client = finding.client ? `[${finding.client}] ` : '';
        const only = finding.issues && finding.issues.length < report.issues.length ? ` [${finding.issues.join(', ')}]` : '';
        lines.push(`    ${finding.rule.padEnd(ruleWidth)}  ${location(finding).padEnd(whereWidth)}  ${client}${finding.message}${only}`);
      }
    }
  };
  for (const issue of report.issues) {
    const fromTemplates = report.shared.filter((f) => f.issues.includes(issue.issue)).length;
    const note = fromTemplates && issue.findings.length === 0 ? '; all from the templates, below' : fromTemplates ? `; ${fromTemplates} from the templates, below` : '';
    lines.push(`${paint('1', issue.issue)}  ${issue.file}  ${issue.ok ? paint('32', 'ok') : paint('31;1', 'FAILED')}  (${summarize(issue.counts)}${note})`);
    table(issue.findings);
    lines.push('');
  }
  if (report.shared.length) {
    const everyIssue = report.issues.length > 1 && report.shared.every((f) => f.issues.length === report.issues.length);
    lines.push(`${paint('1', 'templates')}  from layouts, partials, the theme, the config and MJML${everyIssue ? ', the same in every issue' : ''}  (${summarize(countFindings(report.shared))})`);
    table(report.shared);
    lines.push('');
  }
  if (report.issues.length > 1) lines.push(`${plural(report.issues.length, 'issue')}: ${summarize(report.counts)}`);
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}
