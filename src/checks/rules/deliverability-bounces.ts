import addressparser from 'nodemailer/lib/addressparser';
import type { Rule } from '../types.js';

/**
 * Where bounces go (docs/bounces.md). DMARC passes on SPF only when the Return-Path (the
 * envelope sender: `bounces.address` with VERP, else From) is in the same organizational domain
 * as From (relaxed alignment). Without `bounces.address`, a bounce reaches the From mailbox and
 * `newsletter bounces` can match it only by what it quotes.
 */

/** Second-level labels under which registrations happen (`example.co.uk`): a small stand-in for the Public Suffix List. */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'ac', 'gov', 'edu', 'ne', 'or', 'go', 'gv', 'ltd', 'plc', 'nic', 'sch', 'mil']);

export function organizationalDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  const take = labels.length >= 3 && labels[labels.length - 1]!.length === 2 && SECOND_LEVEL.has(labels[labels.length - 2]!) ? 3 : 2;
  return labels.slice(-take).join('.');
}

function domainOf(address: string): string {
  return address.split('@').pop()!.toLowerCase();
}

export const deliverabilityReturnPath: Rule = {
  id: 'deliverability/return-path',
  description: 'the Return-Path (bounces.address) is not in the From address\'s organizational domain: SPF then cannot align for DMARC',
  defaultSeverity: 'warn',
  check({ config, locate }) {
    const bounces = config.bounces.address;
    const from = addressparser(config.from, { flatten: true })[0]?.address;
    if (!bounces || !from) return [];
    const [a, b] = [organizationalDomain(domainOf(bounces)), organizationalDomain(domainOf(from))];
    if (a === b) return [];
    return [
      {
        message: `the Return-Path \`bounces+…@${domainOf(bounces)}\` (bounces.address) and From \`${from}\` are in different domains (${a}, ${b}): SPF passes for ${a} but does not align with From, so DMARC rests on DKIM alone; use a bounce address under ${b}`,
        ...locate.setting(['bounces', 'address']),
      },
    ];
  },
};

export const deliverabilityBounceAddress: Rule = {
  id: 'deliverability/bounce-address',
  description: 'a real send is set up (SMTP_URL) but `bounces.address` is not: bounces go to From and name their recipient only when they quote the message',
  defaultSeverity: 'warn',
  check({ config, locate, smtpConfigured }) {
    if (!smtpConfigured || config.bounces.address) return [];
    return [
      {
        message: 'SMTP_URL is set for a real send but `bounces.address` is not: bounces go back to the From address, and `newsletter bounces` can match them to a reader only by the headers they quote; set `bounces.address` (e.g. "bounces@news.example.com", a mailbox `bounces` reads) for a VERP address per message',
        ...locate.setting(['bounces']),
      },
    ];
  },
};
