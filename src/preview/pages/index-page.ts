import { DEFAULTS } from '../../config/defaults.js';
import type { PreviewSession, IssueState } from '../preview-session.js';
import type { PreviewProblem } from '../problem.js';
import { formatDate, formatKb, html, pageShell, type Raw } from '../html.js';
import type { Finding } from '../../checks/types.js';
import { countFindings, plural } from '../../checks/report.js';

/** The list of issues: what an editor scans to see which issue is ready and which is broken. */

export function problemBox(problem: PreviewProblem, note: string, id = 'problem'): Raw {
  return html`<div id="${id}" class="problem" role="alert" data-live data-code="${problem.code}">
  <div class="problem-head"><span class="problem-code">${problem.code}</span>${problem.location ? html`<span class="problem-where">${problem.location}</span>` : ''}</div>
  <p class="problem-message">${problem.message}</p>
  ${problem.hint ? html`<p class="problem-hint">${problem.hint}</p>` : ''}
  <p class="problem-note">${note}</p>
</div>`;
}

function statusCell(session: PreviewSession, state: IssueState, findings: readonly Finding[]): Raw {
  const problem = session.problemFor(state);
  if (problem) {
    return html`<span class="badge badge-error" title="${problem.formatted}">error</span>
      <div class="row-problem">${problem.location ? html`<code>${problem.location}</code> ` : ''}${problem.message}</div>`;
  }
  // Counts per severity and the first error only: the full list is on the issue page, and the
  // same template findings repeated under every issue buried the one that mattered.
  const counts = countFindings(findings);
  const firstError = findings.find((f) => f.severity === 'error');
  const badges = [
    counts.error ? html`<span class="badge badge-error" data-severity="error">${plural(counts.error, 'error')}</span>` : '',
    counts.warn ? html`<span class="badge badge-warn" data-severity="warn">${plural(counts.warn, 'warning')}</span>` : '',
    counts.error || counts.warn ? '' : html`<span class="badge badge-ok">ok</span>`,
    counts.info ? html`<span class="badge badge-note" data-severity="info">${plural(counts.info, 'note')}</span>` : '',
  ];
  const where = firstError?.file ? (firstError.line ? `${firstError.file}:${firstError.line}` : firstError.file) : '';
  return html`${badges}
    ${firstError ? html`<div class="row-problem row-first-error">${where ? html`<code>${where}</code> ` : ''}${firstError.rule}: ${firstError.message}</div>` : ''}`;
}

function issueRow(session: PreviewSession, state: IssueState, findings: readonly Finding[]): Raw {
  const good = state.good;
  const locale = session.config?.locale ?? DEFAULTS.config.locale;
  const bytes = good ? Buffer.byteLength(good.rendered.html) : null;
  const clipped = bytes !== null && bytes > DEFAULTS.gmailClipBytes;
  const href = `/issues/${encodeURIComponent(state.slug)}/`;
  return html`<li class="issue-row" data-slug="${state.slug}">
  <a class="issue-link" href="${href}">
    <span class="issue-slug">${state.slug}</span>
    <span class="issue-subject" data-field="subject">${good?.issue.subject ?? '(not rendered yet)'}</span>
    ${good?.issue.preheader ? html`<span class="issue-preheader" data-field="preheader">${good.issue.preheader}</span>` : ''}
  </a>
  <dl class="issue-facts">
    <div><dt>Date</dt><dd data-field="date">${formatDate(good?.issue.date ?? null, locale) || '—'}</dd></div>
    <div><dt>Articles</dt><dd data-field="articles">${good ? good.issue.articles.length : '—'}</dd></div>
    <div><dt>HTML</dt><dd data-field="html-size" class="${clipped ? 'over' : ''}">${bytes === null ? '—' : formatKb(bytes)}</dd></div>
  </dl>
  <div class="issue-status" data-field="status">${statusCell(session, state, findings)}</div>
</li>`;
}

export function indexPage(session: PreviewSession, findingsFor: (slug: string) => readonly Finding[]): string {
  const name = session.config?.name ?? 'Newsletter';
  const issues = session.issues();
  const projectProblem = session.projectProblem ?? session.contentProblem;
  const body = html`<header class="topbar">
  <span class="brand">${name}</span><span class="topbar-sub">Preview</span>
  <span class="live" id="live" aria-live="polite">connecting…</span>
</header>
<main id="main" class="index" data-live data-version="${session.version}">
  ${projectProblem ? problemBox(projectProblem, 'Issues show their last good render until this is fixed.', 'project-problem') : ''}
  <h1 class="index-title">${issues.length} issue${issues.length === 1 ? '' : 's'}</h1>
  ${issues.length
    ? html`<ul class="issue-list">${issues.map((state) => issueRow(session, state, findingsFor(state.slug)))}</ul>`
    : html`<p class="empty">No issues yet: add a Markdown file under <code>${session.paths.content}/issues/</code>.</p>`}
</main>`;
  return pageShell({ title: `${name} · preview`, page: 'index', attributes: { version: session.version }, body });
}
