import { describe, expect, test } from 'bun:test';
import { AppError } from '../errors';
import { MAX_AHEAD_S, parseFutureTime } from './dates';

const now = Date.parse('2026-06-01T00:00:00Z');
const refused = (v: string) => {
  try {
    parseFutureTime(v, 'expires_at', now);
  } catch (err) {
    return err instanceof AppError && err.status === 400 ? err.message : `not a 400: ${String(err)}`;
  }
  return 'accepted';
};

describe('parseFutureTime', () => {
  test('a time between now and 100 years ahead is accepted', () => {
    expect(parseFutureTime('2026-06-02T00:00:00Z', 'expires_at', now).toISOString()).toBe('2026-06-02T00:00:00.000Z');
    expect(parseFutureTime('2027-01-01T12:00:00.500+02:00', 'expires_at', now).toISOString()).toBe('2027-01-01T10:00:00.500Z');
    expect(parseFutureTime(new Date(now + MAX_AHEAD_S * 1000).toISOString(), 'expires_at', now).getTime()).toBe(now + MAX_AHEAD_S * 1000);
  });

  test('far future, past, extended years and non-ISO text → 400 naming the field', () => {
    expect(refused('9999-12-31T23:59:59Z')).toContain('at most 100 years ahead');
    expect(refused(new Date(now + MAX_AHEAD_S * 1000 + 1).toISOString())).toContain('at most 100 years ahead');
    expect(refused('+275760-09-13T00:00:00.000Z')).toContain('ISO-8601');
    expect(refused('2026-05-31T23:59:59Z')).toContain('in the future');
    expect(refused('Tue, 01 Jan 2030 00:00:00 GMT')).toContain('ISO-8601');
    expect(refused('2030-13-45T00:00:00Z')).toContain('ISO-8601');
    expect(refused('tomorrow')).toContain('expires_at');
  });
});
