/**
 * Webhooks (#25 acceptance 5): a local receiver gets each event with a valid Standard Webhooks
 * signature; while it is down the delivery is retried (backoff shortened by
 * WEBHOOK_RETRY_BASE_MS for the test) and arrives once it is back; a target on 127.0.0.1 is
 * refused unless OUTBOUND_ALLOW_LOOPBACK allows it. Every wait is for a condition.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../helpers/app';
import { quadrants } from '../helpers/images';
import { seedFile, seedUser, type SeededUser } from '../helpers/seed';
import { startServer, type RunningServer } from '../helpers/server';
import { DB_BACKENDS } from '../helpers/services';
import { verifyWebhook } from '../../src/modules/webhooks/sign';
import { expireFiles } from '../../src/modules/files/purge';
import { emitWebhookEvent } from '../../src/modules/webhooks/emit';

interface Received { id: string; timestamp: number; signature: string; body: string; event: { type: string; data: Record<string, unknown> } }

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** A receiver on loopback that records what it gets; `stop()`/`start()` take it down and bring it back on the same port. */
function receiver() {
  const got: Received[] = [];
  let server: ReturnType<typeof Bun.serve> | null = null;
  let port = 0;
  const start = () => {
    server = Bun.serve({
      port,
      hostname: '127.0.0.1',
      async fetch(req): Promise<Response> {
        const body = await req.text();
        // A delivery cut off by an app closing (an earlier suite's afterAll) arrives truncated:
        // not an event, and not to be thrown at whichever test runs at that moment.
        if (!isJson(body)) return new Response('not JSON', { status: 400 });
        got.push({
          id: req.headers.get('webhook-id') ?? '',
          timestamp: Number(req.headers.get('webhook-timestamp')),
          signature: req.headers.get('webhook-signature') ?? '',
          body,
          event: JSON.parse(body) as Received['event'],
        });
        return new Response('thanks');
      },
    });
    port = server.port as number;
  };
  start();
  return { got, url: () => `http://127.0.0.1:${port}/hook`, start, stop: () => server?.stop(true) };
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('webhooks over real HTTP', () => {
  let srv: RunningServer;
  const rx = receiver();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', ...(init.body && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  let hook: { id: string; secret: string };

  beforeAll(async () => {
    srv = await startServer({
      env: {
        OUTBOUND_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_MAX_ATTEMPTS: '100',
        QUEUE_POLL_MS: '100', DISABLE_RATE_LIMIT: 'true',
      },
    });
    const res = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: rx.url(), events: ['file.uploaded', 'file.deleted', 'file.expired', 'job.failed'] }) });
    expect(res.status).toBe(201);
    hook = (await res.json()) as typeof hook;
    expect(hook.secret).toStartWith('whsec_');
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    rx.stop();
  });

  const valid = (r: Received) => verifyWebhook(hook.secret, r.id, r.timestamp, r.body, r.signature);

  test('the secret is shown once, at creation; an account has at most 10 endpoints (409 beyond)', async () => {
    const listed = (await (await api('/api/webhooks')).json()) as { results: Record<string, unknown>[] };
    expect(listed.results.length).toBeGreaterThan(0);
    for (const w of listed.results) expect('secret' in w).toBe(false);
    expect((listed as { next_cursor?: unknown }).next_cursor).toBeNull();
    expect('secret' in ((await (await api(`/api/webhooks/${hook.id}`)).json()) as Record<string, unknown>)).toBe(false);
    const made: string[] = [];
    for (let i = listed.results.length; i < 10; i++) {
      const res = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: rx.url(), events: ['file.deleted'] }) });
      expect(res.status).toBe(201);
      made.push(((await res.json()) as { id: string }).id);
    }
    // Newest first, as every list (they came oldest first).
    const all = (await (await api('/api/webhooks')).json()) as { results: { id: string; created_at: string }[] };
    expect(all.results[0]!.id).toBe(made.at(-1)!);
    expect(all.results.map((w) => w.created_at)).toEqual(all.results.map((w) => w.created_at).sort().reverse());
    const over = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: rx.url(), events: ['file.deleted'] }) });
    expect(over.status).toBe(409);
    expect(((await over.json()) as { error: string }).error).toBe('CONFLICT');
    for (const id of made) expect((await api(`/api/webhooks/${id}`, { method: 'DELETE' })).status).toBe(204);
  });

  test('file.uploaded and file.deleted arrive signed', async () => {
    const png = await quadrants(40, 30).png().toBuffer();
    const up = await api('/api/files', { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    await eventually('file.uploaded', () => rx.got.some((r) => r.event.type === 'file.uploaded' && r.event.data.id === file.id));
    const uploaded = rx.got.find((r) => r.event.type === 'file.uploaded')!;
    expect(valid(uploaded)).toBe(true);
    expect(uploaded.event.data).toMatchObject({ id: file.id, content_type: 'image/png', size: png.length });
    // The body's keys in the documented order (the stored JSON sent data, type, timestamp).
    expect(Object.keys(JSON.parse(uploaded.body) as object)).toEqual(['type', 'timestamp', 'data']);
    // A tampered body or another secret does not verify.
    expect(verifyWebhook(hook.secret, uploaded.id, uploaded.timestamp, uploaded.body.replace('image/png', 'image/gif'), uploaded.signature)).toBe(false);
    expect(verifyWebhook('whsec_b3RoZXI=', uploaded.id, uploaded.timestamp, uploaded.body, uploaded.signature)).toBe(false);

    expect((await api(`/api/files/${file.id}`, { method: 'DELETE' })).status).toBe(204);
    await eventually('file.deleted', () => rx.got.some((r) => r.event.type === 'file.deleted' && r.event.data.id === file.id));
    expect(valid(rx.got.find((r) => r.event.type === 'file.deleted')!)).toBe(true);
  });

  test('send test: delivered and logged with the status code', async () => {
    const res = await api(`/api/webhooks/${hook.id}/test`, { method: 'POST' });
    expect(res.status).toBe(202);
    const d = (await res.json()) as { id: string; event_id: string };
    await eventually('the test event', () => rx.got.some((r) => r.id === d.event_id));
    expect(valid(rx.got.find((r) => r.id === d.event_id)!)).toBe(true);
    await eventually('the log to say succeeded', async () => {
      const log = (await (await api(`/api/webhooks/${hook.id}/deliveries`)).json()) as { results: { id: string; status: string; response_status: number | null }[] };
      const row = log.results.find((x) => x.id === d.id);
      return row?.status === 'succeeded' && row.response_status === 200;
    });
  });

  test('rotating the secret: the new one is shown once, deliveries carry both signatures until the old one expires; with 0 only the new one signs', async () => {
    const made = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: rx.url(), events: ['file.deleted'] }) });
    const { id, secret: first } = (await made.json()) as { id: string; secret: string };
    const sendTest = async () => {
      const d = (await (await api(`/api/webhooks/${id}/test`, { method: 'POST' })).json()) as { event_id: string };
      await eventually('the test event', () => rx.got.some((r) => r.id === d.event_id));
      return rx.got.find((r) => r.id === d.event_id)!;
    };
    const verifies = (secret: string, r: Received) => verifyWebhook(secret, r.id, r.timestamp, r.body, r.signature);
    try {
      const before = Date.now();
      const rotated = await api(`/api/webhooks/${id}/rotate-secret`, { method: 'POST' });
      expect(rotated.status).toBe(200);
      const hook1 = (await rotated.json()) as { secret: string; previous_secret_expires_at: string };
      expect(hook1.secret).toStartWith('whsec_');
      expect(hook1.secret).not.toBe(first);
      const until = Date.parse(hook1.previous_secret_expires_at) - before;
      expect(until).toBeGreaterThan(86_000_000);
      expect(until).toBeLessThan(86_400_000 + 60_000);
      expect('secret' in ((await (await api(`/api/webhooks/${id}`)).json()) as Record<string, unknown>)).toBe(false);

      const both = await sendTest();
      expect(both.signature.split(' ')).toHaveLength(2);
      expect([verifies(first, both), verifies(hook1.secret, both)]).toEqual([true, true]);

      // Rotated again within the day: the first secret keeps the day its rotation promised (it stopped signing at once).
      const again = (await (await api(`/api/webhooks/${id}/rotate-secret`, { method: 'POST', body: JSON.stringify({ previous_secret_valid_for: 60 }) })).json()) as { secret: string; previous_secret_expires_at: string };
      expect(Date.parse(again.previous_secret_expires_at)).toBe(Date.parse(hook1.previous_secret_expires_at));
      const three = await sendTest();
      expect(three.signature.split(' ')).toHaveLength(3);
      expect([verifies(first, three), verifies(hook1.secret, three), verifies(again.secret, three)]).toEqual([true, true, true]);

      // A secret that leaked: replaced at once, the old one signs nothing more.
      const now = (await (await api(`/api/webhooks/${id}/rotate-secret`, { method: 'POST', body: JSON.stringify({ previous_secret_valid_for: 0 }) })).json()) as { secret: string; previous_secret_expires_at: string | null };
      expect(now.previous_secret_expires_at).toBeNull();
      const only = await sendTest();
      expect(only.signature.split(' ')).toHaveLength(1);
      expect([verifies(hook1.secret, only), verifies(first, only), verifies(again.secret, only), verifies(now.secret, only)]).toEqual([false, false, false, true]);

      const bad = await api(`/api/webhooks/${id}/rotate-secret`, { method: 'POST', body: JSON.stringify({ previous_secret_valid_for: 8 * 86_400 }) });
      expect(bad.status).toBe(400);
      expect((await api('/api/webhooks/00000000-0000-4000-8000-000000000000/rotate-secret', { method: 'POST' })).status).toBe(404);
    } finally {
      await api(`/api/webhooks/${id}`, { method: 'DELETE' });
    }
  });

  test('the delivery log pages by cursor and counts them all (a page of 3 said count 3 of 34, and the rest was unreachable)', async () => {
    for (let i = 0; i < 3; i++) expect((await api(`/api/webhooks/${hook.id}/test`, { method: 'POST' })).status).toBe(202);
    type Page = { results: { id: string }[]; count: number; next_cursor: string | null };
    const all = (await (await api(`/api/webhooks/${hook.id}/deliveries?limit=200`)).json()) as Page;
    expect(all.count).toBe(all.results.length);
    expect(all.count).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page = (await (await api(`/api/webhooks/${hook.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json()) as Page;
      expect(page.count).toBe(all.count);
      seen.push(...page.results.map((r) => r.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.results.map((r) => r.id));
    expect((await api(`/api/webhooks/${hook.id}/deliveries?cursor=bm9wZQ`)).status).toBe(400);
  });

  test('a redirecting receiver: failed at once, its 3xx kept in the log; an attempt is logged at the time it was sent', async () => {
    let receivedAt = 0;
    const redirecting = Bun.serve({
      port: 0, hostname: '127.0.0.1',
      fetch: async () => (await Bun.sleep(300), (receivedAt ||= Date.now()), new Response(null, { status: 302, headers: { location: rx.url() } })),
    });
    try {
      const made = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: `http://127.0.0.1:${redirecting.port}/old`, events: ['file.uploaded'] }) });
      expect(made.status).toBe(201);
      const other = (await made.json()) as { id: string };
      const sent = (await (await api(`/api/webhooks/${other.id}/test`, { method: 'POST' })).json()) as { id: string };
      type Row = { id: string; status: string; response_status: number | null; last_error: string | null; attempts: { at: string; status: number | null; duration_ms: number }[] };
      let row: Row | undefined;
      await eventually('the delivery to fail', async () => {
        const log = (await (await api(`/api/webhooks/${other.id}/deliveries`)).json()) as { results: Row[] };
        row = log.results.find((x) => x.id === sent.id);
        return row?.status === 'failed';
      });
      // The 302 was lost (null), and `at` was the end of the attempt, after the receiver had it.
      expect(row).toMatchObject({ response_status: 302, attempts: [{ status: 302 }] });
      expect(row!.last_error).toContain('redirect');
      expect(Date.parse(row!.attempts[0]!.at)).toBeLessThanOrEqual(receivedAt);
      expect(row!.attempts[0]!.duration_ms).toBeGreaterThanOrEqual(250);
      expect((await api(`/api/webhooks/${other.id}`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      redirecting.stop(true);
    }
  });

  test('a 3xx without a Location (300, 304) fails at once too, as the README says (it was retried)', async () => {
    for (const code of [300, 304]) {
      let hits = 0;
      const odd = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => (hits++, new Response(null, { status: code })) });
      try {
        const made = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: `http://127.0.0.1:${odd.port}/`, events: ['file.uploaded'] }) });
        const other = (await made.json()) as { id: string };
        const sent = (await (await api(`/api/webhooks/${other.id}/test`, { method: 'POST' })).json()) as { id: string };
        type Row = { id: string; status: string; last_error: string | null; attempts: unknown[] };
        let row: Row | undefined;
        await eventually(`the ${code} delivery to fail`, async () => {
          row = ((await (await api(`/api/webhooks/${other.id}/deliveries`)).json()) as { results: Row[] }).results.find((x) => x.id === sent.id);
          return row?.status === 'failed';
        });
        expect([code, row!.attempts.length, hits]).toEqual([code, 1, 1]);
        expect(row!.last_error).toContain('redirect');
        expect((await api(`/api/webhooks/${other.id}`, { method: 'DELETE' })).status).toBe(204);
      } finally {
        odd.stop(true);
      }
    }
  });

  test('while the receiver is down the delivery is retried, and arrives once it is back', async () => {
    rx.stop();
    const res = await api(`/api/webhooks/${hook.id}/test`, { method: 'POST' });
    const d = (await res.json()) as { id: string; event_id: string };
    type Log = { results: { id: string; status: string; attempts: { status: number | null; error: string | null }[] }[] };
    const row = async () => ((await (await api(`/api/webhooks/${hook.id}/deliveries`)).json()) as Log).results.find((x) => x.id === d.id);
    await eventually('two failed attempts', async () => ((await row())?.attempts.length ?? 0) >= 2);
    const failing = (await row())!;
    expect(failing.status).toBe('pending');
    expect(failing.attempts[0]).toMatchObject({ status: null });
    expect(failing.attempts[0]!.error).toContain('could not connect');
    expect(rx.got.some((r) => r.id === d.event_id)).toBe(false);
    rx.start();
    await eventually('the retried delivery', () => rx.got.some((r) => r.id === d.event_id));
    expect(valid(rx.got.find((r) => r.id === d.event_id)!)).toBe(true);
    await eventually('the log to say succeeded', async () => (await row())?.status === 'succeeded');
    const done = (await row())!;
    expect(done.attempts.at(-1)!.status).toBe(200);
    expect(done.attempts.length).toBeGreaterThanOrEqual(3);
  });

  test('a PATCH or a test send racing a DELETE is a 200/202 or a 404, never a 500 (the PATCH read the row, checked the url, then updated nothing)', async () => {
    const unexpected: string[] = [];
    for (let i = 0; i < 10; i++) {
      for (const racer of ['PATCH', 'test'] as const) {
        const made = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: rx.url(), events: ['file.deleted'] }) });
        expect(made.status).toBe(201);
        const { id } = (await made.json()) as { id: string };
        const [raced, deleted] = await Promise.all([
          racer === 'PATCH'
            // A url with a name to resolve: the DNS lookup is the window the DELETE slipped into.
            ? api(`/api/webhooks/${id}`, { method: 'PATCH', body: JSON.stringify({ url: rx.url().replace('127.0.0.1', 'localhost').replace('/hook', '/r2') }) })
            : api(`/api/webhooks/${id}/test`, { method: 'POST' }),
          api(`/api/webhooks/${id}`, { method: 'DELETE' }),
        ]);
        const body = await raced.text();
        if (![racer === 'PATCH' ? 200 : 202, 404].includes(raced.status)) unexpected.push(`${racer} → ${raced.status} ${body}`);
        if (deleted.status !== 204) unexpected.push(`DELETE → ${deleted.status} ${await deleted.text()}`);
      }
    }
    expect(unexpected).toEqual([]);
  });
});

