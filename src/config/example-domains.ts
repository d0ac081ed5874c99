import { readFile } from 'node:fs/promises';
import { displayPath } from '../fs/display-path.js';
import { lineOfJsonKey } from '../text-position.js';
import { DEFAULTS, type ResolvedConfig } from './defaults.js';

/**
 * Addresses of the config that no reader can reach: `siteUrl` left unset (the built-in
 * `https://newsletter.example.com/`), or a domain reserved for examples and tests (RFC 2606,
 * RFC 6761) in `siteUrl`, `from` or the unsubscribe URL. Every link, image and List-Unsubscribe
 * of a message is made from them, so mail sent with one of them can be neither read in full nor
 * unsubscribed from. `check` reports them (rule `links/example-domain`); a send to SMTP refuses them.
 */

export const EXAMPLE_DOMAIN_RULE = 'links/example-domain';

export type AddressKey = 'siteUrl' | 'baseUrl' | 'unsubscribeUrl' | 'from' | 'replyTo' | 'unsubscribeMailto';

export interface PlaceholderAddress {
  key: AddressKey;
  /** The value as resolved (the built-in default when the config does not set it). */
  value: string;
  /** What is wrong, starting with the key in backticks. */
  problem: string;
  /** What it does to the mail sent. */
  consequence: string;
}

const CONSEQUENCES: Readonly<Record<AddressKey, string>> = Object.freeze({
  siteUrl: 'every link, image and unsubscribe URL of a message is made from it, and would reach nobody',
  baseUrl: "the email's \"View in browser\" link would reach nobody",
  unsubscribeUrl: 'no unsubscribe (List-Unsubscribe, the footer link) would ever be answered',
  from: 'replies and bounces would go nowhere, and receivers refuse mail from a domain that cannot exist',
  replyTo: 'replies would go nowhere',
  unsubscribeMailto: 'the List-Unsubscribe mailbox would reach nobody',
});

const EXAMPLE_NAMES = new Set(['example.com', 'example.org', 'example.net']);
const RESERVED_TLDS = new Set(['example', 'test', 'invalid', 'localhost']);

/** example.com/.org/.net and their subdomains, and the reserved top-level names .example, .test, .invalid, .localhost. */
export function isReservedDomain(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (RESERVED_TLDS.has(labels.at(-1)!)) return true;
  return EXAMPLE_NAMES.has(labels.slice(-2).join('.'));
}

function hostOfUrl(url: string): string | null {
  // `{token}`, `{email}`, `{issue}` stand in a pattern: any value will do to read the host.
  const filled = url.replace(/\{\w+\}/g, 'x');
  return URL.canParse(filled) ? new URL(filled).hostname : null;
}

function domainOfAddress(address: string): string | null {
  const angle = /<([^>]*)>/.exec(address);
  const bare = (angle ? angle[1]! : address).trim();
  const at = bare.lastIndexOf('@');
  return at < 0 ? null : bare.slice(at + 1);
}

export function placeholderAddresses(config: ResolvedConfig): PlaceholderAddress[] {
  const found: PlaceholderAddress[] = [];
  const reserved = (key: AddressKey, value: string) => found.push({ key, value, problem: `\`${key}\` (\`${value}\`) is on a domain reserved for examples`, consequence: CONSEQUENCES[key] });
  const siteHost = hostOfUrl(config.siteUrl);
  if (config.siteUrl === DEFAULTS.config.siteUrl) {
    found.push({ key: 'siteUrl', value: config.siteUrl, problem: `\`siteUrl\` is not set (the placeholder \`${config.siteUrl}\` stands in)`, consequence: CONSEQUENCES.siteUrl });
  } else if (siteHost && isReservedDomain(siteHost)) {
    reserved('siteUrl', config.siteUrl);
  }
  // URLs made from siteUrl are said once, under siteUrl; a URL set on its own is said on its own.
  for (const key of ['baseUrl', 'unsubscribeUrl'] as const) {
    const host = hostOfUrl(config[key]);
    if (!config[key].startsWith(config.siteUrl) && host && isReservedDomain(host)) reserved(key, config[key]);
  }
  for (const key of ['from', 'replyTo', 'unsubscribeMailto'] as const) {
    const value = config[key];
    const domain = value ? domainOfAddress(value) : null;
    if (value && domain && isReservedDomain(domain)) reserved(key, value);
  }
  return found;
}

/** The config file as shown, and the line of `key` in it: `newsletter.config.json:6`. */
export async function configKeyPlace(config: ResolvedConfig, key: string): Promise<{ file: string; line?: number | undefined }> {
  const file = config.paths.config;
  if (!file) return { file: DEFAULTS.configFile };
  const text = await readFile(file, 'utf8').catch(() => '');
  return { file: displayPath(file, config.paths.cwd), line: lineOfJsonKey(text, [key]) };
}
