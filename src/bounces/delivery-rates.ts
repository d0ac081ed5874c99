import { DEFAULTS } from '../config/defaults.js';
import type { JournalKey, Store } from '../store/types.js';

/**
 * What `status ISSUE` shows of an issue's reputation: delivered (accepted by the relay, real
 * sends only), hard and soft bounces and complaints (each address once, from `bounces` and the
 * webhooks), their rates over delivered, and warnings past the thresholds mailbox providers act on.
 */

export interface DeliveryRates {
  issueSlug: string;
  delivered: number;
  hardBounces: number;
  softBounces: number;
  complaints: number;
  /** Shares of delivered (0..1); null when nothing was delivered. */
  rates: { hardBounces: number | null; softBounces: number | null; complaints: number | null };
  warnings: string[];
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1)}%`;
}

export function rateWarnings(rates: DeliveryRates['rates']): string[] {
  const warnings: string[] = [];
  const { complaintRateWarn, hardBounceRateWarn } = DEFAULTS.bounces;
  if (rates.complaints !== null && rates.complaints > complaintRateWarn) {
    warnings.push(
      `complaints are ${percent(rates.complaints)} of delivered, past ${percent(complaintRateWarn)}: Gmail and Yahoo require bulk senders to keep the spam-complaint rate under 0.3% and ask for under 0.1%; above that, mail goes to spam or is rejected`,
    );
  }
  if (rates.hardBounces !== null && rates.hardBounces > hardBounceRateWarn) {
    warnings.push(
      `hard bounces are ${percent(rates.hardBounces)} of delivered, past ${percent(hardBounceRateWarn)}: Gmail and Yahoo take mail to many dead addresses as the sign of a list not kept clean (their bulk-sender rules); check where these addresses came from`,
    );
  }
  return warnings;
}

export async function deliveryRates(store: Store, key: JournalKey): Promise<DeliveryRates> {
  const journal = await store.journal(key);
  let delivered: number;
  try {
    delivered = (await journal.read({ kind: 'smtp', id: '' })).accepted.size;
  } finally {
    await journal.close();
  }
  const tallies = await store.bounces.tallies(key);
  const rate = (n: number) => (delivered > 0 ? n / delivered : null);
  const rates = { hardBounces: rate(tallies.hard), softBounces: rate(tallies.soft), complaints: rate(tallies.complaint) };
  return { issueSlug: key.issueSlug, delivered, hardBounces: tallies.hard, softBounces: tallies.soft, complaints: tallies.complaint, rates, warnings: rateWarnings(rates) };
}

export function formatDeliveryRates(rates: DeliveryRates): string[] {
  const share = (rate: number | null) => (rate === null ? '' : ` (${percent(rate)})`);
  return [
    `  delivered: ${rates.delivered} (accepted by the relay); hard bounces ${rates.hardBounces}${share(rates.rates.hardBounces)}, soft bounces ${rates.softBounces}${share(rates.rates.softBounces)}, complaints ${rates.complaints}${share(rates.rates.complaints)}`,
    ...rates.warnings.map((warning) => `  warning: ${warning}`),
  ];
}
