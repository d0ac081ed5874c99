import { performance } from 'node:perf_hooks';
import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import type { ConfigRequest } from '../config/load-config.js';
import type { Issue } from '../content/types.js';
import { listIssues } from '../content/load-issue.js';
import { loadProject, renderProjectIssue, type Project } from '../project.js';
import { renderIssue, type RenderedIssue } from '../render/render-issue.js';
import { PREVIEW_SECRET } from '../render/links.js';
import { planChanges, requestPaths, type WatchedPaths } from './change-plan.js';
import { DebouncedQueue } from './debounced-queue.js';
import { toProblem, type PreviewProblem } from './problem.js';
import type { CheckInput, Finding } from '../checks/types.js';

/**
 * What the preview shows, kept up to date as files change: the loaded project and, per issue, the
 * last good render plus the current problem. A broken file never throws out of here; it becomes a
 * problem shown over the last good render until the next good save clears it.
 */

export interface GoodRender {
  issue: Issue;
  rendered: RenderedIssue;
  renderedAt: Date;
  renderMs: number;
  /** Session version at which this render was made; pages reload the email when it changes. */
  version: number;
}

export interface IssueState {
  slug: string;
  good: GoodRender | null;
  problem: PreviewProblem | null;
  /** Articles the issue listed when it last loaded: a change to one of them re-renders it. */
  articles: Set<string>;
  /** Findings of the checks on the last good render (empty when no checker is wired). */
  findings: Finding[];
  /** Version of the good render `findings` belong to; null until the checks first ran. */
  checkedVersion: number | null;
  version: number;
}

export interface PreviewUpdate {
  /** `render`: files changed and issues were re-rendered; `checks`: new findings for a render. */
  kind: 'render' | 'checks';
  version: number;
  /** Issues whose render or problem changed. */
  slugs: string[];
  /** Issues were added or removed. */
  listChanged: boolean;
  /** Config or templates were reloaded (or failed to). */
  project: boolean;
  /** Version of the last good render of each issue in `slugs`, so pages can reload the email at once. */
  emailVersions: Record<string, number>;
  /** Time from the start of the batch to the last render, in milliseconds. */
  ms: number;
  files: string[];
}

export interface SessionOptions {
  request: ConfigRequest;
  /**
   * Ignored: the preview always signs with the preview key (its tokens are marked and `serve`
   * refuses them), so a preview, even one served to the network, never hands out working
   * unsubscribe links. Kept so existing callers still type-check.
   * @deprecated
   */
  secret?: string | undefined;
  /** Extra recipients for the picker (the config's sample recipient always comes first). */
  recipients?: readonly Recipient[];
  /** Runs the checks on each new render; its findings show in the issue page's panel. */
  check?: ((input: CheckInput) => Promise<Finding[]>) | undefined;
}

const COPY_CACHE_LIMIT = 32;
/** Quiet time after an issue's last render before its checks run. */
export const CHECK_DELAY_MS = 150;

export class PreviewSession {
  readonly paths: WatchedPaths & { out: string; cwd: string };
  version = 0;
  project: Project | null = null;
  projectProblem: PreviewProblem | null = null;
  /** Problem listing the issues folder (missing content folder). */
  contentProblem: PreviewProblem | null = null;
  private readonly states = new Map<string, IssueState>();
  private readonly listeners = new Set<(update: PreviewUpdate) => void>();
  private readonly extraRecipients: Recipient[];
  private readonly copies = new Map<string, Promise<{ rendered: RenderedIssue } | { problem: PreviewProblem }>>();
  private chain: Promise<void> = Promise.resolve();
  private readonly checks = new DebouncedQueue(CHECK_DELAY_MS, (slug) => this.check(slug));
  private pending: Set<string> | null = null;
  private pendingDone: Promise<void> | null = null;

  constructor(private readonly options: SessionOptions) {
    this.paths = requestPaths(options.request);
    this.extraRecipients = [...(options.recipients ?? [])];
  }

