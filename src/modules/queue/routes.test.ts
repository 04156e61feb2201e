import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { asc, eq, sql } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { readSse } from '../../../test/helpers/sse';
import { until } from '../../../test/helpers/until';
import { createApiKey } from '../keys/service';
import { users } from '../users/table';
import { formatCursor } from './events';
import { MAX_STREAMS_PER_ACCOUNT } from './routes';
import { jobEvents, jobs } from './table';

describe.each(DB_BACKENDS)('/api/queue on %s', (db) => {
  let h: TestApp;
  let alice: string;
  let aliceKey: string;
  let aliceReadOnly: string;
  let adminKey: string;
  const as = (key: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { QUEUE_CONCURRENCY: '4', QUEUE_POLL_MS: '50' } });
    const [a, adm] = await h.deps.db
      .insert(users)
      .values([
        { email: `alice-${db}@example.test`, passwordHash: 'x' },
        { email: `root-${db}@example.test`, passwordHash: 'x', role: 'admin' },
      ])
      .returning();
    alice = a!.id;
    aliceKey = (await createApiKey(h.deps.db, alice)).key;
    aliceReadOnly = (await createApiKey(h.deps.db, alice, { scopes: ['queue:read'] })).key;
    adminKey = (await createApiKey(h.deps.db, adm!.id, { scopes: ['queue:read', 'queue:write', 'admin'] })).key;
    h.deps.queue.register('test.noop', async () => {});
    h.deps.queue.register('test.steps', async (ctx) => {
      for (const p of [25, 50, 75]) await ctx.setProgress(p);
    });
  }, 60_000);
  afterAll(() => h.close());

  test('users see their own jobs, admins all; filters, pagination and stats agree', async () => {
    for (let i = 0; i < 3; i++) await h.deps.queue.enqueue({ type: 'test.list', userId: alice, payload: { i } });
    await h.deps.queue.enqueue({ type: 'test.list', payload: { system: true } });
    const mine = await (await h.request('/api/queue/jobs?type=test.list&limit=2', as(aliceKey))).json();
    expect(mine.count).toBe(3);
    expect(mine.results).toHaveLength(2);
    const next = await (await h.request(`/api/queue/jobs?type=test.list&limit=2&cursor=${mine.next_cursor}`, as(aliceKey))).json();
    expect(next.next_cursor).toBeNull();
    // Two pages, every job once. Jobs made in the same millisecond tie on created_at and go by id,
    // so their order is not the order they were made in (the test read { i: 1 } first in one run).
    const seen = [...mine.results, ...next.results].map((j: { payload: { i: number } }) => j.payload.i).sort();
    expect(seen).toEqual([0, 1, 2]);
    const all = await (await h.request('/api/queue/jobs?type=test.list', as(adminKey))).json();
    expect(all.count).toBe(4);
    const stats = await (await h.request('/api/queue/stats', as(aliceKey))).json();
    expect(stats.by_type['test.list']).toEqual({ pending: 3, running: 0, completed: 0, failed: 0, cancelled: 0 });
    const adminStats = await (await h.request('/api/queue/stats', as(adminKey))).json();
    expect(adminStats.by_type['test.list'].pending).toBe(4);
    // An admin may leave out the server's own housekeeping (jobs of no account), or see only it.
    const accounts = await (await h.request('/api/queue/jobs?type=test.list&system=false', as(adminKey))).json();
    expect([accounts.count, accounts.results.every((j: { user_id: string | null }) => j.user_id !== null)]).toEqual([3, true]);
    const housekeeping = await (await h.request('/api/queue/jobs?type=test.list&system=true', as(adminKey))).json();
    expect(housekeeping.results.map((j: { payload: unknown }) => j.payload)).toEqual([{ system: true }]);
    expect((await (await h.request('/api/queue/stats?system=false', as(adminKey))).json()).by_type['test.list'].pending).toBe(3);
    expect((await (await h.request('/api/queue/stats?system=true', as(adminKey))).json()).by_type['test.list'].pending).toBe(1);
    // The server's own jobs are an admin's to see: the filter is refused to others, not quietly emptied.
    for (const path of ['/api/queue/jobs?type=test.list&system=true', '/api/queue/stats?system=true']) {
      const refused = await h.request(path, as(aliceKey));
      expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([403, 'FORBIDDEN']);
    }
    // system=false is what a user's list is anyway.
    expect((await (await h.request('/api/queue/jobs?type=test.list&system=false', as(aliceKey))).json()).count).toBe(3);
    expect((await h.request('/api/queue/stats?system=maybe', as(adminKey))).status).toBe(400);
    expect((await h.request('/api/queue/jobs?status=nope', as(aliceKey))).status).toBe(400);
    expect((await h.request('/api/queue/jobs')).status).toBe(401);
    // One job by id, as the list gives it (the route answered 405 "use DELETE"): the owner's, or any for an admin.
    const first = mine.results[0] as { id: string };
    const one = await h.request(`/api/queue/jobs/${first.id}`, as(aliceKey));
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(mine.results[0]);
    const systemJob = (housekeeping.results[0] as { id: string }).id;
    expect((await h.request(`/api/queue/jobs/${systemJob}`, as(aliceKey))).status).toBe(404);
    expect((await h.request(`/api/queue/jobs/${systemJob}`, as(adminKey))).status).toBe(200);
  });

  test('cancel, retry and delete follow the status rules and scopes', async () => {
    const job = (await h.deps.queue.enqueue({ type: 'test.rules', userId: alice }))!;
    const other = (await h.deps.queue.enqueue({ type: 'test.rules' }))!;
    const url = (id: string, op = '') => `/api/queue/jobs/${id}${op}`;
    const ro = await h.request(url(job.id, '/cancel'), as(aliceReadOnly, { method: 'POST' }));
    expect(ro.status).toBe(403);
    expect((await ro.json()).error).toBe('MISSING_SCOPE');
    expect((await h.request(url(other.id, '/cancel'), as(aliceKey, { method: 'POST' }))).status).toBe(404);
    expect((await h.request(url(job.id), as(aliceKey, { method: 'DELETE' }))).status).toBe(409);
    expect((await h.request(url(job.id, '/retry'), as(aliceKey, { method: 'POST' }))).status).toBe(409);
    const cancelled = await (await h.request(url(job.id, '/cancel'), as(aliceKey, { method: 'POST' }))).json();
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.finished_at).not.toBeNull();
    expect((await h.request(url(job.id, '/cancel'), as(aliceKey, { method: 'POST' }))).status).toBe(409);
    const retried = await (await h.request(url(job.id, '/retry'), as(aliceKey, { method: 'POST' }))).json();
    expect(retried).toMatchObject({ status: 'pending', attempts: 0, finished_at: null, cancel_requested: false });
    await h.request(url(job.id, '/cancel'), as(aliceKey, { method: 'POST' }));
    const del = await h.request(url(job.id), as(aliceKey, { method: 'DELETE' }));
    expect(del.status).toBe(204);
    expect((await h.request(url(job.id), as(aliceKey, { method: 'DELETE' }))).status).toBe(404);
    expect((await h.request(url('not-a-uuid', '/retry'), as(aliceKey, { method: 'POST' }))).status).toBe(400);
    // Admin may act on anyone's job.
    expect((await (await h.request(url(other.id, '/cancel'), as(adminKey, { method: 'POST' }))).json()).status).toBe('cancelled');
  });

  test('SSE: reconnect with Last-Event-ID receives every missed event once, in order; others\' events hidden', async () => {
    const res = await h.request('/api/queue/events', as(aliceKey));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const first = readSse(res.body!);
    await first.until((_, c) => c.includes('connected'));
    await h.deps.queue.enqueue({ type: 'test.steps', userId: alice });
    await h.deps.queue.runPending();
    await first.until((ev) => ev.some((e) => e.event === 'job.completed'));
    const lastSeen = first.events[first.events.length - 1]!;
    await first.close();

    // While disconnected: more jobs progress, someone else's too.
    const missedJobs = [];
    for (let i = 0; i < 3; i++) missedJobs.push((await h.deps.queue.enqueue({ type: 'test.steps', userId: alice }))!.id);
    await h.deps.queue.enqueue({ type: 'test.steps' });
    await h.deps.queue.runPending();

    const expected = (await h.deps.db.select().from(jobEvents).where(eq(jobEvents.userId, alice)).orderBy(asc(jobEvents.tx), asc(jobEvents.id)))
      .map((e) => ({ id: formatCursor({ tx: e.tx, id: e.id }), event: e.type }));
    const from = expected.findIndex((e) => e.id === lastSeen.id);
    expect(from).toBeGreaterThanOrEqual(0);
    const missed = expected.slice(from + 1);
    expect(missed).toHaveLength(3 * 6); // created, started, 3× progress, completed

    // A heartbeat comes once the stream has nothing left to send: what was sent before it is all it sends.
    h.deps.queue.events.options.heartbeatMs = 100;
    try {
      const again = readSse((await h.request('/api/queue/events', as(aliceKey, { headers: { 'last-event-id': lastSeen.id! } }))).body!);
      await again.until((ev, c) => ev.length >= missed.length && c.includes('heartbeat'));
      expect(again.events.map((e) => ({ id: e.id, event: e.event }))).toEqual(missed);
      const data = again.events.map((e) => JSON.parse(e.data) as { job_id: string });
      expect(new Set(data.map((d) => d.job_id))).toEqual(new Set(missedJobs));
      await again.close();
    } finally {
      h.deps.queue.events.options.heartbeatMs = 15_000;
    }
    expect((await h.request('/api/queue/events', as(aliceKey, { headers: { 'last-event-id': 'garbage' } }))).status).toBe(400);
    // An id ahead of every event so far was never sent: taken, the stream waited for it, silent.
    const ahead = await h.request('/api/queue/events', as(aliceKey, { headers: { 'last-event-id': '999999999-1' } }));
    expect([ahead.status, ((await ahead.json()) as { details: { fields: { path: string }[] } }).details.fields[0]!.path]).toEqual([400, '/Last-Event-ID']);
  });

  test('SSE: a bad last_event_id beside a good header is a 400 naming it (it was dropped unread); with two good ones the header wins; times as the API writes them', async () => {
    const res = await h.request('/api/queue/events', as(aliceKey));
    const s = readSse(res.body!);
    await s.until((_, c) => c.includes('connected'));
    await h.deps.queue.enqueue({ type: 'test.noop', userId: alice });
    await h.deps.queue.runPending();
    await s.until((ev) => ev.some((e) => e.event === 'job.completed'));
    await s.close();
    const [first, last] = [s.events[0]!, s.events.at(-1)!];
    // run_at came as Postgres wrote it (`2026-12-07T01:27:30.929+00:00`, or without milliseconds).
    for (const e of s.events) expect((JSON.parse(e.data) as { run_at: string }).run_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ask = (query: string, header?: string) => h.request(`/api/queue/events${query}`, as(aliceKey, { headers: header ? { 'last-event-id': header } : {} }));
    const bad = await ask('?last_event_id=abc', last.id!);
    expect([bad.status, ((await bad.json()) as { details: { fields: unknown[] } }).details.fields]).toEqual([400, [{ path: '/last_event_id', message: 'is not an event id this server sent', in: 'query' }]]);
    // An EventSource reconnecting to a URL with ?last_event_id= sends the newer id in the header: it wins.
    const both = readSse((await ask(`?last_event_id=${first.id}`, s.events.at(-2)!.id!)).body!);
    await both.until((ev) => ev.length >= 1);
    expect(both.events.map((e) => e.id)).toEqual([last.id]);
    await both.close();
    const same = await ask(`?last_event_id=${last.id}`, last.id!);
    expect(same.status).toBe(200);
    await same.body!.cancel();
  });

  test(`SSE: an account holds at most ${MAX_STREAMS_PER_ACCOUNT} streams on one process, the next is a 429 until one closes (they grew without bound)`, async () => {
    const hub = h.deps.queue.events;
    const open = await Promise.all(Array.from({ length: MAX_STREAMS_PER_ACCOUNT }, async () => {
      const res = await h.request('/api/queue/events', as(aliceReadOnly));
      expect(res.status).toBe(200);
      return res.body!;
    }));
    expect(hub.streamsOf(alice)).toBe(MAX_STREAMS_PER_ACCOUNT);
    const refused = await h.request('/api/queue/events', as(aliceKey));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { details: { bucket: string; limit: number } }).details).toMatchObject({ bucket: 'event_streams', limit: MAX_STREAMS_PER_ACCOUNT });
    // Another account is not counted with this one.
    const other = await h.request('/api/queue/events', as(adminKey));
    expect(other.status).toBe(200);
    await other.body!.cancel();
    await open[0]!.cancel();
    await until('a closed stream to be let go', async () => (hub.streamsOf(alice) < MAX_STREAMS_PER_ACCOUNT ? true : null));
    const again = await h.request('/api/queue/events', as(aliceKey));
    expect(again.status).toBe(200);
    await Promise.all([again.body!.cancel(), ...open.slice(1).map((b) => b.cancel())]);
    await until('every stream to be let go', async () => (hub.streamsOf(alice) === 0 ? true : null));
  });

  test('SSE: a stream ends when its caller is banned, before sending another of their events (it went on sending them)', async () => {
    const [bob] = await h.deps.db.insert(users).values({ email: `bob-${db}-${Date.now()}@example.test`, passwordHash: 'x' }).returning();
    const bobKey = (await createApiKey(h.deps.db, bob!.id)).key;
    const res = await h.request('/api/queue/events', as(bobKey));
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pred: () => boolean) => {
      while (!pred()) {
        const r = await reader.read();
        if (r.done) return true;
        text += new TextDecoder().decode(r.value);
      }
      return false;
    };
    await readUntil(() => text.includes('connected'));
    const banned = await h.request(`/api/admin/users/${bob!.id}/ban`, as(adminKey, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ banned: true }) }));
    expect(banned.status).toBe(200);
    await h.deps.queue.enqueue({ type: 'test.noop', userId: bob!.id });
    await h.deps.queue.runPending();
    // The stream ends (instead of the job's events); a hung stream fails the test by its timeout.
    expect(await readUntil(() => false)).toBe(true);
    expect(text).not.toContain('job.created');
  });

  test('SSE: a client that does not read is switched to replay (bounded buffer) and still gets everything in order', async () => {
    const hub = h.deps.queue.events;
    hub.options.bufferLimit = 5;
    try {
      const res = await h.request('/api/queue/events', as(adminKey));
      const slow = readSse(res.body!);
      await slow.until((_, c) => c.includes('connected'));
      const [{ maxId }] = (await h.deps.db.select({ maxId: sql<string>`max(${jobEvents.id})` }).from(jobEvents)) as [{ maxId: string }];
      for (let i = 0; i < 20; i++) await h.deps.queue.enqueue({ type: 'test.noop', userId: alice });
      await h.deps.queue.runPending();
      // The reader has not pulled: the hub dropped its buffer instead of growing it.
      await until('the slow reader to be switched to replay', async () => (hub.laggingCount() > 0 ? true : null));
      const expected = (await h.deps.db.select().from(jobEvents).where(sql`${jobEvents.id} > ${Number(maxId)}`).orderBy(asc(jobEvents.tx), asc(jobEvents.id)))
        .map((e) => formatCursor({ tx: e.tx, id: e.id }));
      expect(expected).toHaveLength(60);
      await slow.until((ev) => ev.length >= 60);
      expect(slow.events.map((e) => e.id)).toEqual(expected);
      await slow.close();
    } finally {
      hub.options.bufferLimit = 1000;
    }
  });

  test('an unknown job type is a 400 naming the known types (with a suggestion when close)', async () => {
    const res = await h.request('/api/queue/jobs?type=bogus', as(aliceKey));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; details: { fields: { path: string; in: string; message: string; suggestion?: string }[]; known_types: string[] } };
    expect(body.error).toBe('VALIDATION_ERROR');
    expect(body.message).toStartWith('Unknown job type "bogus". Known: ');
    expect(body.details.known_types).toContain('account_export');
    expect(body.details.known_types).toContain('test.noop');
    expect(body.details.fields).toEqual([{ path: '/type', in: 'query', message: 'is not a known job type' }]);
    const typo = (await (await h.request('/api/queue/jobs?type=derve', as(aliceKey))).json()) as typeof body;
    expect(typo.message).toStartWith('Unknown job type "derve" (did you mean derive?). Known: ');
    expect(typo.details.fields[0]!.suggestion).toBe('derive');
    // A registered type with no job yet is fine (an empty list), as is a type only jobs still have.
    expect((await h.request('/api/queue/jobs?type=account_delete', as(aliceKey))).status).toBe(200);
    expect((await (await h.request('/api/queue/jobs?type=test.list', as(aliceKey))).json()).count).toBe(3);
  });

  test('SSE: heartbeat comments while idle', async () => {
    h.deps.queue.events.options.heartbeatMs = 100;
    try {
      const s = readSse((await h.request('/api/queue/events', as(aliceKey))).body!);
      await s.until((_, c) => c.filter((x) => x === 'heartbeat').length >= 2);
      await s.close();
    } finally {
      h.deps.queue.events.options.heartbeatMs = 15_000;
    }
  });

  test('periodic sweeps are enqueued once per period', async () => {
    // Two instances (or two minutes of one) scheduling the same period create one job per type.
    await h.deps.queue.schedulePeriodic();
    await h.deps.queue.schedulePeriodic();
    const rows = await h.deps.db.select().from(jobs).where(sql`${jobs.type} in ('expire', 'prune')`);
    expect(rows.map((r) => r.type).sort()).toEqual(['expire', 'prune']);
    expect(rows.every((r) => r.uniqueKey?.startsWith(`${r.type}@`))).toBe(true);
  });
});
