import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULTS } from '../config/defaults.js';
import { normalizeEmail } from '../render/links.js';
import { AddressSet } from '../send/hash-set.js';
import type { BounceStore } from '../store/types.js';
import type { Classification, RecipientReport } from './classify.js';
import { addressOfTyped } from './fields.js';
import { readAgainAfter } from './read-again.js';
import { findVerpTags, VerpResolver } from './verp.js';

/**
 * Which recipient of which issue a report is about, in the order of confidence the issue asks:
 *
 * 1. the VERP tag of the address the report was sent to (or quotes as the original's sender):
 *    signed, it names recipient and issue even when the report quotes nothing;
 * 2. the original's Message-ID, when it is one of ours (`<hash.slug@domain>`, render/message.ts):
 *    its hash is recomputed from the list id, the slug and the named recipient (or, when the
 *    report names none, each recipient the issue was sent to);
 * 3. our List-Id quoted with the original's To;
 * 4. the report's Final-Recipient, when that address was sent an issue (on a list we mailed).
 *
 * An unsubscribe request names its reader in its From: it is matched when that address was sent
 * an issue, so a request from anyone else is left for a person.
 */

export type EventKind = 'hard' | 'soft' | 'complaint' | 'delivered' | 'unsubscribe';

export interface BounceEvent {
  kind: EventKind;
  email: string;
  /** The issue the report is about, when it could be told. */
  issue: string | null;
  status: string | null;
  diagnostic: string | null;
  /** `imap`, `ses`, `postmark`, `sendgrid`, `mailgun`. */
  source: string;
  /** How the recipient was found: `verp`, `message-id`, `list-id`, `final-recipient`, or the provider. */
  matchedBy: string;
}

export interface MatcherOptions {
  /** NEWSLETTER_SECRET (VERP tags); null: tags are not read. */
  secret: string | null;
  listId: string;
  /** `bounces.address`: tags are looked for after its local part. */
  verpBase: string | null;
  bounces: BounceStore;
}

const OUR_MESSAGE_ID = /^<([0-9a-f]{32})\.([\w.-]+)@[^>]+>$/;

export class ReportMatcher {
  private readonly verp: VerpResolver | null;
  /** Everyone sent an issue, for the issues list it was built from (built again when that changes). */
  private sentAddresses: { issues: string[]; set: Promise<AddressSet> } | null = null;
  private readonly issues: () => Promise<string[]>;
  /** Reports carrying a tag of ours, and those whose tag resolved: none resolving hints at another NEWSLETTER_SECRET. */
  readonly tags = { seen: 0, resolved: 0 };

  constructor(private readonly options: MatcherOptions) {
    const { secret, listId, bounces } = options;
    this.issues = readAgainAfter(() => bounces.sentIssues(listId).then((issues) => issues.map((issue) => issue.slug)), DEFAULTS.bounces.issuesMaxAgeMs);
    this.verp = secret && options.verpBase ? new VerpResolver(secret, listId, { issues: () => this.sentIssues(), recipients: (slug) => bounces.sentTo({ listId, issueSlug: slug }) }) : null;
  }

  private sentIssues(): Promise<string[]> {
    return this.issues();
  }

  /** The events a classified report makes; empty when it names nobody we sent to. */
  async match(report: Classification, source = 'imap'): Promise<BounceEvent[]> {
    if (report.kind === 'unsubscribe') {
      const sent = await this.allSent();
      const issues = await this.sentIssues();
      // "unsubscribe weekly-3" names an issue we sent; "Unsubscribe confirmation" (a list
      // manager's notice) names none: left for a person, not read as a reader's request.
      if (report.requestedIssue && !issues.includes(report.requestedIssue)) return [];
      const issue = report.requestedIssue ?? null;
      return report.recipients
        .filter((r) => r.email && sent.has(r.email))
        .map((r) => ({ kind: 'unsubscribe', email: normalizeEmail(r.email!), issue, status: null, diagnostic: r.diagnostic, source: 'mailto', matchedBy: 'from' }));
    }
    if (report.kind !== 'bounce' && report.kind !== 'complaint' && report.kind !== 'delivered') return [];
    const kindOf = (r: RecipientReport): EventKind => (report.kind === 'complaint' ? 'complaint' : report.kind === 'delivered' ? 'delivered' : r.severity === 'soft' ? 'soft' : 'hard');
    const event = (r: RecipientReport, email: string, issue: string | null, matchedBy: string): BounceEvent => ({
      kind: kindOf(r),
      email: normalizeEmail(email),
      issue,
      status: r.status,
      diagnostic: r.diagnostic,
      source,
      matchedBy,
    });

    // 1. VERP: one message, one recipient; the report's own recipient line gives the verdict.
    if (this.verp && this.options.verpBase) {
      const tags = findVerpTags(report.verpCandidates.join('\n'), this.options.verpBase);
      if (tags.length) this.tags.seen++;
      for (const tag of tags) {
        const found = await this.verp.resolve(tag);
        if (!found) continue;
        this.tags.resolved++;
        const line = report.recipients.find((r) => r.email === found.email) ?? report.recipients[0];
        if (line) return [event(line, found.email, found.issue, 'verp')];
      }
    }

    return this.unsigned(await this.byQuotedHeaders(report, event));
  }

