import { simpleParser, type ParsedMail } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Recipient } from '../src/config/defaults.js';
import { loadConfig } from '../src/config/load-config.js';
import { loadIssue } from '../src/content/load-issue.js';
import { composeMessage } from '../src/render/message.js';
import { compileIssue, type CompiledIssue } from '../src/render/personalize.js';
import { loadTemplates } from '../src/render/templates.js';
import { compileMessageTemplate, type MessageTemplate } from '../src/send/message-template.js';
import { encodeValue } from '../src/send/qp-slots.js';
import { CONTENT, FIXTURES, REPO, SLOT_TEMPLATES } from './helpers/send-project.js';

/** The per-recipient bytes from the slotted MIME message against nodemailer composing from scratch. */

const RECIPIENTS: Recipient[] = [
  { email: 'ann@example.com', name: 'Ann Adams', city: 'Bristol' },
  { email: 'bob@example.com', name: 'Bob "B" <b>&amp;', city: 'Leeds' },
  { email: 'dora@example.com', name: 'Zoë Ünïcødé, Esq.', city: 'Köln 中文 😀' },
  { email: 'gina@example.com', name: '', city: '' },
  { email: 'long.address.with.many.parts.to.force.wrapping.of.lines@sub.domain.example.com', name: 'x'.repeat(150), city: '=3D=20 trailing ' },
  { email: 'frank@example.com', name: 'Frank\r\nBcc: victim@example.com', city: 'Bath\nBcc: victim2@example.com' },
  { email: 'ivy@example.com', name: "=?utf-8?Q?x?= 'quoted' `tick` ÿ", city: '  edges  ' },
  { email: 'ed@example.com', name: '\u00e9'.repeat(40), city: '.dot at start' },
];

function headerFields(raw: Buffer): string[] {
  const head = raw.toString('utf8').split(/\r?\n\r?\n/)[0]!;
  return head.split(/\r?\n(?![ \t])/).map((field) => field.replace(/boundary="[^"]*"/, 'boundary=…').replace(/\r?\n/g, '\n'));
}

describe('the MIME message composed once with slots', () => {
  let compiled: CompiledIssue;
  let template: MessageTemplate;
  let config: Awaited<ReturnType<typeof loadConfig>>;
  const date = new Date('2026-03-04T05:06:07Z');

  beforeAll(async () => {
    config = await loadConfig({ configFile: `${FIXTURES}/newsletter.config.json`, content: CONTENT, cwd: REPO });
    const templates = await loadTemplates(SLOT_TEMPLATES, config.paths.cwd, config.themeOverrides);
    const issue = await loadIssue(CONTENT, 'weekly-1', config.paths.cwd);
    compiled = await compileIssue(issue, { config, templates, secret: 'k', fields: ['email', 'name', 'city'] });
    template = await compileMessageTemplate(compiled, config);
  });

  it.each(RECIPIENTS.map((r) => [r.email, r]))('decodes to what a from-scratch compose decodes to: %s', async (_email, recipient) => {
    const message = await template.build(recipient, date);
    const copy = await compiled.personalize(recipient);
    const reference = await composeMessage({ config, issueSlug: 'weekly-1', subject: compiled.issue.subject, html: copy.html, text: copy.text, recipient, unsubscribeUrl: copy.unsubscribeUrl, date });
    const [ours, theirs]: [ParsedMail, ParsedMail] = await Promise.all([simpleParser(message.raw), simpleParser(reference)]);
    expect(ours.html).toBe(theirs.html);
    expect(ours.text).toBe(theirs.text);
    // Line breaks inside values travel as CRLF, as SMTP carries every line break.
    expect(ours.html).toBe(copy.html.replace(/\r?\n/g, '\n'));
    for (const key of ['to', 'from', 'reply-to', 'subject', 'message-id', 'date', 'list-unsubscribe-post', 'list-id']) {
      expect(JSON.stringify(ours.headers.get(key)), key).toBe(JSON.stringify(theirs.headers.get(key)));
    }
    expect(ours.headerLines.find((h) => h.key === 'list-unsubscribe')?.line).toBe(theirs.headerLines.find((h) => h.key === 'list-unsubscribe')?.line);
    // Same header fields, in the same order, byte for byte (the boundary aside).
    expect(headerFields(message.raw)).toEqual(headerFields(reference));
    expect(message.messageId).toBe(ours.messageId);
    expect(message.envelope).toEqual({ from: 'dispatch@news.example.com', to: [recipient.email] });
  });

  it('never lets a field add a header or a recipient', async () => {
    const message = await template.build(RECIPIENTS[5]!, date);
    const parsed = await simpleParser(message.raw);
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.headerLines.filter((h) => h.key === 'to')).toHaveLength(1);
    const to = parsed.to as { value: { address: string; name: string }[] };
    expect(to.value.map((v) => v.address)).toEqual(['frank@example.com']);
    expect(to.value[0]!.name).toBe('Frank Bcc: victim@example.com');
  });

  it('builds ordinary recipients from the slots, with CRLF lines of at most 76 characters in both parts', async () => {
    const message = await template.build(RECIPIENTS[2]!, date);
    expect(message.composed).toBe(false);
    const text = message.raw.toString('latin1');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  });

  it('wraps an encoded value without splitting a character, ending with a soft break', () => {
    const encoded = encodeValue('é'.repeat(30) + ' x=y', 70);
    const lines = encoded.split('\r\n');
    expect(lines.at(-1)).toBe('');
    for (const line of lines.slice(0, -1)) {
      expect(line.endsWith('=')).toBe(true);
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).not.toMatch(/=C3=$|=C3$/);
    }
    expect(Buffer.from(encoded.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')).toBe('é'.repeat(30) + ' x=y');
  });
});
