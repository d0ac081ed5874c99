import type { Project } from '../project.js';
import { displayPath } from '../fs/display-path.js';
import { FileSuppressionStore } from '../store/files/suppressions.js';
import { insecureAuthWarning } from './transport.js';

/**
 * What `check` says about sending besides the issues themselves: lines of the suppression list
 * that suppress nothing (a send stops on them), and an SMTP URL (SMTP_URL) that lets the
 * password go without TLS. Each as `place: message`, for the CLI to print.
 */
export async function sendWarnings(project: Project, env: NodeJS.ProcessEnv, cwd: string): Promise<string[]> {
  const { suppressions } = project.config;
  const store = new FileSuppressionStore(suppressions, displayPath(suppressions, cwd));
  const warnings = (await store.problems()).map((problem) => `${problem.file}:${problem.line}: ${problem.message} (send refuses to start until it is fixed)`);
  const insecure = insecureAuthWarning(env.SMTP_URL);
  if (insecure) warnings.push(`SMTP_URL: ${insecure}`);
  return warnings;
}