  get config(): ResolvedConfig | null {
    return this.project?.config ?? null;
  }

  /** Loads the project and renders every issue; failures become problems, never exceptions. */
  start(): Promise<void> {
    this.chain = this.chain.then(async () => {
      const started = performance.now();
      await this.reloadProject();
      await this.relist();
      const slugs = [...this.states.keys()];
      for (const slug of slugs) await this.render(slug);
      this.emit({ slugs, listChanged: true, project: true, started, files: [] });
      this.checkLater(slugs);
    });
    return this.chain;
  }

  /** Queues changed files; batches that arrive while a render runs are merged into the next one. */
  apply(files: readonly string[]): Promise<void> {
    if (this.pending && this.pendingDone) {
      for (const file of files) this.pending.add(file);
      return this.pendingDone;
    }
    const pending = new Set(files);
    this.pending = pending;
    const run = this.chain.then(() => {
      this.pending = null;
      this.pendingDone = null;
      return this.process([...pending]);
    });
    // One failed batch must not block every later save: the chain goes on after a rejection.
    this.chain = run.catch(() => undefined);
    this.pendingDone = run;
    return run;
  }

  /** Resolves once every queued change has been rendered. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Stops scheduling checks and resolves when queued renders and running checks are done. */
  async close(): Promise<void> {
    await this.chain;
    await this.checks.close();
  }

