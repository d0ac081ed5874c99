/**
 * A URL that carries credentials (SMTP_URL, an IMAP mailbox) as printed: never a password,
 * whatever the URL looks like. Everything between `//` and the LAST `@` is user information (a
 * password may hold `@`, `/`, `#` or `?`, which make URL parsers stop early); only the user name
 * before its first `:` is kept. `setting` names it when nothing of it can be shown.
 */
export function maskUrlPassword(url: string, setting: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:)?\/\//i.exec(url);
  if (!scheme) return url.includes('@') || url.includes(':') ? `(unreadable ${setting} setting, not shown)` : url;
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at < 0) {
    // No user part; a `:` followed by anything but a port would be a password typed without a user.
    const host = /^([^:/?#]*)(:\d*)?(?=[/?#]|$)/.exec(rest);
    return host ? url.replace(/\/$/, '') : `${scheme[0]}${rest.split(':')[0]}:****`;
  }
  const info = rest.slice(0, at);
  const user = info.split(':')[0]!;
  const masked = info.includes(':') ? `${user}:****` : user;
  return `${scheme[0]}${masked}@${rest.slice(at + 1)}`.replace(/\/$/, '');
}