describe.each(DB_BACKENDS)('webhooks in-process (%s)', (db) => {
  let strict: TestApp;
  let app: TestApp;
  let user: SeededUser;
  const rx = receiver();
  beforeAll(async () => {
    strict = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true' } });
    app = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true', OUTBOUND_ALLOW_LOOPBACK: 'true' } });
    user = await seedUser(app.deps);
  }, 120_000);
  afterAll(async () => {
    await strict?.close();
    await app?.close();
    rx.stop();
  });
  const create = (t: TestApp, key: string, url: string, events: string[] = ['file.expired', 'job.failed']) =>
    t.request('/api/webhooks', { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ url, events }) });

  test('a target on 127.0.0.1 (or another private or metadata address) is refused unless allowed', async () => {
    const u = await seedUser(strict.deps);
    // Each refusal names the setting that allows it, and only where there is one (all named both).
    const hints: Record<string, string> = {
      'http://127.0.0.1:9/hook': 'OUTBOUND_ALLOW_LOOPBACK allows it', 'http://[::1]:9/hook': 'OUTBOUND_ALLOW_LOOPBACK allows it',
      'http://localhost:9/hook': 'OUTBOUND_ALLOW_LOOPBACK allows it', 'http://10.0.0.1/hook': 'OUTBOUND_ALLOW_PRIVATE allows it',
      'http://169.254.169.254/latest': 'no setting allows it',
    };
    for (const [url, hint] of Object.entries(hints)) {
      const res = await create(strict, u.key, url);
      const body = (await res.json()) as { error: string; message: string };
      expect({ url, status: res.status, error: body.error }).toEqual({ url, status: 400, error: 'VALIDATION_ERROR' });
      expect(body.message).toContain('refused');
      expect(body.message).toContain(hint);
    }
    expect((await create(app, user.key, 'http://127.0.0.1:9/hook')).status).toBe(201);
    // Port 0 reaches nothing: refused even where loopback is allowed (it was accepted).
    const zero = await create(app, user.key, 'http://127.0.0.1:0/hook');
    expect(zero.status).toBe(400);
    expect(((await zero.json()) as { message: string }).message).toContain('port 0');
  });

  test('file.expired and job.failed are delivered', async () => {
    const res = await create(app, user.key, rx.url());
    expect(res.status).toBe(201);
    const { secret } = (await res.json()) as { secret: string };
    const png = await quadrants(20, 20).png().toBuffer();
    const file = await seedFile(app.deps, user.id, png, { expiresAt: new Date(app.deps.clock.now() - 1000) });
    expect(await expireFiles(app.deps)).toBeGreaterThanOrEqual(1);

    app.deps.queue.register('always_fails', async () => {
      throw new Error('boom');
    });
    await app.deps.queue.enqueue({ type: 'always_fails', userId: user.id, maxAttempts: 1 });
    // Runs the failing job (its job.failed delivery is written after it fails) and every delivery.
    await eventually('both events', async () => {
      await app.deps.queue.runPending();
      return rx.got.some((r) => r.event.type === 'file.expired' && r.event.data.id === file.id) && rx.got.some((r) => r.event.type === 'job.failed');
    }, 200);
    for (const r of rx.got) expect(verifyWebhook(secret, r.id, r.timestamp, r.body, r.signature)).toBe(true);
    expect(rx.got.find((r) => r.event.type === 'job.failed')!.event.data).toMatchObject({ type: 'always_fails', last_error: 'boom' });
  });
});

