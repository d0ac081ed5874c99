import { DEFAULTS, type Recipient } from '../config/defaults.js';
import { openList } from '../send/recipients.js';

/**
 * The first rows of a subscriber list, for the preview's recipient picker. The list is read with
 * the same streaming reader as `send`, and only its head: a list of a million rows must not delay
 * the preview, and 50 copies are plenty to check how names and custom fields fill in.
 */

export const PICKER_ROWS = DEFAULTS.preview.pickerRows;

/** Up to `limit` valid recipients from the top of a CSV (with an `email` column) or JSON list. */
export async function readSampleRecipients(file: string, cwd: string, limit = PICKER_ROWS): Promise<Recipient[]> {
  const list = await openList(file, cwd);
  const recipients: Recipient[] = [];
  // Invalid rows are skipped, but a list that is invalid throughout is not read to its end.
  let seen = 0;
  for await (const entry of list.entries()) {
    if (entry.kind === 'recipient') recipients.push(entry.recipient);
    if (recipients.length >= limit || ++seen >= limit * 20) break;
  }
  return recipients;
}
