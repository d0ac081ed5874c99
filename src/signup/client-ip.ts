import { isIP } from 'node:net';

/**
 * The client's address as `serve` sees it, and as the consent record keeps it.
 *
 * `serve` listens on loopback behind a reverse proxy by default, so every request comes from the
 * proxy: then (and only then, or when the platform gives no peer address) the last entry of
 * X-Forwarded-For, the one the proxy itself added, is the client. A client cannot choose it: any
 * X-Forwarded-For it sends comes before the proxy's entry.
 */
export function clientIp(peer: string | null | undefined, forwardedFor: string | null): string | null {
  const direct = peer ? unmapped(peer) : null;
  if (direct && !isLoopback(direct)) return direct;
  const last = forwardedFor?.split(',').pop()?.trim();
  if (last && isIP(unmapped(last))) return unmapped(last);
  return direct;
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/** `203.0.113.77` → `203.0.113.0/24`, `2001:db8:1:2::3` → `2001:db8:1::/48`: enough to tell networks apart, not people. */
export function truncateIp(address: string): string {
  // The usual case first, without isIP's regular expression (an import truncates a million).
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4 && v4.slice(1).every((octet) => Number(octet) <= 255 && (octet === '0' || octet[0] !== '0'))) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  const version = isIP(address);
  if (version === 4) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (version === 6) {
    const groups = expandIpv6(address);
    return `${groups.slice(0, 3).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/48`;
  }
  return address;
}

/** The eight groups of an IPv6 address (an embedded IPv4 tail counts as two). */
function expandIpv6(address: string): string[] {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const part = (text: string | undefined) => (text ? text.split(':').flatMap((group) => (group.includes('.') ? v4Groups(group) : [group])) : []);
  const left = part(head);
  const right = part(tail);
  const fill = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...fill, ...right];
}

function v4Groups(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