  onUpdate(listener: (update: PreviewUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  issues(): IssueState[] {
    return [...this.states.values()].sort((a, b) => a.slug.localeCompare(b.slug));
  }

  issue(slug: string): IssueState | undefined {
    return this.states.get(slug);
  }

  /** The problem a page should show: a broken config or template outranks the issue's own. */
  problemFor(state: IssueState): PreviewProblem | null {
    return this.projectProblem ?? state.problem;
  }

  recipients(): Recipient[] {
    const sample = this.project?.config.sampleRecipient ?? DEFAULTS.config.sampleRecipient;
    return [sample as Recipient, ...this.extraRecipients];
  }

  /** The email for one recipient of the picker; index 0 (the sample recipient) is the cached render. */
  async copyFor(slug: string, recipientIndex: number): Promise<{ rendered: RenderedIssue } | { problem: PreviewProblem } | null> {
    const state = this.states.get(slug);
    if (!state?.good || !this.project) return null;
    const recipient = this.recipients()[recipientIndex];
    if (recipientIndex === 0 || !recipient) return { rendered: state.good.rendered };
    const key = `${slug}\n${recipientIndex}\n${state.good.version}`;
    let copy = this.copies.get(key);
    if (!copy) {
      const { issue } = state.good;
      const { config, templates } = this.project;
      copy = renderIssue(issue, { config, templates, recipient, secret: PREVIEW_SECRET }).then(
        (rendered) => ({ rendered }),
        (error: unknown) => ({ problem: toProblem(error) }),
      );
      if (this.copies.size >= COPY_CACHE_LIMIT) this.copies.delete(this.copies.keys().next().value!);
      this.copies.set(key, copy);
    }
    return copy;
  }

  private async process(files: string[]): Promise<void> {
    const started = performance.now();
    const plan = planChanges(this.paths, files);
    const touched = new Set<string>();
    let listChanged = false;
    if (plan.project) {
      await this.reloadProject();
      for (const slug of this.states.keys()) touched.add(slug);
    }
    if (plan.project || plan.content) {
      const before = new Set(this.states.keys());
      await this.relist();
      const after = new Set(this.states.keys());
      listChanged = before.size !== after.size || [...after].some((slug) => !before.has(slug));
      for (const slug of after) if (!before.has(slug)) touched.add(slug);
      for (const slug of before) if (!after.has(slug)) touched.add(slug);
    }
    for (const slug of plan.issues) if (this.states.has(slug)) touched.add(slug);
    for (const state of this.states.values()) {
      if ([...plan.articles].some((article) => state.articles.has(article))) touched.add(state.slug);
      // An issue that failed to load may be fixed by any content change (a missing article added).
      if (plan.content && state.problem) touched.add(state.slug);
    }
    for (const slug of touched) if (this.states.has(slug)) await this.render(slug);
    if (touched.size || plan.project) this.emit({ slugs: [...touched].sort(), listChanged, project: plan.project, started, files });
    this.checkLater([...touched]);
  }

  private async reloadProject(): Promise<void> {
    try {
      this.project = await loadProject(this.options.request);
      this.projectProblem = null;
    } catch (error) {
      // Keep the last good project: content edits still render with it while the error shows.
      this.projectProblem = toProblem(error);
    }
  }

  private async relist(): Promise<void> {
    let slugs: string[];
    try {
      slugs = await listIssues(this.paths.content, this.paths.cwd);
      this.contentProblem = null;
    } catch (error) {
      this.contentProblem = toProblem(error);
      slugs = [];
    }
    for (const slug of slugs) {
      if (!this.states.has(slug)) this.states.set(slug, { slug, good: null, problem: null, articles: new Set(), findings: [], checkedVersion: null, version: 0 });
    }
    for (const slug of [...this.states.keys()]) if (!slugs.includes(slug)) this.states.delete(slug);
  }

  private async render(slug: string): Promise<void> {
    const state = this.states.get(slug);
    if (!state) return;
    const version = this.version + 1;
    state.version = version;
    if (!this.project) return;
    const started = performance.now();
    try {
      const { issue, rendered } = await renderProjectIssue(this.project, slug, PREVIEW_SECRET);
      state.good = { issue, rendered, renderedAt: new Date(), renderMs: performance.now() - started, version };
      state.problem = null;
      state.articles = new Set(issue.articles.map((article) => article.slug));
    } catch (error) {
      state.problem = toProblem(error);
    }
  }

  /**
   * Checks run once an issue has been quiet for CHECK_DELAY_MS, outside the render queue: the new
   * email is on screen without waiting for them, a burst of saves is checked once, and their
   * findings follow in an update of their own.
   */
  private checkLater(slugs: readonly string[]): void {
    if (this.options.check) this.checks.schedule(slugs);
  }

  private async check(slug: string): Promise<void> {
    const state = this.states.get(slug);
    const good = state?.good;
    if (!this.options.check || !this.project || !state || !good) return;
    // A failed render leaves the last good one on screen, whose findings are already shown: running
    // them again would report old checks as if they were the new version's (`checks: 0 errors`
    // printed under the error).
    if (state.checkedVersion === good.version) return;
    const started = performance.now();
    let findings: Finding[];
    try {
      findings = await this.options.check({ project: this.project, issue: good.issue, rendered: good.rendered });
    } catch (error) {
      const problem = toProblem(error);
      findings = [{ rule: 'preview/checks', severity: 'warn', message: `the checks did not run: ${problem.message}`, file: problem.file ?? undefined, line: problem.line ?? undefined }];
    }
    // A newer render replaced this one while the checks ran; its own checks will report.
    if (this.states.get(slug)?.good !== good) return;
    state.findings = findings;
    state.checkedVersion = good.version;
    this.emit({ slugs: [slug], listChanged: false, project: false, started, files: [], kind: 'checks' });
  }

  private emit(change: { slugs: string[]; listChanged: boolean; project: boolean; started: number; files: string[]; kind?: PreviewUpdate['kind'] }): void {
    this.version += 1;
    const update: PreviewUpdate = {
      kind: change.kind ?? 'render',
      version: this.version,
      slugs: change.slugs,
      listChanged: change.listChanged,
      project: change.project,
      emailVersions: Object.fromEntries(change.slugs.flatMap((slug) => {
        const good = this.states.get(slug)?.good;
        return good ? [[slug, good.version]] : [];
      })),
      ms: performance.now() - change.started,
      files: change.files,
    };
    for (const listener of this.listeners) listener(update);
  }
}
