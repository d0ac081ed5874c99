import path from 'node:path';
import type { ResolvedConfig, Theme } from '../config/defaults.js';
import type { Issue } from '../content/types.js';
import { displayPath } from '../fs/display-path.js';
import { composeMessage, messageInputFor } from '../render/message.js';
import type { RenderedIssue } from '../render/render-issue.js';
import { layoutFor } from '../render/templates.js';
import { viewInBrowserUrl } from '../render/links.js';
import type { CaniemailData } from './caniemail.js';
import { analyzeCompat, type CompatUse } from './compat.js';
import { parseHtml, type HtmlDocument } from './html.js';
import { Locator, SourceFile } from './locate.js';
import type { ContentBody } from './content-places.js';
import { prepareIssueImages } from '../render/images/issue-images.js';
import { measureHtmlPart, type HtmlPartSize } from './message-size.js';
import { parseMessage, type ParsedMessage } from './mime.js';
import type { CheckInput } from './types.js';

/** Everything a rule may look at, prepared once per issue so that no rule parses anything twice. */
export interface CheckContext {
  config: ResolvedConfig;
  theme: Theme;
  issue: Issue;
  rendered: RenderedIssue;
  /** The text/html part, parsed. */
  html: HtmlDocument;
  /** The composed message for the sample recipient, read back: headers and parts. */
  message: ParsedMessage;
  size: HtmlPartSize;
  viewInBrowserUrl: string;
  locate: Locator;
  /** Display names of caniemail's client families and platforms (`Gmail`, `iOS`). */
  clientNames: { family(id: string): string; platform(id: string): string };
  /** Client-compatibility uses, computed on first call (empty when no compat rule is on). */
  compat(): CompatUse[];
  /** A real send is set up: SMTP_URL is in the environment (or .env). */
  smtpConfigured: boolean;
}

/** Issues, articles and the theme hold their file as shown (relative to `cwd`), the config its absolute path. */
function sourceFile(file: string | null, cwd: string): SourceFile | null {
  if (!file) return null;
  const absolute = path.resolve(cwd, file);
  return new SourceFile(displayPath(absolute, cwd), absolute);
}

/**
 * The intro and article bodies as the email shows them, for findings about what an article holds:
 * the image stage is memoized per issue, so this is the render's own result, not a second pass.
 */
async function contentBodies({ project, issue }: CheckInput, files: (SourceFile | null)[]): Promise<ContentBody[]> {
  const { config, templates } = project;
  const placed = await prepareIssueImages(issue, { config, width: templates.theme.width }).catch(() => null);
  const bodies: ContentBody[] = [];
  const issueSource = files[0];
  if (issueSource) bodies.push({ file: issueSource.file, source: issueSource, writtenHtml: issue.introHtml, shownHtml: placed?.issue.introHtml ?? issue.introHtml, localImages: issue.localImages });
  issue.articles.forEach((article, i) => {
    const source = files[i + 1];
    const shown = placed?.issue.articles[i];
    if (!source) return;
    bodies.push({
      file: source.file,
      source,
      writtenHtml: article.html,
      shownHtml: shown?.html ?? article.html,
      localImages: article.localImages,
      image: article.image ? { written: article.image, shown: shown?.image ?? article.image } : undefined,
    });
  });
  return bodies;
}

export interface PrepareOptions {
  /** Loaded when a compat rule is on. */
  caniemail: CaniemailData | null;
  /** Where SMTP_URL is read (a real send is set up when it is there). */
  env?: NodeJS.ProcessEnv | undefined;
}

export async function prepareContext(input: CheckInput, options: PrepareOptions): Promise<CheckContext> {
  const { project, issue, rendered } = input;
  const { config, templates } = project;
  const messageInput = messageInputFor(config, rendered);
  const message = parseMessage(input.message ?? (await composeMessage(messageInput)));
  const size = await measureHtmlPart(message, messageInput);
  const layout = layoutFor(templates, issue.template);
  const contentFiles = [issue.file, ...issue.articles.map((a) => a.file)].map((file) => sourceFile(file, config.paths.cwd));
  const locate = new Locator({
    issue,
    content: contentFiles.filter((s): s is SourceFile => s !== null),
    config: sourceFile(config.paths.config, config.paths.cwd),
    theme: sourceFile(templates.themeFile, templates.cwd),
    templates,
    layout: layout.html,
    textLayout: layout.text,
    mjml: rendered.mjml,
    bodies: await contentBodies(input, contentFiles),
  });
  const html = parseHtml(rendered.html);
  let compat: CompatUse[] | undefined;
  return {
    config,
    theme: templates.theme,
    issue,
    rendered,
    html,
    message,
    size,
    viewInBrowserUrl: viewInBrowserUrl(config, issue.slug),
    locate,
    smtpConfigured: !!options.env?.SMTP_URL,
    clientNames: {
      family: (id) => options.caniemail?.familyName(id) ?? id,
      platform: (id) => options.caniemail?.platformName(id) ?? id,
    },
    compat() {
      compat ??= options.caniemail && config.checks.clients.length ? analyzeCompat(options.caniemail, html, rendered.mjml, config.checks.clients, locate) : [];
      return compat;
    },
  };
}
