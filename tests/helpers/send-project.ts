import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

/** A throwaway project for send tests: the send fixtures copied to a temp folder, the repo's content. */

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
export const FIXTURES = path.join(REPO, 'tests/fixtures/send');
export const CONTENT = path.join(REPO, 'content');
export const SLOT_TEMPLATES = path.join(FIXTURES, 'templates-slots');
export const CONDITIONAL_TEMPLATES = path.join(FIXTURES, 'templates-conditional');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Sink extends Writable {
  text = '';
  constructor(private readonly onText?: (text: string) => void) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    this.onText?.(chunk.toString());
    done();
  }
}

export interface SendProject {
  dir: string;
  /** Runs `newsletter send ARGS`; `terminal` makes stdin and stderr TTYs, stdin holding `answer`. */
  run(args: string[], env?: NodeJS.ProcessEnv, terminal?: { answer: string }, onStderr?: (text: string) => void): Promise<CliRun>;
  read(file: string): Promise<string>;
  journal(issue?: string): Promise<Record<string, unknown>[]>;
}

export async function sendProject(templates = SLOT_TEMPLATES): Promise<SendProject> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-send-'));
  for (const file of ['newsletter.config.json', 'subscribers.csv', 'suppressions.txt']) await cp(path.join(FIXTURES, file), path.join(dir, file));
  const read = (file: string) => readFile(path.join(dir, file), 'utf8');
  return {
    dir,
    read,
    async run(args, env = { NEWSLETTER_SECRET: 'test-secret' }, terminal, onStderr) {
      const stdout = new Sink();
      const stderr = Object.assign(new Sink(onStderr), { isTTY: terminal !== undefined });
      const stdin = Object.assign(new PassThrough(), { isTTY: terminal !== undefined });
      if (terminal) stdin.end(`${terminal.answer}\n`);
      const code = await main(['node', 'newsletter', 'send', ...args, '--content', CONTENT, '--templates', templates], { stdout, stderr, stdin, env, cwd: dir });
      return { code, stdout: stdout.text, stderr: stderr.text };
    },
    async journal(issue = 'weekly-1') {
      const text = await read(`.newsletter/sends/${issue}.jsonl`);
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}
