import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load-config.js';
import { PREVIEW_SECRET, readUnsubscribeToken, unsubscribeToken, unsubscribeUrl } from '../src/render/links.js';
import { listIdFor } from '../src/render/list-id.js';

const LIST = 'The Dispatch <dispatch.news.example.com>';
const SECRET = 'a real secret';

/** The construction as links.ts documents it, with OpenSSL's own AES-256-CTR: what every sent token was made with. */
function referenceToken(email: string, secret: string, listId: string): string {
  const key = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'newsletter-unsubscribe', info, 32));
  const address = Buffer.from(email.trim().toLowerCase(), 'utf8');
  const siv = createHmac('sha256', key('mac v1')).update(Buffer.of(1)).update(listId).update(Buffer.of(0)).update(address).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key('enc v1'), siv);
  return Buffer.concat([Buffer.of(1), siv, cipher.update(address), cipher.final()]).toString('base64url');
}

describe('unsubscribe tokens', () => {
  it('are exactly those of the documented construction (HMAC-SIV, OpenSSL AES-256-CTR), for every address length', () => {
    // Lengths past several 16-byte blocks, and enough addresses that counters carry across bytes.
    for (let i = 0; i < 3000; i++) {
      const email = `${'r'.repeat(i % 90)}${i}@example.com`;
      const token = unsubscribeToken(email, SECRET, LIST);
      expect(token, email).toBe(referenceToken(email, SECRET, LIST));
      expect(readUnsubscribeToken(token, SECRET, LIST)).toEqual({ email });
    }
  });

  it('give back the normalized address they were made for', () => {
    const token = unsubscribeToken(' Reader@Example.COM ', SECRET, LIST);
    expect(readUnsubscribeToken(token, SECRET, LIST)).toEqual({ email: 'reader@example.com' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('never carry the address in clear, even encoded', () => {
    const token = unsubscribeToken('reader@example.com', SECRET, LIST);
    for (const clear of ['reader', 'example', Buffer.from('reader@example.com').toString('base64url').slice(0, 8)]) expect(token).not.toContain(clear);
  });

  it('are stable per address and newsletter, and differ between them', () => {
    expect(unsubscribeToken('a@example.com', SECRET, LIST)).toBe(unsubscribeToken('A@example.com', SECRET, LIST));
    expect(unsubscribeToken('a@example.com', SECRET, LIST)).not.toBe(unsubscribeToken('b@example.com', SECRET, LIST));
    expect(unsubscribeToken('a@example.com', SECRET, LIST)).not.toBe(unsubscribeToken('a@example.com', SECRET, 'Other <other.example>'));
  });

  it('refuse a tampered token, at every byte', () => {
    const token = unsubscribeToken('reader@example.com', SECRET, LIST);
    const bytes = Buffer.from(token, 'base64url');
    for (let i = 1; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = changed[i]! ^ 0x01;
      expect(readUnsubscribeToken(changed.toString('base64url'), SECRET, LIST)).toEqual({ problem: 'forged' });
    }
  });

  it('refuse truncated, padded and garbage tokens as malformed', () => {
    const token = unsubscribeToken('reader@example.com', SECRET, LIST);
    expect(readUnsubscribeToken(token.slice(0, 20), SECRET, LIST)).toEqual({ problem: 'malformed' });
    expect('problem' in readUnsubscribeToken(token.slice(0, -1), SECRET, LIST)).toBe(true);
    expect(readUnsubscribeToken(`${token}==`, SECRET, LIST)).toEqual({ problem: 'malformed' });
    expect(readUnsubscribeToken('', SECRET, LIST)).toEqual({ problem: 'malformed' });
    expect(readUnsubscribeToken('../../etc/passwd', SECRET, LIST)).toEqual({ problem: 'malformed' });
    expect(readUnsubscribeToken('x'.repeat(5000), SECRET, LIST)).toEqual({ problem: 'malformed' });
  });

  it('refuse a token of another newsletter or another key', () => {
    const foreign = unsubscribeToken('reader@example.com', SECRET, 'Other <other.example>');
    expect(readUnsubscribeToken(foreign, SECRET, LIST)).toEqual({ problem: 'forged' });
    expect(readUnsubscribeToken(unsubscribeToken('reader@example.com', 'another key', LIST), SECRET, LIST)).toEqual({ problem: 'forged' });
  });

  it('refuse preview tokens whatever the key, so a preview link never unsubscribes anyone', () => {
    const preview = unsubscribeToken('reader@example.com', PREVIEW_SECRET, LIST);
    expect(readUnsubscribeToken(preview, PREVIEW_SECRET, LIST)).toEqual({ problem: 'preview' });
    expect(readUnsubscribeToken(preview, SECRET, LIST)).toEqual({ problem: 'preview' });
  });

  it('make the default unsubscribe URL {siteUrl}unsubscribe/<token>, bound to the List-Id', () => {
    const config = resolveConfig({ name: 'The Dispatch', from: 'd@news.example.com', postalAddress: 'p', siteUrl: 'https://news.example.com/letters' }, { content: '/c', templates: '/t', out: '/o', config: null, root: '/', cwd: '/' });
    const url = new URL(unsubscribeUrl(config, { email: 'reader@example.com' }, 'weekly-1', SECRET));
    expect(url.origin + url.pathname.replace(/[^/]+$/, '')).toBe('https://news.example.com/letters/unsubscribe/');
    const token = url.pathname.split('/').pop()!;
    expect(readUnsubscribeToken(token, SECRET, listIdFor(config))).toEqual({ email: 'reader@example.com' });
  });
});
