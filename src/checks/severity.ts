import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '../config/defaults.js';
import { DEFAULTS } from '../config/defaults.js';
import { displayPath } from '../fs/display-path.js';
import { NewsletterError, type ErrorPlace } from '../errors.js';
import { lineOfJsonKey } from '../text-position.js';
import { closestMatch } from '../suggest.js';
import { AUDIT_RULES, RULES } from './rules/index.js';
import type { RuleSeverity } from './types.js';

/** Where a config key is written, for config errors found at check time. */
export async function configPlace(config: ResolvedConfig, keyPath: string[]): Promise<ErrorPlace> {
  const file = config.paths.config;
  if (!file) return { file: DEFAULTS.configFile };
  const text = await readFile(file, 'utf8').catch(() => '');
  return { file: displayPath(file, config.paths.cwd), line: lineOfJsonKey(text, keyPath) };
}

/** Each rule's severity: the config's `checks.rules` over the rule's default. Unknown rule ids are errors. */
export async function resolveSeverities(config: ResolvedConfig): Promise<Map<string, RuleSeverity>> {
  const rules = [...RULES, ...AUDIT_RULES];
  const severities = new Map<string, RuleSeverity>(rules.map((rule) => [rule.id, rule.defaultSeverity]));
  for (const [id, severity] of Object.entries(config.checks.rules)) {
    if (!severities.has(id)) {
      const closest = closestMatch(id, rules.map((rule) => rule.id));
      throw new NewsletterError('CONFIG_INVALID', `\`checks.rules\`: unknown rule \`${id}\``, {
        ...(await configPlace(config, ['checks', 'rules', id])),
        hint: `${closest ? `did you mean \`${closest}\`? ` : ''}\`npx newsletter check --list-rules\` lists them all`,
      });
    }
    severities.set(id, severity);
  }
  return severities;
}
