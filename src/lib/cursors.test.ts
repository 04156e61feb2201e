import { describe, expect, test } from 'bun:test';
import { AppError } from '../errors';
import { cursorDate, cursorText, decodeTimeIdCursor, encodeTimeIdCursor } from './cursors';

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const ID = 'fc39f36c-b4cd-4eb3-803c-3fde4410091b';

/** What a decoder does with a cursor: the 400's field, or 'accepted'. */
function outcome(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    if (!(err instanceof AppError)) return `not an AppError: ${String(err)}`;
    return [err.status, err.code, (err.details as { fields: unknown[] }).fields];
  }
  return 'accepted';
}
const REFUSED = [400, 'VALIDATION_ERROR', [{ path: '/cursor', message: 'is not a cursor this API returned', in: 'query' }]];

describe('decodeTimeIdCursor', () => {
  test('reads back what encodeTimeIdCursor wrote, at the edges of storable time too', () => {
    for (const iso of ['2026-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      const at = new Date(iso);
      const cursor = encodeTimeIdCursor(at, ID);
      expect(cursor).toBe(b64(`${iso}|${ID}`)); // the issued format is unchanged
      expect(decodeTimeIdCursor(cursor)).toEqual({ at, id: ID });
    }
    expect(decodeTimeIdCursor(b64('2026-01-01T00:00:00.000Z|lst00001'), /^[\w-]{1,64}$/).id).toBe('lst00001');
  });

  test('refuses what the server never issues: unstorable years, other time forms, non-uuids, NUL, wrong shape', () => {
    const crafted = [
      `0000-01-01T00:00:00Z|${ID}`, `0000-01-01T00:00:00.000Z|${ID}`, `10000-01-01|${ID}`, `+010000-01-01T00:00:00.000Z|${ID}`,
      `-000001-01-01T00:00:00Z|${ID}`, `-271821-04-20T00:00:00.000Z|${ID}`, `2026-01-01|${ID}`, `2026-02-30T00:00:00.000Z|${ID}`,
      `2026-01-01T00:00:00.000+00:00|${ID}`, `2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`, `2026-01-01T00:00:00.000Z|${ID.toUpperCase()}`,
      `2026-01-01T00:00:00.000Z|${ID}\0`, `2026-01-01T00:00:00.000Z|${ID}|x`, `2026-01-01T00:00:00.000Z`, `|${ID}`, '',
    ];
    for (const text of crafted) expect([text, outcome(() => decodeTimeIdCursor(b64(text)))]).toEqual([text, REFUSED]);
    // Base64url the server would not write: padding, stray characters, bytes that are not UTF-8.
    const good = encodeTimeIdCursor(new Date('2026-01-01T00:00:00.000Z'), ID);
    for (const cursor of [`${good}=`, `${good.slice(0, 10)}*${good.slice(10)}`, Buffer.from([0xff, 0xfe, 0x7c]).toString('base64url')]) {
      expect([cursor, outcome(() => decodeTimeIdCursor(cursor))]).toEqual([cursor, REFUSED]);
    }
  });
});

describe('cursorText and cursorDate', () => {
  test('cursorText refuses a NUL byte; cursorDate a time no timestamptz column stores', () => {
    expect(cursorText(b64('l123'))).toBe('l123');
    expect(outcome(() => cursorText(b64('l1\0')))).toEqual(REFUSED);
    expect(cursorDate(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(outcome(() => cursorDate(999_999_999_999_999))).toEqual(REFUSED);
  });
});
