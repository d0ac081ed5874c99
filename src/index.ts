/** The library API: every stage's entry point and its types. The CLI is built on nothing else. */
export { NewsletterError, ERROR_CODES, isNewsletterError, type ErrorCode } from './errors.js';
export { DEFAULTS, type ResolvedConfig, type Recipient, type Theme } from './config/defaults.js';
export { loadConfig, type ConfigRequest } from './config/load-config.js';
export { loadArticle, parseMarkdownArticle, parseWireCopy } from './content/load-article.js';
export { loadIssue, listIssues } from './content/load-issue.js';
export type { Article, Issue } from './content/types.js';
export { loadTemplates, type TemplateSet } from './render/templates.js';
export { renderIssue, type RenderedIssue, type RenderOptions, type RenderWarning } from './render/render-issue.js';
export { composeMessage, mailOptions, messageIdFor, type MessageInput } from './render/message.js';
export type { TemplateContext, ArticleView } from './render/context.js';
export { loadProject, buildIssue, renderProjectIssue, selectIssues, type Project, type BuiltIssue } from './pipeline.js';
export { findChromium, launchChromium, CHROMIUM_ARGS } from './browser.js';
export { startPreviewServer, type PreviewServer, type PreviewServerOptions } from './preview/preview-server.js';
export { PreviewSession, type PreviewUpdate, type IssueState } from './preview/preview-session.js';
export { takeScreenshots, type Screenshot, type ScreenshotRequest } from './preview/screenshot.js';
export { runChecks, checkProjectIssue, describeRules, buildReport, formatReport, checkReportSchema, countFindings, hasErrors, RULES, RULE_IDS } from './checks/index.js';
export type { Finding, FindingSeverity, CheckInput, CheckOptions, Rule, CheckReport, IssueReport } from './checks/index.js';
