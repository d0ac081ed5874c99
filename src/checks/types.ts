import type { Browser } from 'playwright-core';
import type { Project } from '../project.js';
import type { Issue } from '../content/types.js';
import type { RenderedIssue } from '../render/render-issue.js';
import type { CheckContext } from './context.js';

/** What `newsletter check` reports: one finding per problem, with where it comes from. */
export type FindingSeverity = 'error' | 'warn' | 'info';

export interface Finding {
  /** Stable rule id, e.g. `size/gmail-clip`, `links/http`; severities are configured per rule id. */
  rule: string;
  severity: FindingSeverity;
  /** What is wrong and what to do about it. */
  message: string;
  /** Content or template file (as displayed, relative to the working directory) and line, when known. */
  file?: string | undefined;
  line?: number | undefined;
  /** For client-compatibility findings: the email client concerned. */
  client?: string | undefined;
  /** How many places of the email the finding stands for, when it groups several (e.g. 12 uses of a CSS property). */
  count?: number | undefined;
}

export interface CheckInput {
  project: Project;
  issue: Issue;
  rendered: RenderedIssue;
  /**
   * The composed message for `rendered.recipient`, when the caller already has it (`build` does);
   * composed here otherwise.
   */
  message?: Buffer | undefined;
}

export interface CheckOptions {
  /** Run the axe-core audit in Chromium too. */
  a11y?: boolean;
  /** Where CHROMIUM_PATH is read for the audit; process.env when absent. */
  env?: NodeJS.ProcessEnv | undefined;
  /** A running Chromium to audit in (checking several issues, or the preview's); one is started otherwise. */
  browser?: Browser | undefined;
}

/** A rule's level before the config has its say; `info` rules only inform and never fail a check. */
export type RuleSeverity = FindingSeverity | 'off';

/** What a rule reports: a finding without its rule id and severity, which runChecks adds. */
export type Problem = Omit<Finding, 'rule' | 'severity'>;

export interface Rule {
  /** `<area>/<name>`, the key in `checks.rules` of the config. */
  id: string;
  /** One line for `newsletter check --list-rules` and the docs. */
  description: string;
  defaultSeverity: RuleSeverity;
  /** Pure: reads the prepared context, returns problems; never throws for a bad email. */
  check(context: CheckContext): Problem[];
}
