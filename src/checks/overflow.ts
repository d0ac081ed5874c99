import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../browser.js';
import type { Locator } from './locate.js';
import type { Problem } from './types.js';

/**
 * Horizontal overflow: an email wider than the phone it is read on, so the reader scrolls
 * sideways or the client shrinks all of it. Measured in Chromium, and blamed on the element
 * whose removal narrows the page the most (the widest cause, not every box inside it).
 */

export interface Overflow {
  /** The page's scroll width at the given viewport width. */
  scrollWidth: number;
  width: number;
  /** The element to blame: `<td style="width:518px">`, its text, and how much narrower the page is without it. */
  culprit: { tag: string; opening: string; text: string; widthWithout: number } | null;
}

export const PHONE_WIDTH = 375;

/** Measures the page loaded in `page` (viewport already at `width`). Works with scripts off: the probe runs in Playwright's own world. */
export async function measureOverflow(page: Page, width: number): Promise<Overflow> {
  return page.evaluate((viewport: number) => {
    const root = document.documentElement;
    const measure = () => Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0);
    const scrollWidth = measure();
    if (scrollWidth <= viewport) return { scrollWidth, width: viewport, culprit: null };
    const candidates = Array.from(document.querySelectorAll('body *')).filter((el) => el.getBoundingClientRect().right > viewport + 0.5) as HTMLElement[];
    let best: { el: HTMLElement; without: number; depth: number } | null = null;
    for (const el of candidates) {
      const previous = el.style.getPropertyValue('display');
      const priority = el.style.getPropertyPriority('display');
      el.style.setProperty('display', 'none', 'important');
      const without = measure();
      el.style.setProperty('display', previous, priority);
      let depth = 0;
      for (let p = el.parentElement; p; p = p.parentElement) depth++;
      // The narrowest page without it; among equals the deepest element, which is the cause rather than a box around it.
      if (without < scrollWidth && (!best || without < best.without || (without === best.without && depth > best.depth))) best = { el, without, depth };
    }
    if (!best) return { scrollWidth, width: viewport, culprit: null };
    const outer = best.el.outerHTML;
    const opening = outer.slice(0, outer.indexOf('>') + 1);
    return {
      scrollWidth,
      width: viewport,
      culprit: { tag: best.el.tagName.toLowerCase(), opening: opening.length > 160 ? `${opening.slice(0, 157)}...` : opening, text: (best.el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 60), widthWithout: best.without },
    };
  }, width);
}

/** `<td style="width:518px">` ("The harbour…"): how a culprit reads in a message. */
export function describeCulprit(culprit: NonNullable<Overflow['culprit']>): string {
  return `\`${culprit.opening}\`${culprit.text ? ` ("${culprit.text}")` : ''}`;
}

/** `check --a11y`: the email at 375 px in Chromium; wider than that is an error naming the element. */
export async function runOverflowAudit(html: string, locate: Locator, env: NodeJS.ProcessEnv, shared?: Browser): Promise<Problem[]> {
  const browser = shared ?? (await launchChromium(env));
  const context = await browser.newContext({ viewport: { width: PHONE_WIDTH, height: 800 }, javaScriptEnabled: false, deviceScaleFactor: 1 });
  try {
    await context.route('**/*', (route) => route.abort());
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: 'load', timeout: 30_000 });
    const overflow = await measureOverflow(page, PHONE_WIDTH);
    if (overflow.scrollWidth <= PHONE_WIDTH) return [];
    const culprit = overflow.culprit;
    const place = culprit ? (locate.template(culprit.opening.replace(/\s+style="[^"]*"/, '').replace(/\.\.\.$/, '')) ?? (culprit.text ? locate.content(culprit.text.slice(0, 40)) : undefined)) : undefined;
    return [
      {
        message: `the email is ${overflow.scrollWidth} px wide on a ${PHONE_WIDTH} px phone: readers scroll sideways or the client shrinks it all.${culprit ? ` Widest cause: ${describeCulprit(culprit)} (without it: ${culprit.widthWithout} px). Give it a width in % or max-width:100%` : ''}`,
        ...(place ?? locate.layout),
      },
    ];
  } finally {
    await context.close().catch(() => undefined);
    if (!shared) await browser.close();
  }
}
