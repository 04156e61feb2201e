/**
 * Client-chosen times (API.md §1: ISO-8601 UTC): expiries and filters. One check for every route
 * that takes one, so a far-future or malformed time is a 400, never a value the database or
 * `toISOString` (years past 9999 print as `+010000-…`) cannot take.
 */
import { validationError } from '../errors';

/** How far ahead an expiry may lie: 100 years. */
export const MAX_AHEAD_YEARS = 100;
export const MAX_AHEAD_S = MAX_AHEAD_YEARS * 365 * 24 * 3600;

/** `2026-01-15`, `2026-01-15T12:00`, `…:00.000Z`, `…+02:00`: a four-digit year, date first. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Date.parse rolls an impossible calendar day over (`2030-02-30` → 2 March) instead of refusing
 * it: the date part must name a day that exists.
 */
function isCalendarDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The time `value` names (ms), or NaN when it is not an ISO-8601 time of a real day. */
const isoTime = (value: string): number => {
  const v = value.trim();
  return ISO_8601.test(v) && isCalendarDay(v) ? Date.parse(v) : Number.NaN;
};

/**
 * Parses an expiry `field` sent by a client: an ISO-8601 time after `nowMs` and at most
 * 100 years ahead; anything else → 400 VALIDATION_ERROR naming the field and the range.
 */
export function parseFutureTime(value: string, field: string, nowMs: number): Date {
  const path = `/${field}`;
  const t = isoTime(value);
  if (Number.isNaN(t)) {
    throw validationError(`${field} must be an ISO-8601 time such as 2030-01-15T12:00:00Z.`, [{ path, message: 'is not an ISO-8601 time' }]);
  }
  if (t <= nowMs) throw validationError(`${field} must be in the future.`, [{ path, message: 'must be in the future' }]);
  if (t > nowMs + MAX_AHEAD_S * 1000) {
    throw validationError(`${field} must be at most ${MAX_AHEAD_YEARS} years ahead.`, [{ path, message: `more than ${MAX_AHEAD_YEARS} years ahead` }]);
  }
  return new Date(t);
}

const FIRST_STORABLE = Date.parse('0001-01-01T00:00:00Z');
const LAST_STORABLE = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Whether a time (ms) lies in years 1–9999, which every timestamp column takes and
 * `toISOString` writes in the four-digit form Postgres reads (`+275760-…`, year 0 and
 * negative years are refused by the database).
 */
export const isStorableTime = (t: number): boolean => t >= FIRST_STORABLE && t <= LAST_STORABLE;

/**
 * Parses a time filter `field` (`since`): an ISO-8601 time with a four-digit year, else 400.
 * `Date.parse` also takes six-digit years (`+275760-09-13`), which Postgres refuses (a 500 before).
 */
export function parseTimeFilter(value: string, field: string): number {
  const t = isoTime(value);
  if (!isStorableTime(t)) {
    throw validationError(`${field} must be an ISO-8601 time with a four-digit year, such as 2026-01-15T12:00:00Z.`, [{ path: `/${field}`, message: 'must be an ISO-8601 timestamp' }]);
  }
  return t;
}
