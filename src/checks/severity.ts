import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { displayPath } from '../content/load-article.js';
import { NewsletterError, type ErrorPlace } from '../errors.js';
import { lineOfJsonKey } from '../text-position.js';
import { AUDIT_RULES, RULES } from './rules/index.js';
import type { RuleSeverity } from './types.js';

/** Where a config key is written, for config errors found at check time. */
export async function configPlace(config: ResolvedConfig, keyPath: string[]): Promise<ErrorPlace> {
  const file = config.paths.config;
  if (!file) return { file: DEFAULTS.configFile };
  const text = await readFile(file, 'utf8').catch(() => '');
  return { file: displayPath(file), line: lineOfJsonKey(text, keyPath) };
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** Each rule's severity: the config's `checks.rules` over the rule's default. Unknown rule ids are errors. */
export async function resolveSeverities(config: ResolvedConfig): Promise<Map<string, RuleSeverity>> {
  const rules = [...RULES, ...AUDIT_RULES];
  const severities = new Map<string, RuleSeverity>(rules.map((rule) => [rule.id, rule.defaultSeverity]));
  for (const [id, severity] of Object.entries(config.checks.rules)) {
    if (!severities.has(id)) {
      const closest = rules.map((rule) => rule.id).sort((a, b) => distance(id, a) - distance(id, b))[0]!;
      throw new NewsletterError('CONFIG_INVALID', `\`checks.rules\`: unknown rule \`${id}\``, {
        ...(await configPlace(config, ['checks', 'rules', id])),
        hint: `did you mean \`${closest}\`? \`newsletter check --list-rules\` lists them all`,
      });
    }
    severities.set(id, severity);
  }
  return severities;
}
