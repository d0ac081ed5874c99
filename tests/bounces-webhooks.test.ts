import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../src/pipeline.js';
import { messageIdFor } from '../src/render/message.js';
import { createUnsubscribeHandler } from '../src/serve/index.js';
import type { EndpointRequest } from '../src/serve/handler.js';
import { createWebhookHandler, isSnsCertificateUrl, type WebhookHandler } from '../src/serve/webhooks/index.js';
import { openFilesStore } from '../src/store/files/index.js';
import type { Store } from '../src/store/types.js';
import { ROOT } from './helpers/cli.js';

/**
 * The provider webhooks of `serve`, each with a valid signature, a bad one, a stale timestamp and
 * a replay: Amazon SES through SNS (with a certificate made here by openssl and injected as the
 * certificate source), Postmark (basic auth), SendGrid (ECDSA P-256), Mailgun (HMAC-SHA256).
 */

const LIST_ID = 'The Weekly <the-weekly.example.com>';
const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';

let dir: string;
let snsKey: string;
let snsCert: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsletter-webhooks-'));
  // A throwaway signing certificate, as SNS's own is an RSA certificate fetched from its host.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'sns.key'), '-out', path.join(dir, 'sns.pem'), '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' });
  snsKey = await readFile(path.join(dir, 'sns.key'), 'utf8');
  snsCert = await readFile(path.join(dir, 'sns.pem'), 'utf8');
});

interface Harness {
  store: Store;
  handler: WebhookHandler;
  fetched: string[];
  confirmed: string[];
  post(provider: string, body: string | object, headers?: Record<string, string>): Promise<{ status: number; body: string; outcome: string }>;
}

let harnessCount = 0;
/** Closed at the end: an open store's file handles would be closed by the garbage collector (DEP0137). */
const opened: Store[] = [];
afterAll(() => Promise.all(opened.map((store) => store.close())));

function harness(env: Record<string, string> = {}): Harness {
  const root = path.join(dir, `state-${++harnessCount}`);
  const store = openFilesStore({ journalDir: path.join(root, 'sends'), suppressions: path.join(root, 'suppressions.txt') });
  opened.push(store);
  const fetched: string[] = [];
  const confirmed: string[] = [];
  const handler = createWebhookHandler({
    store,
    listId: LIST_ID,
    rules: { softBounceLimit: 3 },
    env,
    now: () => NOW,
    certificates: async (url) => {
      fetched.push(url);
      return snsCert;
    },
    confirmSubscription: async (url) => void confirmed.push(url),
  });
  return {
    store,
    handler,
    fetched,
    confirmed,
    async post(provider, body, headers = {}) {
      const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      const request: EndpointRequest = {
        method: 'POST',
        url: new URL(`https://news.example.com/webhooks/${provider}`),
        header: (name) => lower[name] ?? null,
        body: async (max) => (bytes.length > max ? null : new Uint8Array(bytes)),
      };
      const [response, outcome] = await handler(request, provider);
      return { status: response.status, body: String(response.body), outcome };
    },
  };
}

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-events';
const ourId = (issue: string, email: string) => messageIdFor({ listId: LIST_ID, from: 'news@example.com', name: 'x' } as never, issue, email);

