import type { Browser } from 'playwright-core';
import { launchChromium } from '../../src/browser.js';
import { isNewsletterError } from '../../src/errors.js';

/**
 * The system Chromium for browser tests. A missing browser fails the test with the install
 * command; it never skips, so CI cannot pass without having run these tests.
 */
export async function launchTestBrowser(): Promise<Browser> {
  try {
    return await launchChromium(process.env);
  } catch (error) {
    if (isNewsletterError(error) && error.code === 'BROWSER_NOT_FOUND') {
      throw new Error(`The browser tests need Chromium: ${error.format()}\n  (apt-get install chromium, or set CHROMIUM_PATH)`);
    }
    throw error;
  }
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
