import type { Mjml2Html } from '../render/mjml.js';
import type { ResolvedConfig } from '../config/defaults.js';
import { NewsletterError } from '../errors.js';
import { renderProjectIssue, type Project } from '../project.js';
import { runAxeAudit } from './axe-audit.js';
import { runOverflowAudit } from './overflow.js';
import { loadCaniemail, unknownClients } from './caniemail.js';
import { prepareContext } from './context.js';
import { BODY_RULE_IDS, hiddenBodies } from './article-bodies.js';
import { AUDIT_RULES, RULES } from './rules/index.js';
import { configPlace, resolveSeverities } from './severity.js';
import type { CheckInput, CheckOptions, Finding, FindingSeverity, Rule } from './types.js';
import { dedupeFindings } from './report.js';

/**
 * `newsletter check`: the rules of rules/index.ts, in that order, over one rendered issue. The
 * rendered HTML is parsed once and the message composed once (prepareContext); each rule is a pure
 * function of that context. Severities come from the rule table, overridden by `checks.rules`.
 */

export async function runChecks(input: CheckInput, options: CheckOptions = {}): Promise<Finding[]> {
  const { config } = input.project;
  const severities = await resolveSeverities(config);
  const enabled = RULES.filter((rule) => severities.get(rule.id) !== 'off');
  const caniemail = enabled.some((rule) => rule.id.startsWith('compat/')) ? await loadCaniemail() : null;
  if (caniemail) {
    const unknown = unknownClients(caniemail, config.checks.clients);
    if (unknown.length) {
      throw new NewsletterError('CONFIG_INVALID', `\`checks.clients\`: unknown email client${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `\`${c}\``).join(', ')}`, {
        ...(await configPlace(config, ['checks', 'clients'])),
        hint: 'use caniemail names: gmail, outlook, apple-mail, yahoo, aol, samsung-email, thunderbird, protonmail, fastmail, hey… or one platform such as `outlook.windows`',
      });
    }
  }
  const context = await prepareContext(input, { caniemail, env: options.env ?? process.env });
  const findings: Finding[] = [];
  for (const rule of enabled) {
    const severity = severities.get(rule.id) as FindingSeverity;
    const problems = runRule(rule, context);
    if ('crashed' in problems) findings.push({ rule: rule.id, severity: 'info', message: problems.crashed });
    else for (const problem of problems) findings.push({ rule: rule.id, severity, ...problem });
  }
  // Bodies the email shows as cards are read by the same link and image rules (article-bodies.ts).
  for (const { article, context: body } of await hiddenBodies(context)) {
    for (const rule of enabled.filter((r) => BODY_RULE_IDS.has(r.id))) {
      const problems = runRule(rule, body);
      if ('crashed' in problems) continue; // said once already, for the email itself
      const where = ` (in the body of "${article.title}", which the email shows as a card)`;
      for (const problem of problems) findings.push({ rule: rule.id, severity: severities.get(rule.id) as FindingSeverity, ...problem, message: `${problem.message}${where}` });
    }
  }
  if (options.a11y) {
    const major = severities.get('a11y/axe')!;
    const minor = severities.get('a11y/axe-minor')!;
    if (major !== 'off' || minor !== 'off') {
      for (const { major: isMajor, ...problem } of await runAxeAudit(input.rendered.html, context.locate, options.env ?? process.env, options.browser)) {
        const severity = isMajor ? major : minor;
        if (severity !== 'off') findings.push({ rule: isMajor ? 'a11y/axe' : 'a11y/axe-minor', severity, ...problem });
      }
    }
    const overflow = severities.get('layout/overflow')!;
    if (overflow !== 'off') {
      for (const problem of await runOverflowAudit(input.rendered.html, context.locate, options.env ?? process.env, options.browser)) {
        findings.push({ rule: 'layout/overflow', severity: overflow, ...problem });
      }
    }
  }
  return dedupeFindings(findings);
}

/**
 * A rule that crashes on an email it did not expect never fails a build: its finding becomes a
 * note saying it could not run, and the other rules still speak.
 */
function runRule(rule: Rule, context: Parameters<Rule['check']>[0]): ReturnType<Rule['check']> | { crashed: string } {
  try {
    return rule.check(context);
  } catch (error) {
    const why = (error as Error)?.message?.split('\n')[0] ?? String(error);
    return { crashed: `rule ${rule.id} could not run: ${why} (a bug; turn it off in \`checks.rules\` to hide this note, and report it)` };
  }
}

/** Renders one issue of a project (sample recipient) and checks it. */
export async function checkProjectIssue(project: Project, slug: string, options: CheckOptions & { secret?: string | undefined; compiler?: Mjml2Html | undefined } = {}) {
  const { issue, rendered } = await renderProjectIssue(project, slug, options.secret, options.compiler);
  return { issue, rendered, findings: await runChecks({ project, issue, rendered }, options) };
}

export interface RuleDescription {
  id: string;
  description: string;
  defaultSeverity: string;
  /** After `checks.rules` of the config. */
  severity: string;
}

export async function describeRules(config: ResolvedConfig): Promise<RuleDescription[]> {
  const severities = await resolveSeverities(config);
  return [...RULES, ...AUDIT_RULES].map((rule) => ({
    id: rule.id,
    description: rule.description,
    defaultSeverity: rule.defaultSeverity,
    severity: severities.get(rule.id)!,
  }));
}

export { RULES, AUDIT_RULES, RULE_IDS } from './rules/index.js';
export { countFindings, hasErrors, checkReportSchema, buildReport, formatReport, dedupeFindings, type CheckReport, type IssueReport, type SharedFinding, type ReportOptions } from './report.js';
export type { Finding, FindingSeverity, CheckInput, CheckOptions, Rule } from './types.js';
