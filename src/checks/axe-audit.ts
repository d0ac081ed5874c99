import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { createRequire } from 'node:module';
import { launchChromium } from '../browser.js';
import { NewsletterError } from '../errors.js';
import type { Locator } from './locate.js';
import type { Problem } from './types.js';

/**
 * `--a11y`: the rendered email in the system Chromium, audited by axe-core. Every request the page
 * makes is refused (images, web fonts), so the audit is offline and sees what a reader with images
 * off sees. Only the WCAG 2.x A/AA rules run: axe's best-practice rules expect a web page with
 * landmarks (main, nav) that an email does not have.
 */

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
export const AUDIT_TIMEOUT_MS = 45_000;

interface AxeNode {
  html: string;
  target: unknown[];
}

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

export interface AuditProblem extends Problem {
  /** critical and serious violations are `a11y/axe`; moderate and minor `a11y/axe-minor`. */
  major: boolean;
}

let axeSource: Promise<string> | null = null;

function loadAxeSource(): Promise<string> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NewsletterError('INTERNAL', `${what} did not finish in ${ms / 1000} s`, { hint: 'run again; if it persists, run with --debug and report it' })), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Audits one email; uses `shared` when given (the caller closes it), else starts and closes its own Chromium. */
export async function runAxeAudit(html: string, locate: Locator, env: NodeJS.ProcessEnv, shared?: Browser): Promise<AuditProblem[]> {
  const source = await loadAxeSource();
  const browser = shared ?? (await launchChromium(env));
  let context: Awaited<ReturnType<Browser['newContext']>> | undefined;
  try {
    const violations = await withTimeout(
      (async () => {
        context = await browser.newContext({ javaScriptEnabled: true });
        await context.route('**/*', (route) => route.abort());
        const page = await context.newPage();
        await page.setContent(html, { waitUntil: 'domcontentloaded' });
        await page.addScriptTag({ content: source });
        return page.evaluate(
          (tags) => (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> } }).axe
            .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
            .then((result) => result.violations),
          WCAG_TAGS,
        ) as Promise<AxeViolation[]>;
      })(),
      AUDIT_TIMEOUT_MS,
      'the accessibility audit in Chromium',
    );
    return violations.map((violation) => toProblem(violation, locate));
  } finally {
    await context?.close().catch(() => undefined);
    if (!shared) await browser.close();
  }
}

function toProblem(violation: AxeViolation, locate: Locator): AuditProblem {
  const first = violation.nodes[0];
  const written = first?.html.split(/\sstyle\s*=/i)[0]!.replace(/\/?>[\s\S]*$/, '') ?? '';
  const example = first ? `, e.g. \`${first.html.length > 120 ? `${first.html.slice(0, 117)}...` : first.html}\`` : '';
  const count = violation.nodes.length;
  return {
    major: violation.impact === 'critical' || violation.impact === 'serious',
    message: `axe \`${violation.id}\` (${violation.impact ?? 'unrated'}): ${violation.help} — ${count} element${count === 1 ? '' : 's'}${example}. ${violation.helpUrl}`,
    count,
    ...((written && locate.template(written)) || locate.layout),
  };
}