  /**
   * What the headers a report quotes (steps 2–4) say, without a tag of ours: anyone who knows a
   * reader's address can write them (our Message-ID's hash is of the list id, the issue and the
   * address, all public). With VERP on, every report of ours comes back to a signed address, so
   * one without it may be forged: its hard bounce counts as a soft one (three issues in a row to
   * suppress, not one report), and its complaint is left for a person. Without VERP these are all
   * there is to go by (`check` warns when `bounces.address` is not set).
   */
  private unsigned(events: BounceEvent[]): BounceEvent[] {
    if (!this.verp) return events;
    return events.flatMap((e): BounceEvent[] => {
      if (e.kind === 'complaint') return [];
      if (e.kind === 'hard') return [{ ...e, kind: 'soft', diagnostic: `no VERP tag, so counted as soft: ${e.diagnostic ?? ''}`.trim() }];
      return [e];
    });
  }

  private async byQuotedHeaders(report: Classification, event: (r: RecipientReport, email: string, issue: string | null, matchedBy: string) => BounceEvent): Promise<BounceEvent[]> {
    // 2. Our Message-ID, quoted.
    const quotedId = report.original?.messageId?.trim() ?? '';
    const ours = OUR_MESSAGE_ID.exec(quotedId);
    if (ours) {
      const [, hash, slug] = ours;
      const events: BounceEvent[] = [];
      for (const r of report.recipients) {
        const email = r.email ?? (await this.recipientByHash(hash!, slug!));
        if (email && this.hashMatches(hash!, slug!, email)) events.push(event(r, email, slug!, 'message-id'));
      }
      if (events.length) return events;
    }

    // 3. Our List-Id with the original's To.
    const to = addressOfTyped(report.original?.to?.replace(/^.*<([^>]+)>.*$/, '$1') ?? null);
    if (to && report.original?.listId && sameListId(report.original.listId, this.options.listId)) {
      const r = report.recipients.find((x) => x.email === to) ?? report.recipients[0];
      if (r) return [event(r, to, ours?.[2] ?? null, 'list-id')];
    }

    // 4. Final-Recipient, when we sent that address an issue.
    const sent = await this.allSent();
    return report.recipients.filter((r) => r.email && sent.has(r.email)).map((r) => event(r, r.email!, null, 'final-recipient'));
  }

  private hashMatches(hash: string, slug: string, email: string): boolean {
    return issueOfMessageId(this.options.listId, `<${hash}.${slug}@x>`, email) === slug;
  }

  private async recipientByHash(hash: string, slug: string): Promise<string | null> {
    if (!(await this.sentIssues()).includes(slug)) return null;
    for await (const email of this.options.bounces.sentTo({ listId: this.options.listId, issueSlug: slug })) {
      if (this.hashMatches(hash, slug, email)) return email;
    }
    return null;
  }

  private async allSent(): Promise<AddressSet> {
    const issues = await this.sentIssues();
    if (this.sentAddresses?.issues !== issues) {
      const entry = {
        issues,
        set: (async () => {
          const set = new AddressSet();
          for (const slug of issues) {
            for await (const email of this.options.bounces.sentTo({ listId: this.options.listId, issueSlug: slug })) set.add(email);
          }
          return set;
        })(),
      };
      this.sentAddresses = entry;
      entry.set.catch(() => {
        if (this.sentAddresses === entry) this.sentAddresses = null;
      });
    }
    return this.sentAddresses!.set;
  }
}

/** The issue slug of one of our Message-IDs, when it was made for `email` on `listId`; else null. */
export function issueOfMessageId(listId: string, messageId: string | null, email: string): string | null {
  const ours = OUR_MESSAGE_ID.exec(messageId?.trim() ?? '');
  if (!ours) return null;
  const expected = createHash('sha256').update(`${listId}\n${ours[2]}\n${normalizeEmail(email)}`).digest('hex').slice(0, 32);
  return timingSafeEqual(Buffer.from(expected), Buffer.from(ours[1]!)) ? ours[2]! : null;
}

function sameListId(quoted: string, ours: string): boolean {
  const inner = (value: string) => (/<([^>]+)>/.exec(value)?.[1] ?? value).trim().toLowerCase();
  return inner(quoted) === inner(ours);
}
