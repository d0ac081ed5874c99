import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, ROOT } from '../helpers/cli.js';

/**
 * A throwaway project for an attack: the example's templates and config, and the hostile files
 * a test writes (paths relative to the project folder).
 */
export async function hostileProject(files: Readonly<Record<string, string | Buffer>>, options: { templates?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nl-attack-'));
  await mkdir(path.join(dir, 'content/articles'), { recursive: true });
  await mkdir(path.join(dir, 'content/issues'), { recursive: true });
  if (options.templates !== false) await cp(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  // The example's config with the example-domain rule off: the attacks are not about the domains.
  await cp(path.join(FIXTURES, 'example-config/newsletter.config.json'), path.join(dir, 'newsletter.config.json'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** An issue file listing `articles`, dated so that publish takes it. */
export function issueFile(subject: string, articles: readonly string[], extra: Record<string, string> = {}): string {
  const lines = ['---', `subject: ${JSON.stringify(subject)}`, 'date: 2024-01-01'];
  for (const [key, value] of Object.entries(extra)) lines.push(`${key}: ${JSON.stringify(value)}`);
  lines.push('articles:', ...articles.map((slug) => `  - ${slug}`), '---', 'The intro.', '');
  return lines.join('\n');
}

/** A Markdown article with a title and `body`. */
export function article(title: string, body: string): string {
  return `---\ntitle: ${JSON.stringify(title)}\n---\n${body}`;
}

/** Every file under `dir`, relative, sorted: to show that a refused command wrote nothing. */
export async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((entry) => entry.split(path.sep).join('/')).sort();
}

/**
 * Parses XML with a strict, validating-for-well-formedness parser: Python's expat, which refuses
 * what lenient feed readers let through (control characters, a broken CDATA section). Null when
 * the document is well-formed, expat's message otherwise. Needs python3 (Debian: `apt-get
 * install python3`).
 */
export function strictXmlError(xml: string): string | null {
  const run = spawnSync('python3', ['-c', 'import sys, xml.parsers.expat as e\ntry:\n  e.ParserCreate().Parse(sys.stdin.buffer.read(), True)\nexcept e.ExpatError as x:\n  print(x)'], {
    input: Buffer.from(xml, 'utf8'),
    encoding: 'utf8',
  });
  if (run.error) throw new Error(`python3 is needed for the strict XML check (apt-get install python3): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return run.stdout.trim() || null;
}
