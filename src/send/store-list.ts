import type { Recipient, ResolvedConfig } from '../config/defaults.js';
import type { Store } from '../store/types.js';
import type { ListEntry, SubscriberList } from './recipients.js';

/**
 * The store's confirmed subscribers as a subscriber list, so `send` treats them like a file's
 * rows: the same filter (suppressions, duplicates, earlier deliveries), journal and report. Each
 * gets the columns `email`, `name` and the config's `signup.fields` (empty when not given).
 * With a file too (`--list FILE --subscribers`), the file's rows come first and the
 * subscribers are numbered on after its last line; an address in both gets one message.
 */

const BATCH = 500;

export function storeSubscriberList(store: Store, config: Pick<ResolvedConfig, 'signup'>, display: string): SubscriberList {
  const columns = [...new Set(['email', 'name', ...config.signup.fields])];
  const batches = () => subscriberBatches(store, columns, 0);
  return { file: display, display, format: 'csv', columns, delimiter: null, batches, entries: () => flatten(batches()) };
}

export function combinedList(file: SubscriberList, store: Store, config: Pick<ResolvedConfig, 'signup'>): SubscriberList {
  const columns = file.columns ? [...new Set([...file.columns, 'name', ...config.signup.fields])] : null;
  async function* batches(): AsyncGenerator<ListEntry[]> {
    let last = 0;
    for await (const batch of file.batches()) {
      for (const entry of batch) last = Math.max(last, entry.line);
      yield batch;
    }
    yield* subscriberBatches(store, columns ?? ['email', 'name', ...config.signup.fields], last);
  }
  return { ...file, display: `${file.display} and the subscribers`, columns, batches, entries: () => flatten(batches()) };
}

async function* subscriberBatches(store: Store, columns: readonly string[], after: number): AsyncGenerator<ListEntry[]> {
  let line = after;
  let batch: ListEntry[] = [];
  for await (const subscriber of store.subscribers.iterate()) {
    const recipient: Recipient = { email: subscriber.email };
    for (const column of columns) if (column !== 'email') recipient[column] = subscriber.fields[column] ?? '';
    batch.push({ kind: 'recipient', line: ++line, recipient });
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function* flatten(batches: AsyncGenerator<ListEntry[]>): AsyncGenerator<ListEntry> {
  for await (const batch of batches) yield* batch;
}
