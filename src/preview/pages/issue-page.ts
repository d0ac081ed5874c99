import addressparser from 'nodemailer/lib/addressparser';
import { DEFAULTS, type Recipient } from '../../config/defaults.js';
import type { Finding } from '../../checks/types.js';
import type { RenderedIssue } from '../../render/render-issue.js';
import type { IssueState, PreviewSession } from '../preview-session.js';
import type { PreviewProblem } from '../problem.js';
import { formatDate, formatKb, formatTime, html, pageShell, raw, type Raw } from '../html.js';
import { problemBox } from './index-page.js';
import { hasDarkStyles } from '../email-views.js';

/**
 * One issue: the email in a frame, a toolbar of views, the inbox row and a side panel of facts and
 * findings. Parts marked `data-live` are swapped in place by the page script on every update.
 */

export const VIEWS = [
  { id: 'desktop', label: 'Desktop', title: 'The email in a 800 px reading pane' },
  { id: 'phone', label: 'Phone', title: 'The email at 375 px, an iPhone’s width' },
  { id: 'dark', label: 'Dark', title: 'The email in dark mode' },
  { id: 'text', label: 'Plain text', title: 'The text/plain part' },
  { id: 'html', label: 'HTML', title: 'The HTML source' },
  { id: 'mjml', label: 'MJML', title: 'The MJML the templates produced' },
  { id: 'headers', label: 'Headers', title: 'The message headers, as in the .eml of build' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export function isView(value: string | null): value is ViewId {
  return VIEWS.some((view) => view.id === value);
}

function recipientLabel(recipient: Recipient, index: number): string {
  const name = typeof recipient.name === 'string' && recipient.name ? `${recipient.name} <${recipient.email}>` : recipient.email;
  return index === 0 ? `${name} (sample recipient)` : name;
}

function senderName(from: string): string {
  const first = addressparser(from, { flatten: true })[0];
  return first?.name || first?.address || from;
}

/** What an inbox shows: sender, subject, and the preheader (or the first words when there is none). */
function inboxRow(session: PreviewSession, rendered: RenderedIssue | null, date: string | null): Raw {
  const from = session.config?.from ?? DEFAULTS.config.from;
  const sender = senderName(from);
  const locale = session.config?.locale ?? DEFAULTS.config.locale;
  const preheader = rendered?.preheader ?? null;
  const fallback = rendered ? rendered.text.replace(/\s+/g, ' ').trim().slice(0, 110) : '';
  return html`<section id="inbox" class="inbox" data-live aria-label="As an inbox shows it">
  <span class="inbox-avatar" aria-hidden="true">${sender.slice(0, 1).toUpperCase()}</span>
  <div class="inbox-lines">
    <div class="inbox-top"><span class="inbox-from" data-field="from">${sender}</span><span class="inbox-date">${formatDate(date, locale)}</span></div>
    <div class="inbox-subject" data-field="subject">${rendered?.subject ?? ''}</div>
    ${preheader
      ? html`<div class="inbox-preheader" data-field="preheader">${preheader}</div>`
      : html`<div class="inbox-preheader inbox-fallback" data-field="preheader" title="No preheader: inboxes show the first words of the email">${fallback}</div>`}
  </div>
</section>`;
}

function findingList(rendered: RenderedIssue | null, findings: readonly Finding[]): Raw {
  const items = [
    ...findings.map((f) => ({
      severity: f.severity,
      rule: f.client ? `${f.rule} · ${f.client}` : f.rule,
      message: f.message,
      where: f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '',
    })),
  ];
  if (!items.length) return html`<p class="muted" data-field="no-findings">No warnings.</p>`;
  return html`<ul class="findings">${items.map(
    (item) => html`<li class="finding finding-${item.severity}" data-rule="${item.rule}">
      <span class="finding-rule">${item.rule}</span>
      <span class="finding-message">${item.message}</span>
      ${item.where ? html`<code class="finding-where">${item.where}</code>` : ''}
    </li>`,
  )}</ul>`;
}

function findingSummary(rendered: RenderedIssue | null, findings: readonly Finding[]): string {
  const count = (severity: string) => findings.filter((f) => f.severity === severity).length;
  const parts = [
    [count('error'), 'error'],
    [count('warn'), 'warning'],
    [count('info'), 'note'],
  ]
    .filter(([n]) => n)
    .map(([n, label]) => `${n} ${label}${n === 1 ? '' : 's'}`);
  return parts.length ? ` · ${parts.join(', ')}` : '';
}

function factsPanel(session: PreviewSession, state: IssueState, rendered: RenderedIssue | null, checksWired: boolean): Raw {
  const good = state.good;
  const bytes = rendered ? Buffer.byteLength(rendered.html) : 0;
  return html`<aside id="facts" class="facts" data-live>
  <section class="panel">
    <h2>Render</h2>
    ${good
      ? html`<p data-field="rendered-at">Rendered ${formatTime(good.renderedAt)} in ${Math.round(good.renderMs)} ms</p>`
      : html`<p class="muted">Not rendered yet.</p>`}
    ${rendered
      ? html`<dl class="facts-list">
      <dt>Layout</dt><dd>${rendered.layout}</dd>
      <dt>HTML</dt><dd class="${bytes > DEFAULTS.gmailClipBytes ? 'over' : ''}">${formatKb(bytes)} <span class="muted">(Gmail clips at 102 KB)</span></dd>
      <dt>Text</dt><dd>${formatKb(Buffer.byteLength(rendered.text))}</dd>
      <dt>To</dt><dd>${recipientLabel(rendered.recipient, 1)}</dd>
    </dl>`
      : ''}
  </section>
  ${good
    ? html`<section class="panel">
    <h2>Articles</h2>
    <ol class="articles">${good.issue.articles.map((article) => html`<li><span class="article-title">${article.title}</span><code>${article.file}</code></li>`)}</ol>
    <p class="muted"><code>${good.issue.file}</code></p>
  </section>`
    : ''}
  <section class="panel" id="findings-panel">
    <h2>${checksWired ? 'Checks' : 'Warnings'}${findingSummary(rendered, state.findings)}</h2>
    ${findingList(rendered, state.findings)}
  </section>
</aside>`;
}

/** Shown under the dark view: which kind of dark mode it is, since clients differ. */
function darkNote(rendered: RenderedIssue | null): Raw {
  const native = rendered ? hasDarkStyles(rendered.html) : false;
  const text = native
    ? 'Dark mode with the theme’s own dark colours (prefers-color-scheme), as Apple Mail, iOS Mail and Outlook for Mac show it. Gmail ignores them and shows the light version.'
    : 'This email has no dark styles: shown colour-inverted, as the Gmail and Outlook apps show such emails in dark mode (Apple Mail keeps it light).';
  return html`<p class="dark-note" id="dark-note" data-live data-mode="${native ? 'native' : 'inverted'}">${text}</p>`;
}

export interface IssuePageInput {
  session: PreviewSession;
  state: IssueState;
  view: ViewId;
  recipientIndex: number;
  /** The render for the picked recipient (the sample recipient's is the cached one). */
  copy: { rendered: RenderedIssue } | { problem: PreviewProblem } | null;
  checksWired: boolean;
}

export function issuePage({ session, state, view, recipientIndex, copy, checksWired }: IssuePageInput): string {
  const name = session.config?.name ?? 'Newsletter';
  const rendered = copy && 'rendered' in copy ? copy.rendered : null;
  const problem = session.problemFor(state) ?? (copy && 'problem' in copy ? copy.problem : null);
  const good = state.good;
  const note = good ? `Showing the last good render, from ${formatTime(good.renderedAt)}. Saving a fixed file clears this.` : 'Nothing rendered yet. Saving a fixed file renders it.';
  const recipients = session.recipients();
  const emailVersion = good?.version ?? 0;
  const body = html`<header class="topbar">
  <a class="back" href="/">← All issues</a>
  <span class="brand">${name}</span><span class="topbar-sub">${state.slug}</span>
  <span class="live" id="live" aria-live="polite">connecting…</span>
</header>
${inboxRow(session, rendered ?? good?.rendered ?? null, good?.issue.date ?? null)}
<nav class="toolbar" aria-label="Views">
  <div class="views" role="group">${VIEWS.map(
    (v) => html`<button type="button" data-view="${v.id}" title="${v.title}" aria-pressed="${v.id === view ? 'true' : 'false'}">${v.label}</button>`,
  )}</div>
  <label class="picker">Recipient
    <select id="recipient" ${recipients.length < 2 ? raw('title="Start the preview with --list FILE to pick rows of a list"') : ''}>${recipients.map(
      (recipient, index) => html`<option value="${index}" ${index === recipientIndex ? raw('selected') : ''}>${recipientLabel(recipient, index)}</option>`,
    )}</select>
  </label>
</nav>
<div class="workspace">
  <section class="stage" id="stage" data-view="${view}">
    ${problem ? problemBox(problem, note) : html`<div id="problem" data-live hidden></div>`}
    <div class="frame-box" id="frame-box">
      <iframe class="email-frame" title="The email" sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox" src="about:blank"></iframe>
    </div>
    <pre class="source" id="source" hidden></pre>
    ${darkNote(rendered ?? good?.rendered ?? null)}
  </section>
  ${factsPanel(session, state, rendered ?? good?.rendered ?? null, checksWired)}
</div>`;
  return pageShell({
    title: `${good?.issue.subject ?? state.slug} · preview`,
    page: 'issue',
    attributes: { slug: state.slug, version: session.version, 'email-version': emailVersion, recipient: recipientIndex },
    body,
  });
}
