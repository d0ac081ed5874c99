/**
 * The bounces that are not RFC 3464 reports: the plain-text forms the common MTAs and providers
 * still send. Each form is recognised by its fixed wording and read with its own pattern for the
 * failed recipients and what was said about each. No maintained npm parser covers these forms
 * well enough (the ones there are unmaintained or regex piles without tests), hence this table,
 * tested on tests/fixtures/bounces/.
 */

export interface PlainFailure {
  email: string;
  diagnostic: string;
}

export interface PlainForm {
  name: string;
  /** Recognises the form in the body's text. */
  detect: RegExp;
  /** The wording of a temporary failure (a delay notice) in this form. */
  temporary?: RegExp;
  /** The failures: one match per recipient, group 1 the address, group 2 the diagnostic. */
  failures(text: string): PlainFailure[];
}

function each(pattern: RegExp, text: string, email = 1, diagnostic = 2): PlainFailure[] {
  const out: PlainFailure[] = [];
  for (const match of text.matchAll(pattern)) {
    const address = match[email]?.trim().replace(/^<|>:?$/g, '');
    if (!address || !address.includes('@')) continue;
    out.push({ email: address.toLowerCase(), diagnostic: (match[diagnostic] ?? '').replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** The text after `marker` (or all of it when the marker is missing). */
function after(text: string, marker: RegExp): string {
  const at = text.search(marker);
  return at < 0 ? text : text.slice(at);
}

export const PLAIN_FORMS: readonly PlainForm[] = [
  {
    // Exim: "A message that you sent could not be delivered…  The following address(es) failed:"
    name: 'exim',
    detect: /This message was created automatically by mail delivery software/i,
    temporary: /has not yet been delivered|temporary error|delayed/i,
    failures: (text) => each(/^ {2}(\S+@\S+)\r?\n((?:(?: {4,}|\t).*(?:\r?\n|$))*)/gm, after(text, /failed:|recipients:|delivered to/i)),
  },
  {
    // Postfix without a delivery-status part (bounce_notice / old versions).
    name: 'postfix',
    detect: /This is the mail system at host|I'm sorry to have to inform you that your message could not/i,
    temporary: /delayed mail|will keep trying|not yet been delivered/i,
    failures: (text) => each(/^<([^>\s]+@[^>\s]+)>(?: \(expanded from <[^>]+>\))?:[ \t]*((?:.+(?:\r?\n|$))(?:[ \t]+.+(?:\r?\n|$))*)/gm, text),
  },
  {
    // qmail: "Hi. This is the qmail-send program at …"
    name: 'qmail',
    detect: /This is the qmail-send program at|I'm afraid I wasn't able to deliver your message/i,
    temporary: /I'm not going to try again(?!.*permanent)|will keep trying|temporary/i,
    failures: (text) => each(/^<([^>\s]+@[^>\s]+)>:\r?\n((?:.+(?:\r?\n|$))+)/gm, text.split(/--- Below this line is a copy of the message/i)[0]!),
  },
  {
    // Exchange 2010 and later, Office 365 / Outlook.com NDRs.
    name: 'exchange',
    detect: /Delivery has failed to these recipients or groups|Your message to .+ couldn't be delivered|Diagnostic information for administrators/i,
    failures: (text) => {
      const admin = after(text, /Diagnostic information for administrators/i);
      const found = each(/^\s*([^\s@]+@[^\s@]+\.[^\s@]+?)\s*\r?\n(?:.*\r?\n){0,6}?\s*Remote Server returned '([^']*)'/gm, admin);
      if (found.length) return found;
      return each(/^\s*([^\s@]+@[^\s@]+\.[^\s@]+?)(?: \([^)]*\))?\s*\r?\n((?:.+(?:\r?\n|$)){1,3})/gm, after(text, /Delivery has failed to these recipients or groups:?/i));
    },
  },
  {
    // Exchange 2003/2007: "The following recipient(s) cannot be reached:"
    name: 'exchange-legacy',
    detect: /The following recipient\(s\) (?:cannot|could not) be reached|Your message did not reach some or all of the intended recipients/i,
    failures: (text) => each(/^\s*'?(\S+@[^\s']+)'? on .+\r?\n((?:[ \t]+.+(?:\r?\n|$))+)/gm, text),
  },
  {
    // Gmail's own notices (when it bounces for its users or on the sender's behalf).
    name: 'gmail',
    detect: /\*\* (?:Address not found|Message not delivered|Message blocked|Delivery incomplete|Message rejected) \*\*/i,
    temporary: /\*\* Delivery incomplete \*\*/i,
    failures: (text) => {
      const email = /(?:(?:wasn't|was not) delivered to|temporary problem delivering your message to) (\S+@[^\s]+?)(?: because|\.?\s)/i.exec(text)?.[1];
      if (!email) return [];
      const response = /The response (?:from the remote server )?was:\s*\r?\n+\s*(.+)/i.exec(text)?.[1];
      const summary = /\*\* (.+?) \*\*\s*\r?\n+([\s\S]+?)(?:\r?\n\s*\r?\n|$)/.exec(text);
      return [{ email: email.toLowerCase().replace(/[.,]$/, ''), diagnostic: (response ?? summary?.[2] ?? summary?.[1] ?? '').replace(/\s+/g, ' ').trim() }];
    },
  },
  {
    // Sendmail: "----- The following addresses had permanent fatal errors -----"
    name: 'sendmail',
    detect: /----- The following addresses had (?:permanent fatal errors|transient non-fatal errors) -----/i,
    temporary: /transient non-fatal errors|Warning: message still undelivered/i,
    failures: (text) => each(/^<?([^\s<>]+@[^\s<>]+)>?\r?\n\s+\(reason: ([^)]*)\)/gm, text),
  },
  {
    // Yahoo / AOL: "Sorry, we were unable to deliver your message to the following address."
    name: 'yahoo',
    detect: /Sorry, we were unable to deliver your message to the following address/i,
    failures: (text) => each(/^<([^>\s]+@[^>\s]+)>:\r?\n((?:.+(?:\r?\n|$))+)/gm, text),
  },
];
