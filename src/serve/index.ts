import type { Project } from '../pipeline.js';
import { loadSiteTemplates } from '../publish/site-templates.js';
import { listIdFor } from '../render/list-id.js';
import type { Store, SuppressionStore } from '../store/types.js';
import { createWebhookHandler } from './webhooks/index.js';
import type { SignupService } from '../signup/sign-up.js';
import { createHandler, type FetchHandler, type RequestLog } from './handler.js';

/**
 * The unsubscribe endpoint of a project as a Fetch handler, for `newsletter serve` and for
 * serverless platforms (see docs/publish-and-serve.md). `suppressions` is any SuppressionStore: the files
 * store of `openStore(config)` on one machine, the Redis one when several send.
 */
export interface UnsubscribeHandlerOptions {
  project: Project;
  /** NEWSLETTER_SECRET, the key the sent messages' tokens were made with. */
  secret: string;
  suppressions: SuppressionStore;
  /** With the whole store: `POST /webhooks/<provider>` records bounces and complaints (serve/webhooks/). */
  webhooks?: { store: Store; env: Record<string, string | undefined> } | undefined;
  /** Also serve this published site (`<out>/site/`) for every other GET. */
  siteDir?: string | null | undefined;
  onRequest?: ((log: RequestLog) => void) | undefined;
  onError?: ((error: unknown) => void) | undefined;
  /** Sign-ups (signup/index.ts, `openSignup`); POST /subscribe answers 404 without. */
  signup?: SignupService | null | undefined;
}

export async function createUnsubscribeHandler(options: UnsubscribeHandlerOptions): Promise<FetchHandler> {
  const { project } = options;
  return createHandler({
    config: project.config,
    theme: project.templates.theme,
    pages: await loadSiteTemplates(project.templates),
    secret: options.secret,
    suppressions: options.suppressions,
    siteDir: options.siteDir,
    webhooks: options.webhooks
      ? createWebhookHandler({ ...options.webhooks, listId: listIdFor(project.config), rules: { softBounceLimit: project.config.bounces.softBounceLimit } })
      : null,
    onRequest: options.onRequest,
    onError: options.onError,
    signup: options.signup,
  });
}

export { checkServeSecret, createHandler, redact, type FetchHandler, type RequestLog, type HandlerOptions, type Outcome } from './handler.js';
export { startNodeServer, type NodeServer } from './node-server.js';
