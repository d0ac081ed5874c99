import type { EventKind } from '../../bounces/match.js';
import type { EndpointRequest } from '../handler.js';

/** What a provider's webhook module makes of a request, once its signature is checked. */

export interface ProviderEvent {
  kind: EventKind | 'ignored';
  email: string;
  status: string | null;
  diagnostic: string | null;
  /** The provider's id of the event: recorded once. */
  id: string;
  /** Our Message-ID as the provider reports it (it names the issue), when it does. */
  messageId: string | null;
}

export type Verdict =
  /**
   * `once`: what the request's signature covers, to be accepted once (kept `ttlMs`). Claimed by
   * the handler in the same round of writes as the events' ids: one round fewer to wait for.
   */
  | { ok: true; events: ProviderEvent[]; note?: string; once?: { id: string; ttlMs: number } }
  | { ok: false; status: 400 | 401 | 403 | 404; why: 'unsigned' | 'bad-signature' | 'stale' | 'replayed' | 'bad-request' | 'not-configured'; message: string };

export interface WebhookContext {
  request: EndpointRequest;
  body: Buffer;
  /** The current time in ms (injectable for tests). */
  now: number;
  replayWindowMs: number;
  /** Once only (store.bounces.claim): false when `id` was seen within `ttlMs`. */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

export function refuse(status: 400 | 401 | 403 | 404, why: Extract<Verdict, { ok: false }>['why'], message: string): Verdict {
  return { ok: false, status, why, message };
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : typeof value === 'number' ? String(value) : null;
}

/** True when `at` (ms) is within the replay window of `now`, either side. */
export function fresh(at: number, now: number, windowMs: number): boolean {
  return Number.isFinite(at) && Math.abs(now - at) <= windowMs;
}
