import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

/**
 * A real Dovecot IMAP server (Debian's dovecot-imapd) for the tests: a minimal dovecot.conf in
 * a temp folder, one user from a passwd-file, plaintext login on 127.0.0.1 only, a Maildir the
 * test writes messages into as an MTA would (new/ then renamed into place). Run as the current
 * user; as root, Dovecot's own `dovecot`/`dovenull` users take the roles it refuses to give root.
 */

export const DOVECOT_INSTALL_HINT = 'dovecot is not installed: apt-get install dovecot-imapd (Debian/Ubuntu)';
const BINARY = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find((file) => existsSync(file)) ?? 'dovecot';

export function hasDovecot(): boolean {
  return BINARY !== 'dovecot' || !!process.env.PATH?.split(':').some((dir) => existsSync(path.join(dir, 'dovecot')));
}

export interface TestDovecot {
  port: number;
  user: string;
  password: string;
  /** `imap://user:pass@127.0.0.1:port/INBOX` */
  url: string;
  maildir: string;
  /** Delivers a message into INBOX (Maildir new/), as the MTA would. */
  deliver(raw: Buffer | string): Promise<void>;
  /** Every message file of the mailbox (INBOX and its subfolders), new/ and cur/ alike. */
  messageFiles(): Promise<string[]>;
  /** Closes every IMAP session of the user, as a server restart or an idle timeout would (doveadm kick). */
  kick(): Promise<void>;
  stop(): Promise<void>;
}

function passwdEntry(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function groupName(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[2] === String(gid));
  return line?.split(':')[0] ?? String(gid);
}

function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`dovecot exited with ${child.exitCode}:\n${log()}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`dovecot did not listen in 10 s:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startDovecot(): Promise<TestDovecot> {
  const dir = await mkdtemp(path.join(tmpdir(), 'newsletter-dovecot-'));
  const port = await freePort();
  const me = userInfo();
  const root = me.uid === 0;
  // Root may not log in users nor run imap-login: Dovecot's own users do, as packaged.
  const mail = root ? (passwdEntry('dovecot') ?? { uid: 65534, gid: 65534 }) : { uid: me.uid, gid: me.gid };
  const internalUser = root ? 'dovecot' : me.username;
  const loginUser = root ? 'dovenull' : me.username;
  const user = 'bounces';
  const password = randomBytes(9).toString('base64url');
  const maildir = path.join(dir, 'Maildir');
  for (const folder of ['run', 'state', 'home', path.join('Maildir', 'new'), path.join('Maildir', 'cur'), path.join('Maildir', 'tmp')]) await mkdir(path.join(dir, folder), { recursive: true });
  await writeFile(path.join(dir, 'passwd'), `${user}:{PLAIN}${password}::::::\n`);
  const conf = `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${maildir}
first_valid_uid = ${mail.uid}
first_valid_gid = ${mail.gid}
default_internal_user = ${internalUser}
default_internal_group = ${groupName(root ? mail.gid : me.gid)}
default_login_user = ${loginUser}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${mail.uid} gid=${mail.gid} home=${dir}/home
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
  const confFile = path.join(dir, 'dovecot.conf');
  await writeFile(confFile, conf);
  if (root) {
    // mkdtemp's folder is 0700: Dovecot's auth and mail processes (not root) must reach into it.
    await chmod(dir, 0o711);
    for (const folder of ['home', 'Maildir', 'Maildir/new', 'Maildir/cur', 'Maildir/tmp']) await chown(path.join(dir, folder), mail.uid, mail.gid);
  }
  const child = spawn(BINARY, ['-F', '-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const log = () => {
    let text = output;
    try {
      text += readFileSync(path.join(dir, 'dovecot.log'), 'utf8');
    } catch {
      // no log yet
    }
    return text;
  };
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? new Error(DOVECOT_INSTALL_HINT) : error));
    child.once('spawn', () => resolve());
  });
  await waitForPort(port, child, log);
  let delivered = 0;
  return {
    port,
    user,
    password,
    url: `imap://${user}:${password}@127.0.0.1:${port}/INBOX`,
    maildir,
    async deliver(raw) {
      const name = `${Date.now()}.M${++delivered}P${process.pid}.test`;
      const temp = path.join(maildir, 'tmp', name);
      await writeFile(temp, raw);
      if (root) await chown(temp, mail.uid, mail.gid);
      await rename(temp, path.join(maildir, 'new', name));
    },
    async messageFiles() {
      const files: string[] = [];
      const walk = async (folder: string) => {
        for (const entry of await readdir(folder, { withFileTypes: true })) {
          const full = path.join(folder, entry.name);
          if (entry.isDirectory()) {
            if (entry.name === 'new' || entry.name === 'cur') for (const f of await readdir(full)) files.push(path.join(full, f));
            else if (entry.name.startsWith('.')) await walk(full);
          }
        }
      };
      await walk(maildir);
      return files.sort();
    },
    async kick() {
      const doveadm = spawn('doveadm', ['-c', confFile, 'kick', user], { stdio: ['ignore', 'pipe', 'pipe'] });
      let said = '';
      doveadm.stdout!.on('data', (chunk: Buffer) => (said += chunk.toString()));
      doveadm.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
      const code = await new Promise<number | null>((resolve, reject) => {
        doveadm.once('error', reject);
        doveadm.once('exit', resolve);
      });
      if (code !== 0) throw new Error(`doveadm kick exited ${code}: ${said}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
