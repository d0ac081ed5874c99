import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

/**
 * The example's message.eml through SpamAssassin's local rules (`spamassassin -L -t`, Debian's
 * `spamassassin`; .ci/run installs it): at most 1.0, with neither of the two rules the old
 * message tripped (an address in clear in a URL, preheader text coloured like its background).
 */

const run = promisify(execFile);

async function spamassassin(file: string): Promise<string> {
  try {
    const { stdout } = await run('sh', ['-c', `spamassassin -L -t < "${file}"`], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; code?: number | string };
    // -t exits 1 for a message it calls spam; the report is still on stdout.
    if (e.stdout && /X-Spam-Status:/.test(e.stdout)) return e.stdout;
    throw new Error(`spamassassin did not run (${e.message}): install it with \`apt-get install spamassassin\``);
  }
}

describe('spam score of the example', () => {
  it('message.eml scores at most 1.0 with SpamAssassin local rules', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'newsletter-spam-'));
    const build = await runCli(['build', 'weekly-1', '--out', out], { cwd: ROOT, env: { NEWSLETTER_SECRET: 'spam-test-secret' }, timeoutMs: 60_000 });
    expect(build.code, build.stderr).toBe(0);
    const report = await spamassassin(path.join(out, 'weekly-1/message.eml'));
    const status = /^X-Spam-Status: (Yes|No), score=(-?[\d.]+) [^\n]*(?:\n\t[^\n]*)*/m.exec(report);
    expect(status, report.slice(0, 2000)).not.toBeNull();
    const score = Number(status![2]);
    const rules = /tests=([^\n]*(?:\n\t[^\n]*)*?)(?: autolearn| version|$)/m.exec(status![0])?.[1]?.replace(/\s+/g, '') ?? '';
    // The report was read: the rule list names what every HTML message has.
    expect(rules).toContain('HTML_MESSAGE');
    expect(score, `score ${score}, rules ${rules}`).toBeLessThanOrEqual(1.0);
    expect(rules).not.toContain('GB_CUSTOM_HTM_URI');
    expect(rules).not.toContain('HTML_FONT_LOW_CONTRAST');
  }, 120_000);
});
