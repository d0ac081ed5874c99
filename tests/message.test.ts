import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load-config.js';
import { composeMessage, messageIdFor } from '../src/render/message.js';
import { unsubscribeToken, verifyUnsubscribeToken } from '../src/render/links.js';

const config = resolveConfig(
  {
    name: 'Die Zeitung',
    from: 'Die Zeitung <post@zeitung.example>',
    postalAddress: 'Hauptstraße 1, Berlin',
    baseUrl: 'https://zeitung.example/{issue}/',
    unsubscribeUrl: 'https://zeitung.example/abmelden?e={email}&t={token}',
  },
  { content: '/c', templates: '/t', out: '/o', config: null, root: '/', cwd: '/' },
);

function compose(recipient: { email: string; name?: string }, subject = 'Größe zählt – 北朝鮮 summit') {
  return composeMessage({
    config,
    issueSlug: 'nr-7',
    subject,
    html: '<p>Grüße</p>',
    text: 'Grüße\n',
    recipient,
    unsubscribeUrl: 'https://zeitung.example/abmelden?e=x&t=y',
  });
}

describe('composeMessage', () => {
  it('encodes non-ASCII subject and recipient name as encoded words, decoded back intact', async () => {
    const eml = await compose({ email: 'jörg@example.com'.replace('ö', 'o'), name: 'Jörg Müller' });
    const head = eml.toString('latin1').split('\r\n\r\n')[0]!;
    expect(head).toMatch(/^Subject: =\?UTF-8\?[QB]\?/m);
    expect([...head].every((c) => c.charCodeAt(0) < 128)).toBe(true);
    const mail = await simpleParser(eml);
    expect(mail.subject).toBe('Größe zählt – 北朝鮮 summit');
    expect((mail.to as { value: { name: string }[] }).value[0]!.name).toBe('Jörg Müller');
    expect(mail.text?.trim()).toBe('Grüße');
  });

  it('never lets CR or LF in a recipient name or subject start a new header', async () => {
    const eml = await compose({ email: 'a@example.com', name: 'Eve\r\nBcc: victim@example.com' }, 'Hi\r\nX-Injected: yes');
    const mail = await simpleParser(eml);
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.headers.has('x-injected')).toBe(false);
    expect(mail.bcc).toBeUndefined();
    expect((mail.to as { value: { address: string }[] }).value.map((v) => v.address)).toEqual(['a@example.com']);
  });

  it('gives a Message-ID that is stable per issue and recipient and differs between them', () => {
    expect(messageIdFor(config, 'nr-7', 'A@Example.com ')).toBe(messageIdFor(config, 'nr-7', 'a@example.com'));
    expect(messageIdFor(config, 'nr-7', 'a@example.com')).not.toBe(messageIdFor(config, 'nr-8', 'a@example.com'));
    expect(messageIdFor(config, 'nr-7', 'a@example.com')).not.toBe(messageIdFor(config, 'nr-7', 'b@example.com'));
    expect(messageIdFor(config, 'nr-7', 'a@example.com')).toMatch(/^<[0-9a-f]{32}\.nr-7@zeitung\.example>$/);
  });

  it('verifies an unsubscribe token only for its address, secret and newsletter', () => {
    const list = 'Die Zeitung <die-zeitung.zeitung.example>';
    const token = unsubscribeToken('Reader@Example.com', 's3cret', list);
    expect(verifyUnsubscribeToken('reader@example.com', token, 's3cret', list)).toBe(true);
    expect(verifyUnsubscribeToken('other@example.com', token, 's3cret', list)).toBe(false);
    expect(verifyUnsubscribeToken('reader@example.com', token, 'other', list)).toBe(false);
    expect(verifyUnsubscribeToken('reader@example.com', token, 's3cret', 'Other <other.example>')).toBe(false);
    expect(verifyUnsubscribeToken('reader@example.com', token.slice(1), 's3cret', list)).toBe(false);
  });

  it('carries List-Archive pointing at the site (RFC 2369)', async () => {
    const mail = await simpleParser(await compose({ email: 'a@example.com' }));
    const archive = mail.headerLines.find((h) => h.key === 'list-archive');
    expect(archive?.line).toBe('List-Archive: <https://newsletter.example.com/>');
  });
});
