import type { Project } from '../pipeline.js';
import type { Issue } from '../content/types.js';
import type { RenderedIssue } from '../render/render-issue.js';

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
}

export interface CheckInput {
  project: Project;
  issue: Issue;
  rendered: RenderedIssue;
}

export interface CheckOptions {
  /** Run the axe-core audit in Chromium too. */
  a11y?: boolean;
}
