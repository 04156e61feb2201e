/**
 * The request-log batch insert (`COPY … FROM STDIN` on PGlite, a JSON statement on Postgres):
 * every value must come back exactly as given (tabs, line breaks, backslashes, `\N`-looking
 * text, nulls, non-ASCII), in batch order; a refused batch must reject, never hang.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { asc, eq } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { copyText } from '../../db/client';
import { insertLogs } from './service';
import { requestLogs, type NewRequestLog } from './table';

test('copyText escapes the text format and writes nulls as \\N', () => {
  expect(copyText([['a\tb', 'c\nd\re', 'back\\slash', null, undefined, 42, 1.5]])).toBe('a\\tb\tc\\nd\\re\tback\\\\slash\t\\N\t\\N\t42\t1.5\n');
  expect(copyText([])).toBe('');
});

describe.each(DB_BACKENDS)('request-log batch insert on %s', (db) => {
  let h: TestApp;
  beforeAll(async () => void (h = await makeTestApp({ db, env: { REQUEST_LOGS: 'false' } })));
  afterAll(() => h?.close());

  test('values round-trip exactly, in batch order', async () => {
    const userId = crypto.randomUUID();
    const at = new Date('2026-11-22T10:00:00.123Z');
    const rows: NewRequestLog[] = [
      { userId, method: 'GET', path: '/a\tb/c\nd\\e?q=\\N', statusCode: 200, durationMs: 1.25, requestSizeBytes: 0, responseSizeBytes: null, ip: null, apiKeyPrefix: 'pk_abc', createdAt: at },
      { userId, method: 'POST', path: '/ünïcødé/\r/\\N', statusCode: 507, durationMs: 0, requestSizeBytes: null, responseSizeBytes: 9_000_000_000, ip: '::1', apiKeyPrefix: null, createdAt: at },
      ...Array.from({ length: 500 }, (_, i) => ({ userId, method: 'GET', path: `/n/${i}`, statusCode: 200, durationMs: i, createdAt: at })),
    ];
    await insertLogs(h.deps.database, rows);
    const stored = await h.deps.db.select().from(requestLogs).orderBy(asc(requestLogs.id));
    expect(stored.length).toBe(rows.length);
    expect(stored.map((r) => r.path)).toEqual(rows.map((r) => r.path));
    const [a, b] = stored;
    expect(a).toMatchObject({ userId, method: 'GET', statusCode: 200, durationMs: 1.25, requestSizeBytes: 0, responseSizeBytes: null, ip: null, apiKeyPrefix: 'pk_abc' });
    expect(b).toMatchObject({ method: 'POST', statusCode: 507, requestSizeBytes: null, responseSizeBytes: 9_000_000_000, ip: '::1', apiKeyPrefix: null });
    expect(a!.createdAt.toISOString()).toBe(at.toISOString());
  });

  test('a refused batch rejects, stores nothing of it, and leaves the database usable', async () => {
    const userId = crypto.randomUUID();
    const before = await h.deps.db.select({ id: requestLogs.id }).from(requestLogs);
    const bad = [{ userId, method: 'GET', path: '/ok', statusCode: 200, durationMs: 0, createdAt: new Date() },
      { userId: 'not-a-uuid', method: 'GET', path: '/bad', statusCode: 200, durationMs: 0, createdAt: new Date() }];
    await expect(insertLogs(h.deps.database, bad)).rejects.toThrow(/uuid/i);
    const after = await h.deps.db.select({ id: requestLogs.id }).from(requestLogs);
    expect(after.length).toBe(before.length);
    await insertLogs(h.deps.database, [bad[0]!]);
    expect((await h.deps.db.select({ id: requestLogs.id }).from(requestLogs).where(eq(requestLogs.userId, userId))).length).toBe(1);
  });

  test('batches among concurrent queries disturb none of them', async () => {
    const userId = crypto.randomUUID();
    const batch = (n: number): NewRequestLog[] => Array.from({ length: n }, (_, i) => ({ userId, method: 'GET', path: `/c/${i}`, statusCode: 200, durationMs: 0, createdAt: new Date() }));
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      work.push(insertLogs(h.deps.database, batch(50)));
      for (let j = 0; j < 5; j++) work.push(h.deps.db.select({ id: requestLogs.id }).from(requestLogs).limit(1));
    }
    await Promise.all(work);
    const stored = await h.deps.db.select({ id: requestLogs.id }).from(requestLogs).where(eq(requestLogs.userId, userId));
    expect(stored.length).toBe(20 * 50);
  });
});
