import type { ResolvedConfig } from '../config/defaults.js';
import { composeMessage, messageInputFor } from '../render/message.js';
import type { RenderedIssue } from '../render/render-issue.js';

/**
 * The header block of the message `build` writes as .eml for this copy, composed by the same code,
 * so the Headers view cannot drift from what is sent. Lines end in LF for display.
 */
export async function headerBlock(config: ResolvedConfig, rendered: RenderedIssue, date?: Date): Promise<string> {
  const eml = await composeMessage(messageInputFor(config, rendered, date));
  const text = eml.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  return (end === -1 ? text : text.slice(0, end)).replace(/\r\n/g, '\n');
}