/**
 * Deliveries and the queue: a delivery whose job was cancelled or deleted is settled, an endpoint
 * turned off stops its queued retries, a delivery given up fails its job, and test sends count
 * per account (not in the per-IP `sensitive` bucket, which password guesses spend). Retries are shortened.
 */
describe.each(DB_BACKENDS)('webhook deliveries and their jobs (%s)', (db) => {
  let app: TestApp;
  let healthy = true;
  /** What the receiver got: the path and the event id of each POST. */
  const hits: { path: string; id: string; type: string }[] = [];
  const rx = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    async fetch(req) {
      const body = (await req.json()) as { type: string };
      const path = new URL(req.url).pathname;
      hits.push({ path, id: req.headers.get('webhook-id') ?? '', type: body.type });
      const ok = path === '/ok' || (path === '/toggle' && healthy);
      return new Response(ok ? 'ok' : 'down', { status: ok ? 200 : 500 });
    },
  });
  const at = (path: string) => `http://127.0.0.1:${rx.port}${path}`;

  beforeAll(async () => {
    app = await makeTestApp({
      db,
      env: {
        // A retry 1.5–2.5 s after a failure: a `runPending` pass that makes the first attempt must
        // not reach the retry too, however slow the machine (at 300 ms one could).
        OUTBOUND_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '2000', WEBHOOK_RETRY_MAX_MS: '2500', WEBHOOK_MAX_ATTEMPTS: '2',
        DISABLE_RATE_LIMIT: 'true',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    rx.stop(true);
  });

  const call = (key: string, method: string, path: string, body?: unknown, on = app) => on.request(path, {
    method, headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const ok = async <T>(res: Promise<Response>, status = 200): Promise<T> => {
    const r = await res;
    const text = await r.text();
    expect({ status: r.status, text: r.status === status ? '' : text }).toEqual({ status, text: '' });
    return (text ? JSON.parse(text) : null) as T;
  };
  type Delivery = { id: string; event_id: string; status: string; last_error: string | null; attempts: unknown[] };
  type Job = { id: string; status: string; attempts: number; last_error: string | null; payload: { delivery_id?: string } };
  const newHook = async (key: string, path: string, events = ['file.uploaded']) =>
    ok<{ id: string }>(call(key, 'POST', '/api/webhooks', { url: at(path), events }), 201);
  const delivery = async (key: string, hookId: string, id: string) =>
    (await ok<{ results: Delivery[] }>(call(key, 'GET', `/api/webhooks/${hookId}/deliveries`))).results.find((d) => d.id === id);
  const jobOf = async (key: string, deliveryId: string) =>
    (await ok<{ results: Job[] }>(call(key, 'GET', '/api/queue/jobs?type=webhook_deliver&limit=200'))).results.find((j) => j.payload.delivery_id === deliveryId);

  test('test sends count in the account\'s api bucket, not the per-IP sensitive one (30 of them locked everyone behind the IP out of refresh)', async () => {
    const SENSITIVE_MAX = 2;
    const limited = await makeTestApp({ db, env: { OUTBOUND_ALLOW_LOOPBACK: 'true', RATE_LIMIT_SENSITIVE: `${SENSITIVE_MAX}/15m` } });
    try {
      const user = await seedUser(limited.deps);
      const made = await call(user.key, 'POST', '/api/webhooks', { url: at('/ok'), events: ['file.uploaded'] }, limited);
      expect(made.status).toBe(201);
      const hook = (await made.json()) as { id: string };
      for (let i = 0; i <= SENSITIVE_MAX; i++) {
        const res = await call(user.key, 'POST', `/api/webhooks/${hook.id}/test`, undefined, limited);
        expect(res.status).toBe(202);
        expect(res.headers.get('x-ratelimit-limit')).toBe(String(limited.deps.config.rateLimits.api.max));
      }
      // Anyone behind the same IP can still refresh a session (401 for this made-up token, not 429).
      const refresh = await limited.request('/api/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: 'not-a-token' }) });
      expect(refresh.status).not.toBe(429);
    } finally {
      await limited.close();
    }
  });

  test('description null means none, on create as on update', async () => {
    const user = await seedUser(app.deps);
    const made = await ok<{ id: string; description: string | null }>(call(user.key, 'POST', '/api/webhooks', { url: at('/ok'), events: ['file.uploaded'], description: null }), 201);
    expect(made.description).toBeNull();
    expect((await ok<{ description: string | null }>(call(user.key, 'PATCH', `/api/webhooks/${made.id}`, { description: 'ours' }))).description).toBe('ours');
    expect((await ok<{ description: string | null }>(call(user.key, 'PATCH', `/api/webhooks/${made.id}`, { description: null }))).description).toBeNull();
    expect((await ok<{ description: string | null }>(call(user.key, 'GET', `/api/webhooks/${made.id}`))).description).toBeNull();
  });

  test('a delivery whose job is cancelled or deleted is settled as cancelled, saying why; retrying the job sends it', async () => {
    const user = await seedUser(app.deps);
    const hook = await newHook(user.key, '/ok');
    const first = await ok<Delivery>(call(user.key, 'POST', `/api/webhooks/${hook.id}/test`), 202);
    const firstJob = (await jobOf(user.key, first.id))!;
    expect(firstJob.status).toBe('pending');
    await ok(call(user.key, 'POST', `/api/queue/jobs/${firstJob.id}/cancel`));
    expect(await delivery(user.key, hook.id, first.id)).toMatchObject({ status: 'cancelled', last_error: expect.stringContaining('cancelled') });

    const second = await ok<Delivery>(call(user.key, 'POST', `/api/webhooks/${hook.id}/test`), 202);
    const secondJob = (await jobOf(user.key, second.id))!;
    await ok(call(user.key, 'POST', `/api/queue/jobs/${secondJob.id}/cancel`));
    await ok(call(user.key, 'DELETE', `/api/queue/jobs/${secondJob.id}`), 204);
    expect(await delivery(user.key, hook.id, second.id)).toMatchObject({ status: 'cancelled', last_error: expect.stringContaining('deleted') });

    // Nothing went out; a retried job sends its delivery after all.
    await app.deps.queue.runPending();
    expect(hits.filter((h) => h.id === first.event_id || h.id === second.event_id)).toEqual([]);
    await ok(call(user.key, 'POST', `/api/queue/jobs/${firstJob.id}/retry`));
    await eventually('the retried delivery', async () => (await app.deps.queue.runPending(), (await delivery(user.key, hook.id, first.id))?.status === 'succeeded'));
    expect(hits.filter((h) => h.id === first.event_id)).toHaveLength(1);
  });

  test('a delivery cancelled after failed attempts says it was given up after them (it said "before the delivery was made"); deleting the endpoint cancels a waiting retry\'s job saying so (it kept the attempt\'s error)', async () => {
    const user = await seedUser(app.deps);
    healthy = false;
    try {
      const hook = await newHook(user.key, '/toggle');
      const [id] = await app.deps.db.transaction((tx) => emitWebhookEvent(tx, user.id, 'file.uploaded', { id: 'f2' }));
      await app.deps.queue.runPending(); // the first attempt fails; the retry waits
      const job = (await jobOf(user.key, id!))!;
      expect(job.status).toBe('pending');
      await ok(call(user.key, 'POST', `/api/queue/jobs/${job.id}/cancel`));
      expect(await delivery(user.key, hook.id, id!)).toMatchObject({ status: 'cancelled', last_error: 'Given up: its queue job was cancelled after 1 failed attempt.' });
      await ok(call(user.key, 'DELETE', `/api/webhooks/${hook.id}`), 204);

      const other = await newHook(user.key, '/toggle');
      const [id2] = await app.deps.db.transaction((tx) => emitWebhookEvent(tx, user.id, 'file.uploaded', { id: 'f3' }));
      await app.deps.queue.runPending();
      expect((await jobOf(user.key, id2!))).toMatchObject({ status: 'pending', last_error: expect.stringContaining('500') });
      await ok(call(user.key, 'DELETE', `/api/webhooks/${other.id}`), 204);
      await eventually('the retry to run', async () => (await app.deps.queue.runPending(), (await jobOf(user.key, id2!))?.status === 'cancelled'));
      expect((await jobOf(user.key, id2!))!.last_error).toBe('Not sent: its endpoint was deleted (or the delivery pruned from the log).');
    } finally {
      healthy = true;
    }
  });

  test('turning an endpoint off stops its queued retries: cancelled at the next attempt, saying why (a test event still goes)', async () => {
    const user = await seedUser(app.deps);
    healthy = false;
    const hook = await newHook(user.key, '/toggle');
    const [id] = await app.deps.db.transaction((tx) => emitWebhookEvent(tx, user.id, 'file.uploaded', { id: 'f1' }));
    await app.deps.queue.runPending(); // the first attempt fails; the retry waits WEBHOOK_RETRY_BASE_MS
    const failing = (await delivery(user.key, hook.id, id!))!;
    expect(failing).toMatchObject({ status: 'pending', attempts: [expect.anything()] });

    await ok(call(user.key, 'PATCH', `/api/webhooks/${hook.id}`, { enabled: false }));
    healthy = true;
    await eventually('the retry to settle', async () => (await app.deps.queue.runPending(), (await delivery(user.key, hook.id, id!))?.status !== 'pending'));
    const settled = (await delivery(user.key, hook.id, id!))!;
    expect(settled).toMatchObject({ status: 'cancelled', last_error: expect.stringContaining('turned off'), attempts: [expect.anything()] });
    expect(hits.filter((h) => h.id === failing.event_id)).toHaveLength(1); // the failed first attempt only
    expect((await jobOf(user.key, id!))).toMatchObject({ status: 'cancelled', last_error: expect.stringContaining('turned off') });

    const test = await ok<Delivery>(call(user.key, 'POST', `/api/webhooks/${hook.id}/test`), 202);
    await app.deps.queue.runPending();
    expect((await delivery(user.key, hook.id, test.id))!.status).toBe('succeeded');
  });

  test('a delivery given up fails its job with the delivery\'s error (it was listed completed, last_error null), not retried beyond WEBHOOK_MAX_ATTEMPTS', async () => {
    const user = await seedUser(app.deps);
    const hook = await newHook(user.key, '/fail');
    const d = await ok<Delivery>(call(user.key, 'POST', `/api/webhooks/${hook.id}/test`), 202);
    await eventually('the delivery to fail', async () => (await app.deps.queue.runPending(), (await delivery(user.key, hook.id, d.id))?.status === 'failed'));
    await app.deps.queue.runPending();
    expect(await jobOf(user.key, d.id)).toMatchObject({ status: 'failed', attempts: 2, last_error: 'the receiver answered 500' });
    expect(hits.filter((h) => h.id === d.event_id)).toHaveLength(2);
    const stats = await ok<{ by_type: Record<string, { failed: number; completed: number }> }>(call(user.key, 'GET', '/api/queue/stats'));
    expect(stats.by_type.webhook_deliver).toMatchObject({ failed: 1 });
  });
});