describe('Amazon SES through SNS', () => {
  function snsMessage(fields: Record<string, string>): Record<string, string> {
    const message = { SignatureVersion: '2', SigningCertURL: CERT_URL, ...fields };
    // The canonical string as AWS documents it, written out here (not the code under test).
    const order = fields.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const canonical = order.filter((k) => k in fields).map((k) => `${k}\n${fields[k]}\n`).join('');
    return { ...message, Signature: sign('sha256', Buffer.from(canonical), snsKey).toString('base64') };
  }
  const notification = (id: string, event: object, timestamp = new Date(NOW - 1000).toISOString()) =>
    snsMessage({ Type: 'Notification', MessageId: id, TopicArn: TOPIC, Message: JSON.stringify(event), Timestamp: timestamp });
  const bounce = (type: 'Permanent' | 'Transient', email: string) => ({
    notificationType: 'Bounce',
    bounce: { bounceType: type, bounceSubType: type === 'Permanent' ? 'General' : 'MailboxFull', bouncedRecipients: [{ emailAddress: email, status: type === 'Permanent' ? '5.1.1' : '4.2.2', action: 'failed', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] },
    mail: { messageId: '0100018c-ses-id', commonHeaders: { messageId: ourId('weekly-1', email) } },
  });

  it('records a Permanent bounce as hard, a Transient one as soft and a complaint, each once, fetching the certificate once', async () => {
    const h = harness({ SES_TOPIC_ARNS: TOPIC });
    expect(await h.post('ses', notification('sns-1', bounce('Permanent', 'ann@example.org')))).toMatchObject({ status: 200, outcome: 'webhook-recorded' });
    expect(await h.post('ses', notification('sns-2', bounce('Transient', 'bob@example.org')))).toMatchObject({ status: 200 });
    expect(await h.post('ses', notification('sns-3', { notificationType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: 'cy@example.org' }], complaintFeedbackType: 'abuse' }, mail: {} }))).toMatchObject({ status: 200 });
    expect(await h.store.suppressions.has('ann@example.org')).toBe(true);
    expect(await h.store.suppressions.has('bob@example.org')).toBe(false);
    expect(await h.store.suppressions.has('cy@example.org')).toBe(true);
    expect(await h.store.bounces.tallies({ listId: LIST_ID, issueSlug: 'weekly-1' })).toEqual({ hard: 1, soft: 1, complaint: 0 });
    expect(h.fetched).toEqual([CERT_URL]);
    // Replayed: verified again, recorded nothing.
    const again = await h.post('ses', notification('sns-2', bounce('Transient', 'bob@example.org')));
    expect(again).toMatchObject({ status: 200, outcome: 'webhook-nothing' });
    expect(again.body).toMatch(/recorded 0 of 1/);
  });

  it('refuses a bad signature, a stale timestamp, an unsigned message and a certificate from another host', async () => {
    const h = harness({ SES_TOPIC_ARNS: TOPIC });
    const good = notification('sns-9', bounce('Permanent', 'dee@example.org'));
    expect(await h.post('ses', { ...good, Message: good.Message!.replace('dee@', 'eve@') })).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    // SNS retries for up to an hour: older than that is stale.
    expect(await h.post('ses', notification('sns-10', bounce('Permanent', 'dee@example.org'), new Date(NOW - 2 * 3600_000).toISOString()))).toMatchObject({ status: 403, outcome: 'webhook-stale' });
    const { Signature: _, ...unsigned } = good;
    expect(await h.post('ses', unsigned)).toMatchObject({ status: 401, outcome: 'webhook-unsigned' });
    const fetchedBefore = h.fetched.length;
    expect(await h.post('ses', { ...good, SigningCertURL: 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem' })).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    expect(h.fetched).toHaveLength(fetchedBefore);
    expect(await h.store.suppressions.has('dee@example.org')).toBe(false);
    expect(await h.store.suppressions.has('eve@example.org')).toBe(false);
  });

  it('accepts only the topics of SES_TOPIC_ARNS, before fetching anything: AWS signs every account\'s topics', async () => {
    const h = harness({ SES_TOPIC_ARNS: `${TOPIC}, arn:aws:sns:us-east-1:123456789012:other` });
    const stranger = 'arn:aws:sns:us-east-1:666666666666:attacker-topic';
    const url = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${stranger}&Token=t`;
    const confirmation = snsMessage({ Type: 'SubscriptionConfirmation', MessageId: 'sub-x', Token: 't', TopicArn: stranger, Message: 'subscribe', SubscribeURL: url, Timestamp: new Date(NOW).toISOString() });
    expect(await h.post('ses', confirmation)).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    const forged = snsMessage({ Type: 'Notification', MessageId: 'sns-x', TopicArn: stranger, Message: JSON.stringify(bounce('Permanent', 'ceo@example.org')), Timestamp: new Date(NOW).toISOString() });
    expect(await h.post('ses', forged)).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    expect(h.confirmed).toEqual([]);
    expect(h.fetched).toEqual([]);
    expect(await h.store.suppressions.has('ceo@example.org')).toBe(false);
    // Without SES_TOPIC_ARNS the endpoint is off, as the others are without their keys.
    expect(await harness().post('ses', notification('sns-y', bounce('Permanent', 'ann@example.org')))).toMatchObject({ status: 404, outcome: 'webhook-not-configured' });
  });

  it('confirms a subscription by visiting its SubscribeURL', async () => {
    const h = harness({ SES_TOPIC_ARNS: TOPIC });
    const url = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:123456789012:ses-events&Token=abc';
    const response = await h.post('ses', snsMessage({ Type: 'SubscriptionConfirmation', MessageId: 'sub-1', Token: 'abc', TopicArn: TOPIC, Message: 'You have chosen to subscribe', SubscribeURL: url, Timestamp: new Date(NOW).toISOString() }));
    expect(response).toMatchObject({ status: 200 });
    expect(h.confirmed).toEqual([url]);
  });

  it.each([
    ['https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem', true],
    ['https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem', true],
    ['https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem', true],
    ['http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem', false],
    ['https://sns.us-east-1.amazonaws.com.evil.example/cert.pem', false],
    ['https://evil.example/sns.us-east-1.amazonaws.com/cert.pem', false],
    ['https://user@sns.us-east-1.amazonaws.com/cert.pem', false],
    ['https://sns.us-east-1.amazonaws.com:8443/cert.pem', false],
    ['https://s3.amazonaws.com/cert.pem', false],
    ['https://sns.us-east-1.amazonaws.com/cert.txt', false],
  ])('the certificate host check: %s → %s', (url, ok) => {
    expect(isSnsCertificateUrl(url)).toBe(ok);
  });
});

describe('Postmark', () => {
  const AUTH = 'hook:pm-secret';
  const basic = (credentials: string) => ({ Authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
  const record = (id: number, typeCode: number, email: string) => ({ RecordType: 'Bounce', ID: id, Type: typeCode === 1 ? 'HardBounce' : 'SoftBounce', TypeCode: typeCode, Email: email, Details: 'smtp;550 5.1.1 unknown', BouncedAt: new Date(NOW).toISOString() });

  it('records with the right credentials, refuses without or with wrong ones, records a replay once', async () => {
    const h = harness({ POSTMARK_WEBHOOK_AUTH: AUTH });
    expect(await h.post('postmark', record(1, 1, 'ann@example.org'), basic(AUTH))).toMatchObject({ status: 200, outcome: 'webhook-recorded' });
    expect(await h.post('postmark', record(2, 1, 'bob@example.org'))).toMatchObject({ status: 401, outcome: 'webhook-unsigned' });
    expect(await h.post('postmark', record(3, 1, 'cy@example.org'), basic('hook:wrong'))).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    expect(await h.post('postmark', record(4, 4096, 'dee@example.org'), basic(AUTH))).toMatchObject({ status: 200 });
    expect(await h.post('postmark', { RecordType: 'SpamComplaint', ID: 5, TypeCode: 100001, Email: 'eve@example.org' }, basic(AUTH))).toMatchObject({ status: 200 });
    expect(await h.post('postmark', record(1, 1, 'ann@example.org'), basic(AUTH))).toMatchObject({ status: 200, outcome: 'webhook-nothing' });
    expect([await h.store.suppressions.has('ann@example.org'), await h.store.suppressions.has('bob@example.org'), await h.store.suppressions.has('cy@example.org')]).toEqual([true, false, false]);
    expect([await h.store.suppressions.has('dee@example.org'), await h.store.suppressions.has('eve@example.org')]).toEqual([false, true]);
  });

  it('is 404 when POSTMARK_WEBHOOK_AUTH is not set: nothing is accepted unsigned', async () => {
    expect(await harness().post('postmark', record(1, 1, 'ann@example.org'))).toMatchObject({ status: 404, outcome: 'webhook-not-configured' });
  });
});

describe('SendGrid', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const PUBLIC = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const signed = (events: object[], timestamp = String(Math.floor(NOW / 1000) - 5), key = privateKey) => {
    const body = JSON.stringify(events);
    const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), { key, dsaEncoding: 'der' }).toString('base64');
    return { body, headers: { 'X-Twilio-Email-Event-Webhook-Signature': signature, 'X-Twilio-Email-Event-Webhook-Timestamp': timestamp } };
  };
  const events = [
    { email: 'ann@example.org', event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 5.1.1 unknown', sg_event_id: 'e1', 'smtp-id': ourId('weekly-2', 'ann@example.org') },
    { email: 'bob@example.org', event: 'bounce', type: 'blocked', status: '5.7.1', reason: 'blocked', sg_event_id: 'e2' },
    { email: 'cy@example.org', event: 'spamreport', sg_event_id: 'e3' },
    { email: 'dee@example.org', event: 'dropped', reason: 'Bounced Address', sg_event_id: 'e4' },
    { email: 'eve@example.org', event: 'open', sg_event_id: 'e5' },
  ];

  it('verifies the ECDSA signature over timestamp and body, then records bounce, blocked, spamreport and dropped', async () => {
    const h = harness({ SENDGRID_WEBHOOK_PUBLIC_KEY: PUBLIC });
    const { body, headers } = signed(events);
    const response = await h.post('sendgrid', body, headers);
    expect(response).toMatchObject({ status: 200 });
    expect(response.body).toMatch(/recorded 4 of 5/);
    const suppressed = await Promise.all(['ann', 'bob', 'cy', 'dee', 'eve'].map((n) => h.store.suppressions.has(`${n}@example.org`)));
    expect(suppressed).toEqual([true, false, true, true, false]);
    expect(await h.store.bounces.tallies({ listId: LIST_ID, issueSlug: 'weekly-2' })).toEqual({ hard: 1, soft: 0, complaint: 0 });
    // The same signed request again: refused, however its signature is spelled.
    expect(await h.post('sendgrid', body, headers)).toMatchObject({ status: 403, outcome: 'webhook-replayed' });
    const sig = headers['X-Twilio-Email-Event-Webhook-Signature'];
    for (const variant of [`${sig}!`, ` ${sig}`, sig.replace(/=+$/, '')]) {
      expect(await h.post('sendgrid', body, { ...headers, 'X-Twilio-Email-Event-Webhook-Signature': variant }), variant).toMatchObject({ status: 403, outcome: 'webhook-replayed' });
    }
  });

  it('refuses a signature by another key, a changed body, a stale timestamp and no signature', async () => {
    const h = harness({ SENDGRID_WEBHOOK_PUBLIC_KEY: PUBLIC });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const forged = signed(events, undefined, other);
    expect(await h.post('sendgrid', forged.body, forged.headers)).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    const good = signed(events);
    expect(await h.post('sendgrid', good.body.replace('ann@', 'zed@'), good.headers)).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    const stale = signed(events, String(Math.floor(NOW / 1000) - 3600));
    expect(await h.post('sendgrid', stale.body, stale.headers)).toMatchObject({ status: 403, outcome: 'webhook-stale' });
    expect(await h.post('sendgrid', good.body)).toMatchObject({ status: 401, outcome: 'webhook-unsigned' });
    expect(await h.store.suppressions.has('ann@example.org')).toBe(false);
  });
});

describe('replays past the request checks', () => {
  it('a Postmark request sent again later (it carries no timestamp) does not suppress again an address lifted since', async () => {
    const AUTH = 'hook:pm-secret';
    const h = harness({ POSTMARK_WEBHOOK_AUTH: AUTH });
    const headers = { Authorization: `Basic ${Buffer.from(AUTH).toString('base64')}` };
    const bounce = { RecordType: 'Bounce', ID: 77, Type: 'HardBounce', TypeCode: 1, Email: 'lifted@example.org', Details: 'smtp;550 5.1.1 unknown' };
    expect(await h.post('postmark', bounce, headers)).toMatchObject({ status: 200, outcome: 'webhook-recorded' });
    expect(await h.store.suppressions.remove('lifted@example.org')).toBe(true);
    expect(await h.post('postmark', bounce, headers)).toMatchObject({ status: 200, outcome: 'webhook-nothing' });
    expect(await h.store.suppressions.has('lifted@example.org')).toBe(false);
  });
});

describe('Mailgun', () => {
  const KEY = 'mailgun-signing-key';
  const payload = (token: string, eventData: object, timestamp = String(Math.floor(NOW / 1000) - 5), key = KEY) => ({
    signature: { timestamp, token, signature: createHmac('sha256', key).update(timestamp + token).digest('hex') },
    'event-data': eventData,
  });
  const failed = (email: string, severity: 'permanent' | 'temporary') => ({ event: 'failed', severity, recipient: email, id: `ev-${email}`, 'delivery-status': { code: 550, message: '5.1.1 user unknown' }, message: { headers: { 'message-id': ourId('weekly-1', email).slice(1, -1) } } });

  it('records failed (permanent/temporary) and complained; a token is used once', async () => {
    const h = harness({ MAILGUN_WEBHOOK_SIGNING_KEY: KEY });
    expect(await h.post('mailgun', payload('t1', failed('ann@example.org', 'permanent')))).toMatchObject({ status: 200, outcome: 'webhook-recorded' });
    expect(await h.post('mailgun', payload('t2', failed('bob@example.org', 'temporary')))).toMatchObject({ status: 200 });
    expect(await h.post('mailgun', payload('t3', { event: 'complained', recipient: 'cy@example.org', id: 'c1' }))).toMatchObject({ status: 200 });
    expect(await h.post('mailgun', payload('t1', failed('dee@example.org', 'permanent')))).toMatchObject({ status: 403, outcome: 'webhook-replayed' });
    const suppressed = await Promise.all(['ann', 'bob', 'cy', 'dee'].map((n) => h.store.suppressions.has(`${n}@example.org`)));
    expect(suppressed).toEqual([true, false, true, false]);
    expect(await h.store.bounces.tallies({ listId: LIST_ID, issueSlug: 'weekly-1' })).toEqual({ hard: 1, soft: 1, complaint: 0 });
  });

  it('a signature is used once however timestamp and token are split; an event naming no single address records nothing', async () => {
    const h = harness({ MAILGUN_WEBHOOK_SIGNING_KEY: KEY });
    const timestamp = String(Math.floor(NOW / 1000) - 5);
    const first = payload('e0abc123', failed('ann@example.org', 'permanent'), timestamp);
    expect(await h.post('mailgun', first)).toMatchObject({ status: 200, outcome: 'webhook-recorded' });
    // The same HMAC input, "…5e0" + "abc123": a new token to a check of tokens alone.
    const resplit = { signature: { ...first.signature, timestamp: `${timestamp}e0`, token: 'abc123' }, 'event-data': failed('victim@example.org', 'permanent') };
    expect((await h.post('mailgun', resplit)).status).toBe(403);
    expect(await h.store.suppressions.has('victim@example.org')).toBe(false);
    for (const [i, recipient] of ['a@example.org, victim2@example.org', `sha256:${'ab'.repeat(32)}`, '-lifted@example.org', 'Name <victim3@example.org>', `${'x'.repeat(300)}@example.org`].entries()) {
      const response = await h.post('mailgun', payload(`bad${i}`, { event: 'complained', recipient, id: `bad-${i}` }));
      expect(response, recipient).toMatchObject({ status: 200, outcome: 'webhook-nothing' });
      expect(response.body).toMatch(/skipped 1 naming no single address; recorded 0 of 1/);
    }
    const suppressed = await h.store.suppressions.load();
    expect(suppressed.size).toBe(1);
    expect(suppressed.has('ann@example.org')).toBe(true);
  });

  it('refuses a bad signature, a stale timestamp and no signature', async () => {
    const h = harness({ MAILGUN_WEBHOOK_SIGNING_KEY: KEY });
    expect(await h.post('mailgun', payload('t9', failed('ann@example.org', 'permanent'), undefined, 'another-key'))).toMatchObject({ status: 403, outcome: 'webhook-bad-signature' });
    expect(await h.post('mailgun', payload('t10', failed('ann@example.org', 'permanent'), String(Math.floor(NOW / 1000) - 3600)))).toMatchObject({ status: 403, outcome: 'webhook-stale' });
    expect(await h.post('mailgun', { 'event-data': failed('ann@example.org', 'permanent') })).toMatchObject({ status: 401, outcome: 'webhook-unsigned' });
    expect(await h.store.suppressions.has('ann@example.org')).toBe(false);
  });
});

describe('on serve', () => {
  it('routes POST /webhooks/<provider> under siteUrl to the webhooks, logs no address, and 404s an unknown provider', async () => {
    const root = path.join(dir, 'serve');
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'newsletter.config.json'), await readFile(path.join(ROOT, 'newsletter.config.json')));
    const project = await loadProject({ cwd: root, content: path.join(ROOT, 'content'), templates: path.join(ROOT, 'templates'), out: path.join(root, 'dist') });
    const store = openFilesStore({ journalDir: path.join(root, '.newsletter/sends'), suppressions: path.join(root, 'suppressions.txt') });
    opened.push(store);
    const logs: { path: string; outcome: string; status: number }[] = [];
    const handler = await createUnsubscribeHandler({ project, secret: 'serve-secret', suppressions: store.suppressions, webhooks: { store, env: { MAILGUN_WEBHOOK_SIGNING_KEY: 'k' } }, onRequest: (log) => logs.push(log) });
    const base = new URL(project.config.siteUrl);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify({
      signature: { timestamp, token: 'servetoken1', signature: createHmac('sha256', 'k').update(`${timestamp}servetoken1`).digest('hex') },
      'event-data': { event: 'failed', severity: 'permanent', recipient: 'gone@example.org', id: 'x1' },
    });
    const response = await handler(new Request(new URL('webhooks/mailgun', base), { method: 'POST', body, headers: { 'content-type': 'application/json' } }));
    expect(response.status).toBe(200);
    expect(await store.suppressions.has('gone@example.org')).toBe(true);
    const unknown = await handler(new Request(new URL('webhooks/other', base), { method: 'POST', body: '{}' }));
    expect(unknown.status).toBe(404);
    expect(logs.map((l) => [l.path, l.status, l.outcome])).toEqual([
      [`${base.pathname}webhooks/mailgun`, 200, 'webhook-recorded'],
      [`${base.pathname}webhooks/other`, 404, 'webhook-not-found'],
    ]);
    expect(JSON.stringify(logs)).not.toContain('gone@');
  });
});
