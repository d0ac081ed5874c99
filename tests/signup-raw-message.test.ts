import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { simpleParser, type ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../src/pipeline.js';
import { loadSignupEmail } from '../src/signup/emails.js';
import { signupMailOptions } from '../src/signup/mailer.js';
import { rawComposer } from '../src/signup/raw-message.js';
import { ROOT } from './helpers/cli.js';

/**
 * A sign-up email filled from slots (raw-message.ts) must read, once parsed, exactly as the same
 * email composed whole by nodemailer: headers, both parts, non-ASCII and markup characters included.
 */

function composeWhole(options: object): Promise<Buffer> {
  return new Promise((resolve, reject) => new MailComposer(options as never).compile().build((error, message) => (error ? reject(error) : resolve(message))));
}

function header(mail: ParsedMail, name: string): string | null {
  return mail.headerLines.find((line) => line.key === name)?.line.replace(/\r?\n\s+/g, ' ') ?? null;
}

describe('sign-up emails from slots', () => {
  it('parse as the whole compose does', async () => {
    const project = await loadProject({ cwd: path.join(ROOT, 'tests/fixtures/signup'), templates: path.join(ROOT, 'templates'), content: path.join(ROOT, 'content') });
    const config = project.config;
    const confirm = (await loadSignupEmail('confirm', config, project.templates))!;
    const welcome = (await loadSignupEmail('welcome', config, project.templates))!;
    const raw = rawComposer(config, (email) => signupMailOptions(config, email));
    const readers = [
      { email: 'ann@example.com', name: 'Ann' },
      { email: '"o\'neil&<b>"@example.com', name: 'Zoë Ångström — “quoted” <b>&' },
      { email: 'x'.repeat(60) + '@example.com', name: 'a'.repeat(150) },
    ];
    for (const recipient of readers) {
      const url = `https://news.example.com/confirm/${'Q'.repeat(300)}`;
      for (const [email, unsubscribeUrl] of [
        [await confirm({ recipient, confirmUrl: url, expiresDays: 7 }), null],
        [await welcome({ recipient, unsubscribeUrl: `${url}/u` }), `${url}/u`],
      ] as const) {
        const outgoing = { ...email, to: recipient, unsubscribeUrl };
        // The confirmation (one per sign-up) always has its slots; the welcome (one per
        // confirmation) falls back to a whole render when its template does more with a value.
        if (!unsubscribeUrl) expect(outgoing.slots).toBeDefined();
        if (!outgoing.slots) continue;
        const fromSlots = raw(outgoing);
        expect(fromSlots).not.toBeNull();
        expect(fromSlots!.to).toBe(recipient.email);
        const [a, b] = await Promise.all([simpleParser(fromSlots!.raw), simpleParser(await composeWhole(signupMailOptions(config, outgoing)))]);
        expect(a.html).toBe(b.html);
        expect(a.text).toBe(b.text);
        expect(a.subject).toBe(b.subject);
        expect(a.to).toEqual(b.to);
        expect(a.from).toEqual(b.from);
        for (const name of ['list-id', 'list-unsubscribe', 'list-unsubscribe-post', 'mime-version', 'content-type']) {
          expect(header(a, name)?.replace(/boundary="[^"]+"/, ''), name).toBe(header(b, name)?.replace(/boundary="[^"]+"/, ''));
        }
        expect(a.messageId).toMatch(/^<[0-9a-f]{24}@news\.example\.com>$/);
        expect(fromSlots!.raw.toString('latin1').split('\r\n').every((line) => line.length <= 998)).toBe(true);
      }
    }
  });
});
