/**
 * Pagination cursors. A cursor is opaque to clients but comes back from them, and what it holds
 * goes into SQL: a value the server never issued (a year Postgres cannot store, an id that is no
 * uuid, a NUL byte) failed in the database as a 500. So a cursor is decoded here and refused,
 * as a 400 naming `/cursor`, unless it is exactly what an encoder of this file could have made.
 */
import { AppError } from '../errors';
import { isStorableTime } from './dates';

/** A uuid as Postgres prints it (8-4-4-4-12 lower-case hex), the only form the server issues. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** 400 for a cursor this API did not return; `reason` is the field's message, `message` the error's. */
export const invalidCursor = (reason = 'is not a cursor this API returned', message = 'Invalid cursor: use the next_cursor of the previous page.') =>
  new AppError('VALIDATION_ERROR', 400, message, { fields: [{ path: '/cursor', message: reason, in: 'query' }] });

/**
 * The text inside a cursor: base64url as `Buffer.toString('base64url')` writes it (no padding, no
 * stray characters, which `Buffer.from` would skip) of valid UTF-8 with no NUL byte.
 */
export function cursorText(cursor: string): string {
  const bytes = Buffer.from(cursor, 'base64url');
  const text = bytes.toString('utf8');
  if (bytes.toString('base64url') !== cursor || Buffer.from(text, 'utf8').toString('base64url') !== cursor || text.includes('\0')) {
    throw invalidCursor();
  }
  return text;
}

/** A time (ms) a cursor may carry: one a timestamptz column stores, else 400. */
export function cursorDate(ms: number): Date {
  if (!isStorableTime(ms)) throw invalidCursor();
  return new Date(ms);
}

/** `<created_at ISO>|<id>` of a page's last row, base64url: the cursor of every `(created_at, id)` keyset list. */
export const encodeTimeIdCursor = (at: Date, id: string): string => Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');

/**
 * Reads a cursor of `encodeTimeIdCursor`: the time exactly as `toISOString` writes it for a
 * storable year, and an id matching `idPattern` (a uuid unless the table's ids are other text).
 */
export function decodeTimeIdCursor(cursor: string, idPattern: RegExp = UUID): { at: Date; id: string } {
  const text = cursorText(cursor);
  const cut = text.indexOf('|');
  const iso = text.slice(0, cut);
  const id = text.slice(cut + 1);
  const ms = Date.parse(iso);
  if (cut < 0 || !isStorableTime(ms) || new Date(ms).toISOString() !== iso || !idPattern.test(id)) throw invalidCursor();
  return { at: new Date(ms), id };
}
