import { describe, expect, it } from 'vitest';
import { organizationalDomain } from '../src/checks/rules/deliverability-bounces.js';
import { checkFixture, fixtureProject, ofRule } from './check-helpers.js';
import { checkProjectIssue } from '../src/index.js';

/** `check`'s deliverability rules for bounces: Return-Path alignment and a real send without bounces.address. */

async function findings(bounces: { address?: string } | null, env: NodeJS.ProcessEnv = {}, from?: string) {
  const project = await fixtureProject('clean');
  const config = { ...project.config, ...(from ? { from } : {}), bounces: { ...project.config.bounces, address: bounces?.address ?? null } };
  return (await checkProjectIssue({ ...project, config }, 'clean', { env })).findings;
}

describe('deliverability/return-path', () => {
  it('warns when bounces.address is in another organizational domain than From', async () => {
    const project = await fixtureProject('clean');
    const fromDomain = project.config.from.split('@')[1]!.replace(/>.*$/, '');
    const warned = ofRule(await findings({ address: 'bounces@bounce-provider.example.net' }), 'deliverability/return-path');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.severity).toBe('warn');
    expect(warned[0]!.message).toContain('bounce-provider.example.net');
    expect(ofRule(await findings({ address: `bounces@mail.${fromDomain}` }), 'deliverability/return-path')).toEqual([]);
    expect(ofRule(await findings(null), 'deliverability/return-path')).toEqual([]);
  });

  it.each([
    ['news.example.com', 'example.com'],
    ['bounces.news.example.co.uk', 'example.co.uk'],
    ['example.org', 'example.org'],
    ['mail.example.com.au', 'example.com.au'],
  ])('%s is under %s', (domain, org) => {
    expect(organizationalDomain(domain)).toBe(org);
  });
});

describe('deliverability/bounce-address', () => {
  it('warns for a real send (SMTP_URL set) without bounces.address, and is quiet otherwise', async () => {
    expect(ofRule(await findings(null, { SMTP_URL: 'smtp://relay.example.com:587' }), 'deliverability/bounce-address')).toHaveLength(1);
    expect(ofRule(await findings({ address: 'bounces@example.com' }, { SMTP_URL: 'smtp://relay.example.com:587' }), 'deliverability/bounce-address')).toEqual([]);
    expect(ofRule(await findings(null, {}), 'deliverability/bounce-address')).toEqual([]);
  });

  it('stays quiet on the clean fixture as it is', async () => {
    const { findings: clean } = await checkFixture('clean', 'clean', { env: {} });
    expect(ofRule(clean, 'deliverability/return-path')).toEqual([]);
  });
});
