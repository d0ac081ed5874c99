import addressparser from 'nodemailer/lib/addressparser';
import type { ResolvedConfig } from '../config/defaults.js';

/**
 * The newsletter's identity in headers: `List-Id` names it in every message, and unsubscribe
 * tokens are bound to it (links.ts), so both must come from this one function.
 */

/** Header values never carry CR or LF: a list field must not be able to add a header. */
export function headerSafe(value: string): string {
  return value.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
}

export function fromDomain(config: Pick<ResolvedConfig, 'from'>): string {
  const parsed = addressparser(config.from, { flatten: true });
  const address = parsed[0]?.address ?? '';
  return address.split('@')[1]?.toLowerCase() || 'localhost';
}

// Asked once per recipient when tokens are made; the From address parse is the cost.
const listIds = new Map<string, string>();

export function listIdFor(config: Pick<ResolvedConfig, 'listId' | 'name' | 'from'>): string {
  const key = `${config.listId}\0${config.name}\0${config.from}`;
  let value = listIds.get(key);
  if (value === undefined) {
    value = computeListId(config);
    if (listIds.size > 64) listIds.clear();
    listIds.set(key, value);
  }
  return value;
}

function computeListId(config: Pick<ResolvedConfig, 'listId' | 'name' | 'from'>): string {
  if (config.listId) return headerSafe(config.listId);
  const label = config.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'newsletter';
  return `${config.name.replace(/["\\\r\n]/g, '')} <${label}.${fromDomain(config)}>`;
}

