import { describe, expect, test } from 'bun:test';
import { clientIp, ipLimitKey, normalizeIp, parseTrustProxy } from './client-ip';

describe('clientIp', () => {
  const xff = '6.6.6.6, 203.0.113.7, 10.0.0.2';

  test('without TRUST_PROXY the socket address wins and X-Forwarded-For is ignored', () => {
    expect(clientIp(parseTrustProxy(undefined), '198.51.100.1', xff)).toBe('198.51.100.1');
    expect(clientIp(parseTrustProxy(''), '::ffff:198.51.100.1', xff)).toBe('198.51.100.1');
    expect(clientIp(parseTrustProxy(undefined), undefined, xff)).toBe('unknown');
  });

  test('a hop count takes the address that many hops in front', () => {
    expect(clientIp(parseTrustProxy('1'), '10.0.0.1', xff)).toBe('10.0.0.2');
    expect(clientIp(parseTrustProxy('2'), '10.0.0.1', xff)).toBe('203.0.113.7');
    // More hops than entries: the leftmost (client-supplied) entry, never beyond.
    expect(clientIp(parseTrustProxy('9'), '10.0.0.1', xff)).toBe('6.6.6.6');
    expect(clientIp(parseTrustProxy('1'), '10.0.0.1', null)).toBe('10.0.0.1');
  });

  test('CIDRs: walk through trusted proxies to the first untrusted address', () => {
    const trust = parseTrustProxy('10.0.0.0/8, ::1/128');
    expect(clientIp(trust, '10.0.0.1', xff)).toBe('203.0.113.7');
    expect(clientIp(trust, '::1', '203.0.113.9')).toBe('203.0.113.9');
    // A peer outside the trusted ranges is the client, whatever it forwards.
    expect(clientIp(trust, '198.51.100.1', xff)).toBe('198.51.100.1');
    expect(clientIp(parseTrustProxy('2001:db8::/32'), '2001:db8::5', '2001:db9::1')).toBe('2001:db9::1');
    expect(clientIp(parseTrustProxy('127.0.0.1'), '::ffff:127.0.0.1', '192.0.2.4')).toBe('192.0.2.4');
  });

  test('bad TRUST_PROXY is refused', () => {
    expect(() => parseTrustProxy('10.0.0.0/40')).toThrow(/TRUST_PROXY/);
    expect(() => parseTrustProxy('proxy.local')).toThrow(/TRUST_PROXY/);
  });

  test('normalizeIp', () => {
    expect(normalizeIp('::FFFF:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeIp('[2001:DB8::1]')).toBe('2001:db8::1');
  });
});

test('IP buckets count an IPv6 client by its /64, an IPv4 client by its address', () => {
  expect(ipLimitKey('203.0.113.7')).toBe('203.0.113.7');
  expect(ipLimitKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
  expect(ipLimitKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
  expect(ipLimitKey('2001:DB8:0001:0002::ffff')).toBe('2001:db8:1:2::/64');
  expect(ipLimitKey('2001:db8:1:3::1')).not.toBe(ipLimitKey('2001:db8:1:2::1'));
  expect(ipLimitKey('::1')).toBe('0:0:0:0::/64');
  expect(ipLimitKey('unknown')).toBe('unknown');
});
