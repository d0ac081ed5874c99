import { describe, expect, it } from 'vitest';
import { clientIp, truncateIp } from '../src/signup/client-ip.js';
import { isoDate, detectFormat } from '../src/signup/import.js';
import { csvCell } from '../src/signup/export.js';
import { MemoryRateLimiter } from '../src/store/memory-limiter.js';

/** The small pieces of sign-up: client addresses, the limiter's bound, dates of the exports, CSV cells. */

describe('client addresses', () => {
  it('truncates IPv4 to its /24 and IPv6 to its /48, mapped IPv4 as IPv4', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0/24');
    expect(truncateIp('2001:db8:1:2::3')).toBe('2001:db8:1::/48');
    expect(truncateIp('2001:0db8:0000:0042::1')).toBe('2001:db8:0::/48');
    expect(truncateIp('::1')).toBe('0:0:0::/48');
    expect(clientIp('::ffff:198.51.100.4', null)).toBe('198.51.100.4');
    expect(truncateIp('999.1.1.1')).toBe('999.1.1.1');
  });

  it('trusts X-Forwarded-For only from a loopback peer (the proxy), and then only its last entry', () => {
    expect(clientIp('203.0.113.5', '1.2.3.4')).toBe('203.0.113.5');
    expect(clientIp('127.0.0.1', '1.2.3.4, 198.51.100.9')).toBe('198.51.100.9');
    expect(clientIp('::1', 'not an address')).toBe('::1');
    expect(clientIp(null, '2001:db8::1')).toBe('2001:db8::1');
  });
});

describe('MemoryRateLimiter', () => {
  it('holds at most maxKeys windows however many keys arrive', async () => {
    const limiter = new MemoryRateLimiter(100);
    for (let i = 0; i < 10_000; i++) await limiter.take(`ip:${i}`, 10, 60_000);
    expect(limiter.size).toBeLessThanOrEqual(101);
    // The newest keys are the ones kept, and counted.
    for (let i = 0; i < 9; i++) expect(await limiter.take('ip:9999', 10, 60_000)).toBe(true);
    expect(await limiter.take('ip:9999', 10, 60_000)).toBe(false);
  });
});

describe('import helpers', () => {
  it('reads the dates of the three exports as UTC ISO times, and nothing else as a date', () => {
    expect(isoDate('2024-03-01 10:00:00')).toBe('2024-03-01T10:00:00.000Z');
    expect(isoDate('2023-11-05T19:48:34.514Z')).toBe('2023-11-05T19:48:34.514Z');
    expect(isoDate('2024-05-06T07:08:09.123456+00:00')).toBe('2024-05-06T07:08:09.123Z');
    expect(isoDate('2024-05-06T09:08:09+02:00')).toBe('2024-05-06T07:08:09.000Z');
    expect(isoDate('')).toBeNull();
    expect(isoDate('yesterday')).toBeNull();
  });

  it('tells the format by the header row', () => {
    expect(detectFormat(['Email Address', 'First Name', 'OPTIN_TIME'])).toBe('mailchimp');
    expect(detectFormat(['email', 'active_subscription', 'created_at'])).toBe('substack');
    expect(detectFormat(['id', 'email', 'creation_date', 'subscriber_type'])).toBe('buttondown');
    expect(detectFormat(['email', 'name'])).toBe('csv');
    expect(detectFormat(['mail'])).toBeNull();
  });

  it('writes CSV cells that a spreadsheet reads as text', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell(null)).toBe('');
  });
});
