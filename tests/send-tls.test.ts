import { createServer, connect, type Server, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { CONTENT, SLOT_TEMPLATES, sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * SMTP credentials and TLS (issue 19.9). The relay here offers AUTH but no STARTTLS, which is also
 * what a man in the middle who strips STARTTLS from the EHLO answer shows; a proxy between the
 * send and the relay records every byte the client puts on the wire.
 */

interface Wire {
  port: number;
  /** What the client sent, as text. */
  sent(): string;
  close(): Promise<void>;
}

function recordingProxy(target: number): Promise<Wire> {
  let sent = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      sent += chunk.toString('latin1');
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        sent: () => sent,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

const PASSWORD = 'S3cretPass';
/** AUTH PLAIN's and AUTH LOGIN's encodings of the password, as they would appear on the wire. */
const ENCODED = [Buffer.from(`\u0000mailer\u0000${PASSWORD}`).toString('base64'), Buffer.from(PASSWORD).toString('base64')];

let server: TestSmtpServer | null = null;
let wire: Wire | null = null;
afterEach(async () => {
  await wire?.close();
  await server?.close();
  wire = server = null;
});

async function twoRecipients() {
  const project = await sendProject();
  await writeFile(path.join(project.dir, 'two.csv'), 'email,name,city\nann@example.com,Ann,Bristol\nbob@example.com,Bob,Leeds\n');
  return project;
}

describe('SMTP credentials without TLS', () => {
  it('never puts the password on the wire when the relay offers no STARTTLS, and stops as a configuration error', async () => {
    server = await startSmtpServer();
    wire = await recordingProxy(server.port);
    const project = await twoRecipients();
    const run = await project.run(['weekly-1', '--list', 'two.csv', '--smtp', `smtp://mailer:${PASSWORD}@127.0.0.1:${wire.port}`, '--yes', '--retry-delay', '20']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/TLS could not be started with the SMTP server/);
    expect(run.stderr).toContain('allowInsecureAuth');
    const sent = wire.sent();
    // Each connection asked for STARTTLS, and sent nothing after the refusal.
    expect(sent).toMatch(/^STARTTLS\r$/m);
    expect(sent).not.toMatch(/^AUTH/m);
    expect(sent).not.toMatch(/^MAIL FROM/m);
    for (const secret of [PASSWORD, ...ENCODED]) expect(sent).not.toContain(secret);
    expect(server.logins).toEqual([]);
    // Not a failure of each recipient: no journal record blames them, and a rerun sends to both.
    const records = await project.journal();
    expect(records.filter((r) => r.status !== 'run')).toEqual([]);
  });

  it('sends them only when the URL says allowInsecureAuth=true, and warns', async () => {
    server = await startSmtpServer();
    wire = await recordingProxy(server.port);
    const project = await twoRecipients();
    const run = await project.run(['weekly-1', '--list', 'two.csv', '--smtp', `smtp://mailer:${PASSWORD}@127.0.0.1:${wire.port}?allowInsecureAuth=true`, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: the SMTP URL has allowInsecureAuth=true: its user and password are sent without TLS/);
    expect(wire.sent()).toMatch(/^AUTH (PLAIN|LOGIN)/m);
    expect(server.logins.length).toBeGreaterThan(0);
    expect(new Set(server.logins)).toEqual(new Set([`mailer:${PASSWORD}`]));
    expect(server.accepted).toBe(2);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('with requireTLS and a relay that cannot start it: a configuration error, not every recipient failed', async () => {
    server = await startSmtpServer();
    const project = await twoRecipients();
    const run = await project.run(['weekly-1', '--list', 'two.csv', '--smtp', `smtp://127.0.0.1:${server.port}?requireTLS=true`, '--yes', '--retry-delay', '20']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the server refused the send: TLS could not be started/);
    expect(run.stdout).not.toMatch(/failed-permanent|failed [1-9]/);
    expect((await project.journal()).filter((r) => String(r.status).startsWith('failed'))).toEqual([]);
    expect(server.dataStarted).toBe(0);
  });

  it('check warns about the opt-out in SMTP_URL, and about suppression lines a send would stop on', async () => {
    const project = await sendProject();
    await writeFile(path.join(project.dir, 'suppressions.txt'), 'ann@example.com\nAnn Adams, Bristol\n');
    const run = await runCli(['check', 'weekly-1', '--json', '--content', CONTENT, '--templates', SLOT_TEMPLATES], {
      cwd: project.dir,
      env: { SMTP_URL: `smtp://mailer:${PASSWORD}@relay.internal:25?allowInsecureAuth=true` },
      timeoutMs: 60_000,
    });
    expect(run.stderr, run.stderr).toMatch(/warning: SMTP_URL: the SMTP URL has allowInsecureAuth=true/);
    expect(run.stderr).toMatch(/warning: suppressions\.txt:2: `Ann Adams, Bristol`: .*suppresses nothing/);
    expect(run.stderr).not.toContain(PASSWORD);
    // The JSON on stdout stays one document.
    expect(() => JSON.parse(run.stdout)).not.toThrow();
  }, 60_000);
});
