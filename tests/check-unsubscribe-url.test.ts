import { describe, expect, it } from 'vitest';
import { checkProjectIssue, type Project } from '../src/index.js';
import { fixtureDir, fixtureProject, ofRule, shown } from './check-helpers.js';

/** The rules about the unsubscribe URL pattern of the config. */

async function withUnsubscribeUrl(unsubscribeUrl: string): Promise<Project> {
  const project = await fixtureProject('clean');
  return { ...project, config: { ...project.config, unsubscribeUrl } };
}

describe('unsubscribe URL rules', () => {
  it('compliance/unsubscribe-identifies: a URL without {token} or {email} is an error at the config key', async () => {
    const { findings } = await checkProjectIssue(await withUnsubscribeUrl('https://harbour.example.org/unsubscribe'), 'clean');
    const found = ofRule(findings, 'compliance/unsubscribe-identifies');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', file: shown(fixtureDir('clean'), 'newsletter.config.json'), line: 7 });
    expect(found[0]!.message).toContain('`https://harbour.example.org/unsubscribe`');
  });

  it('privacy/unsubscribe-email: {email} in the URL is a warning, {token} alone is quiet', async () => {
    const withEmail = await checkProjectIssue(await withUnsubscribeUrl('https://harbour.example.org/u?e={email}&t={token}'), 'clean');
    expect(ofRule(withEmail.findings, 'privacy/unsubscribe-email').map((f) => f.severity)).toEqual(['warn']);
    expect(ofRule(withEmail.findings, 'compliance/unsubscribe-identifies')).toEqual([]);
    const tokenOnly = await checkProjectIssue(await fixtureProject('clean'), 'clean');
    expect(ofRule(tokenOnly.findings, 'privacy/unsubscribe-email')).toEqual([]);
    expect(ofRule(tokenOnly.findings, 'compliance/unsubscribe-identifies')).toEqual([]);
  });
});
