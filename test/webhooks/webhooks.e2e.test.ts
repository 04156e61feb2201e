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

interface Received { id: string; timestamp: number; signature: string; body: string; event: { type: string; data: Record<string, unknown> } }

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
    expect('secret' in ((await (await api(`/api/webhooks/${hook.id}`)).json()) as Record<string, unknown>)).toBe(false);
    const made: string[] = [];
    for (let i = listed.results.length; i < 10; i++) {
      const res = await api('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: rx.url(), events: ['file.deleted'] }) });
      expect(res.status).toBe(201);
      made.push(((await res.json()) as { id: string }).id);
    }
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
    for (const url of ['http://127.0.0.1:9/hook', 'http://[::1]:9/hook', 'http://localhost:9/hook', 'http://10.0.0.1/hook', 'http://169.254.169.254/latest']) {
      const res = await create(strict, u.key, url);
      const body = (await res.json()) as { error: string; message: string };
      expect({ url, status: res.status, error: body.error }).toEqual({ url, status: 400, error: 'VALIDATION_ERROR' });
      expect(body.message).toContain('refused');
    }
    expect((await create(app, user.key, 'http://127.0.0.1:9/hook')).status).toBe(201);
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
