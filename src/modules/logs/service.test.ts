/**
 * Request-log storage (batch rows, `table.ts`) against a plain list of the same entries, on
 * both backends: every value comes back exactly, pages in id order never skip or repeat across
 * batch boundaries, filters and `count` agree with filtering the list by hand (including a
 * `since` inside a batch), accounts never see each other's entries, a refused batch leaves
 * nothing behind, and the prune removes whole old batches only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { insertLogs, listLogs, pruneLogs, type LogQuery } from './service';
import { MAX_BATCH_ENTRIES, requestLogBatches, type NewRequestLog } from './table';

type Listed = Awaited<ReturnType<typeof listLogs>>['results'][number];

describe.each(DB_BACKENDS)('request-log storage on %s', (db) => {
  let h: TestApp;
  beforeAll(async () => void (h = await makeTestApp({ db, env: { REQUEST_LOGS: 'false' } })));
  afterAll(() => h?.close());

  /** Every page of a query, following `next_cursor`. */
  async function everything(userId: string, q: LogQuery): Promise<{ entries: Listed[]; count: number }> {
    const entries: Listed[] = [];
    let cursor: string | undefined;
    let count = -1;
    for (let i = 0; i < 1000; i++) {
      const page = await listLogs(h.deps.db, userId, { ...q, cursor });
      count = page.count;
      entries.push(...page.results);
      if (!page.next_cursor) return { entries, count };
      cursor = page.next_cursor;
    }
    throw new Error('pagination did not end');
  }

  test('values round-trip exactly, newest first', async () => {
    const userId = crypto.randomUUID();
    const at = Date.parse('2026-11-22T10:00:00.123Z');
    await insertLogs(h.deps.db, [
      { userId, method: 'GET', path: '/a\tb/c\nd\\e?q=\\N"x"', statusCode: 200, durationMs: 1.256, requestSizeBytes: 0, responseSizeBytes: null, ip: null, apiKeyPrefix: 'pk_abc', requestId: 'req-1:a.b', createdAt: at },
      { userId, method: 'POST', path: '/ünïcødé/\r/\u2028', statusCode: 507, durationMs: 0, requestSizeBytes: null, responseSizeBytes: 9_000_000_000, ip: '::1', apiKeyPrefix: null, createdAt: at + 1 },
    ]);
    const { results, count } = await listLogs(h.deps.db, userId, {});
    expect(count).toBe(2);
    expect(results.map((r) => r.path)).toEqual(['/ünïcødé/\r/\u2028', '/a\tb/c\nd\\e?q=\\N"x"']);
    expect(results[1]).toMatchObject({
      method: 'GET', status_code: 200, duration_ms: 1.26, request_size_bytes: 0, response_size_bytes: null, ip: null,
      api_key_prefix: 'pk_abc', request_id: 'req-1:a.b', created_at: '2026-11-22T10:00:00.123Z',
    });
    expect(results[0]).toMatchObject({ method: 'POST', status_code: 507, request_size_bytes: null, response_size_bytes: 9_000_000_000, ip: '::1', api_key_prefix: null, request_id: null });
    expect(Number(results[0]!.id)).toBeGreaterThan(Number(results[1]!.id));
  });

  test('a batch written before request ids were kept (six-element entries) reads back with request_id null', async () => {
    const userId = crypto.randomUUID();
    const stored = { c: [['GET', '/old', null, null]], e: [[0, 200, 1.5, 0, 10, 0]] };
    await h.deps.db.insert(requestLogBatches).values({
      userId, entryCount: 1, firstAt: new Date('2026-11-20T00:00:00Z'), lastAt: new Date('2026-11-20T00:00:00Z'), counts: { 'GET 200': 1 }, entries: JSON.stringify(stored),
    });
    const { results } = await listLogs(h.deps.db, userId, {});
    expect(results).toEqual([expect.objectContaining({ path: '/old', status_code: 200, request_id: null, created_at: '2026-11-20T00:00:00.000Z' })]);
  });

  test('pages, filters and counts over many batches agree with the plain list', async () => {
    const alice = crypto.randomUUID();
    const bob = crypto.randomUUID();
    const t0 = Date.parse('2026-11-01T00:00:00Z');
    const methods = ['GET', 'POST', 'DELETE'];
    const statuses = [200, 201, 404, 413, 500];
    const written: NewRequestLog[] = [];
    let n = 0;
    // Batches of mixed accounts and sizes, one bigger than a batch row holds.
    for (const size of [3, 250, MAX_BATCH_ENTRIES + 7, 1, 40]) {
      const batch: NewRequestLog[] = [];
      for (let i = 0; i < size; i++, n++) {
        batch.push({
          userId: n % 3 === 0 ? bob : alice, method: methods[n % 3]!, path: `/api/files/${n}`, statusCode: statuses[n % 5]!,
          durationMs: n / 10, createdAt: t0 + n * 10, apiKeyPrefix: [null, 'pk_AAAAAAAAA', 'pk_BBBBBBBBB', null][n % 4],
        });
      }
      await insertLogs(h.deps.db, batch);
      written.push(...batch);
    }
    const expected = (userId: string, keep: (e: NewRequestLog) => boolean = () => true) =>
      written.filter((e) => e.userId === userId && keep(e)).reverse().map((e) => e.path);

    const all = await everything(alice, { limit: 97 });
    expect(all.entries.map((e) => e.path)).toEqual(expected(alice));
    expect(all.count).toBe(expected(alice).length);
    const ids = all.entries.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await everything(bob, { limit: 200 })).entries.map((e) => e.path)).toEqual(expected(bob));

    const cases: [LogQuery, (e: NewRequestLog) => boolean][] = [
      [{ status: '404' }, (e) => e.statusCode === 404],
      [{ status: '4xx' }, (e) => e.statusCode >= 400 && e.statusCode < 500],
      [{ method: 'post' }, (e) => e.method === 'POST'],
      [{ method: 'DELETE', status: '5xx' }, (e) => e.method === 'DELETE' && e.statusCode >= 500],
      // Inside the big batch, so batches straddle it.
      [{ since: new Date(t0 + 700 * 10).toISOString() }, (e) => e.createdAt >= t0 + 7000],
      [{ since: new Date(t0 + 700 * 10).toISOString(), status: '2xx' }, (e) => e.createdAt >= t0 + 7000 && e.statusCode < 300],
      [{ method: 'PATCH' }, () => false],
      [{ credential: 'session' }, (e) => !e.apiKeyPrefix],
      [{ credential: 'api_key' }, (e) => !!e.apiKeyPrefix],
      [{ credential: 'pk_BBBBBBBBB', status: '4xx' }, (e) => e.apiKeyPrefix === 'pk_BBBBBBBBB' && e.statusCode >= 400 && e.statusCode < 500],
      [{ credential: 'pk_AAAAAAAAA', since: new Date(t0 + 700 * 10).toISOString() }, (e) => e.apiKeyPrefix === 'pk_AAAAAAAAA' && e.createdAt >= t0 + 7000],
      [{ credential: 'pk_CCCCCCCCC' }, () => false],
    ];
    for (const [q, keep] of cases) {
      const got = await everything(alice, { ...q, limit: 150 });
      expect({ q, paths: got.entries.map((e) => e.path) }).toEqual({ q, paths: expected(alice, keep) });
      expect({ q, count: got.count }).toEqual({ q, count: expected(alice, keep).length });
    }
  });

  test('a batch written before its counts named the credential is filtered and counted by its entries', async () => {
    const userId = crypto.randomUUID();
    const stored = { c: [['GET', '/by-key', null, 'pk_AAAAAAAAA'], ['GET', '/by-session', null, null]], e: [[0, 200, 1, 0, 10, 0, null], [1, 200, 1, 0, 10, 5, null], [0, 404, 1, 0, 10, 9, null]] };
    await h.deps.db.insert(requestLogBatches).values({
      userId, entryCount: 3, firstAt: new Date('2026-11-20T00:00:00Z'), lastAt: new Date('2026-11-20T00:00:00.009Z'), counts: { 'GET 200': 2, 'GET 404': 1 }, entries: JSON.stringify(stored),
    });
    await insertLogs(h.deps.db, [{ userId, method: 'GET', path: '/new-key', statusCode: 200, durationMs: 0, apiKeyPrefix: 'pk_AAAAAAAAA', createdAt: Date.parse('2026-11-21T00:00:00Z') }]);
    const byKey = await listLogs(h.deps.db, userId, { credential: 'pk_AAAAAAAAA' });
    expect(byKey.results.map((r) => `${r.path} ${r.status_code}`)).toEqual(['/new-key 200', '/by-key 404', '/by-key 200']);
    expect(byKey.count).toBe(3);
    const bySession = await listLogs(h.deps.db, userId, { credential: 'session', status: '2xx' });
    expect(bySession.results.map((r) => r.path)).toEqual(['/by-session']);
    expect(bySession.count).toBe(1);
  });

  test('an unknown credential filter is a 400 naming it', async () => {
    await expect(listLogs(h.deps.db, crypto.randomUUID(), { credential: 'cookie' })).rejects.toMatchObject({ status: 400, details: { fields: [{ path: '/credential' }] } });
  });

  test('a refused batch rejects and stores nothing of it; the next one goes in', async () => {
    const userId = crypto.randomUUID();
    const bad = [{ userId, method: 'GET', path: '/ok', statusCode: 200, durationMs: 0, createdAt: Date.now() },
      { userId: 'not-a-uuid', method: 'GET', path: '/bad', statusCode: 200, durationMs: 0, createdAt: Date.now() }];
    await expect(insertLogs(h.deps.db, bad)).rejects.toThrow();
    expect((await listLogs(h.deps.db, userId, {})).count).toBe(0);
    await insertLogs(h.deps.db, [bad[0]!]);
    expect((await listLogs(h.deps.db, userId, {})).count).toBe(1);
  });

  test('the prune removes batches older than the retention, counting their entries', async () => {
    const userId = crypto.randomUUID();
    const now = Date.parse('2026-11-22T12:00:00Z');
    const day = 86_400_000;
    const entry = (at: number, path: string): NewRequestLog => ({ userId, method: 'GET', path, statusCode: 200, durationMs: 0, createdAt: at });
    await insertLogs(h.deps.db, [entry(now - 40 * day, '/old1'), entry(now - 40 * day + 1, '/old2')]);
    await insertLogs(h.deps.db, [entry(now - 29 * day, '/kept')]);
    const removed = await pruneLogs(h.deps.db, 30, now);
    expect(removed).toBe(2); // the other tests write entries from 2026-11-01 on: within the retention
    expect((await listLogs(h.deps.db, userId, {})).results.map((e) => e.path)).toEqual(['/kept']);
  });
});
