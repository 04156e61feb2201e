import { describe, expect, test } from 'bun:test';
import { AppError } from '../errors';
import { isStorableTime, MAX_AHEAD_S, parseFutureTime, parseTimeFilter } from './dates';

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

  test('a day that does not exist is refused, not rolled over (2030-02-30 was stored as 2 March)', () => {
    for (const bad of ['2030-02-30T00:00:00Z', '2030-04-31T10:00:00Z', '2029-02-29', '2030-00-10T00:00:00Z', '2030-06-00T00:00:00Z']) {
      expect([bad, refused(bad)]).toEqual([bad, expect.stringContaining('ISO-8601')]);
    }
    expect(parseFutureTime('2028-02-29T00:00:00Z', 'expires_at', now).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(() => parseTimeFilter('2026-11-31T00:00:00Z', 'since')).toThrow(AppError);
  });
});

describe('time filters and stored times', () => {
  test('years 1–9999 are storable; year 0, negative and six-digit years are not', () => {
    for (const ok of ['0001-01-01T00:00:00Z', '2026-12-05T12:00:00Z', '9999-12-31T23:59:59.999Z']) expect([ok, isStorableTime(Date.parse(ok))]).toEqual([ok, true]);
    for (const bad of ['0000-12-31T23:59:59Z', '-000001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z']) expect([bad, isStorableTime(Date.parse(bad))]).toEqual([bad, false]);
    expect(isStorableTime(Number.NaN)).toBe(false);
  });

  test('parseTimeFilter: a four-digit-year ISO time, else 400 naming the field', () => {
    expect(parseTimeFilter('2026-01-15T12:00:00+02:00', 'since')).toBe(Date.parse('2026-01-15T10:00:00Z'));
    for (const bad of ['+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z', 'yesterday', '']) {
      expect(() => parseTimeFilter(bad, 'since')).toThrow(/since must be an ISO-8601 time/);
    }
    // The field is named as every other: a JSON pointer (it read `since`, where others read `/since`).
    const refusal = (() => {
      try {
        parseTimeFilter('yesterday', 'since');
      } catch (err) {
        return (err as AppError).toBody();
      }
    })();
    expect(refusal?.details).toEqual({ fields: [{ path: '/since', message: 'must be an ISO-8601 timestamp' }] });
  });
});
