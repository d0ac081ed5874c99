import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sendProject } from './helpers/send-project.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';

/**
 * DKIM: with `dkim` in the config every message is signed, the signature covers both
 * List-Unsubscribe headers (RFC 8058 one-click needs that) and verifies against the public key.
 * The verifier below implements RFC 6376 relaxed/relaxed canonicalization independently of
 * nodemailer, so a message changed after signing fails it.
 */

function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).trim().toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}`;
}

function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length && lines.at(-1) === '') lines.pop();
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}

function verifyDkim(raw: Buffer, publicKey: string): { headers: string[]; ok: boolean; bodyHashOk: boolean } {
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const fields = text.slice(0, split).split(/\r\n(?![ \t])/);
  const body = text.slice(split + 4);
  const signatureField = fields.find((f) => /^dkim-signature:/i.test(f))!;
  const tags = Object.fromEntries(
    relaxedHeader(signatureField)
      .slice('dkim-signature:'.length)
      .split(';')
      .map((tag) => tag.trim())
      .filter(Boolean)
      .map((tag) => [tag.slice(0, tag.indexOf('=')), tag.slice(tag.indexOf('=') + 1).replace(/\s+/g, '')]),
  ) as Record<string, string>;
  expect(tags.c).toBe('relaxed/relaxed');
  const bodyHashOk = createHash('sha256').update(relaxedBody(body), 'latin1').digest('base64') === tags.bh;
  const names = tags.h!.split(':').map((n) => n.toLowerCase());
  const pool = fields.filter((f) => f !== signatureField);
  const signed: string[] = [];
  for (const name of names) {
    // The last not yet used instance of the header, per RFC 6376 5.4.2.
    const index = pool.map((f) => f.slice(0, f.indexOf(':')).trim().toLowerCase()).lastIndexOf(name);
    if (index < 0) continue;
    signed.push(`${relaxedHeader(pool[index]!)}\r\n`);
    pool.splice(index, 1);
  }
  const unsigned = relaxedHeader(signatureField.replace(/(\bb=)[^;]*/, '$1'));
  const data = Buffer.from(signed.join('') + unsigned, 'latin1');
  return { headers: names, bodyHashOk, ok: verify('sha256', data, publicKey, Buffer.from(tags.b!, 'base64')) };
}

let server: TestSmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('DKIM signing', () => {
  it('signs every message, covering List-Unsubscribe and List-Unsubscribe-Post', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(path.join(project.dir, 'dkim.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const configFile = path.join(project.dir, 'newsletter.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, dkim: { domainName: 'news.example.com', keySelector: 'nl2026', privateKeyFile: 'dkim.pem' } }, null, 2));

    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(server.deliveries).toHaveLength(7);
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const delivery of server.deliveries) {
      const result = verifyDkim(delivery.raw, pem);
      expect(result.headers).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'to', 'subject', 'message-id']));
      expect(result.bodyHashOk).toBe(true);
      expect(result.ok).toBe(true);
    }
    // A tampered copy does not verify: the check above can fail.
    const tampered = Buffer.from(server.deliveries[0]!.raw.toString('latin1').replace('List-Unsubscribe-Post: List-Unsubscribe=One-Click', 'List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks'), 'latin1');
    expect(verifyDkim(tampered, pem).ok).toBe(false);
  });

  it('names the key file when it cannot be read', async () => {
    server = await startSmtpServer();
    const project = await sendProject();
    const configFile = path.join(project.dir, 'newsletter.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, dkim: { domainName: 'news.example.com', keySelector: 's', privateKeyFile: 'missing.pem' } }));
    const run = await project.run(['weekly-1', '--list', 'subscribers.csv', '--smtp', server.url, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing\.pem: cannot read the DKIM private key/);
    expect(server.dataStarted).toBe(0);
  });
});
