/**
 * An endpoint whose every delivery fails for good for WEBHOOK_DISABLE_AFTER_DAYS is turned off,
 * saying why (it was retried for ever: each event cost all its attempts); a success clears the
 * streak, and turning the endpoint on again starts afresh. Real HTTP to a local receiver, real
 * queue jobs; the server's clock is moved instead of waiting days.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../helpers/app';
import { seedUser, type SeededUser } from '../helpers/seed';

const DAY = 86_400_000;

interface Hook { id: string; enabled: boolean; failing_since: string | null; disabled_reason: string | null }

describe('webhook endpoints that keep failing are turned off', () => {
  let h: TestApp;
  let user: SeededUser;
  let now = Date.now();
  let healthy = false;
  const receiver = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(healthy ? 'ok' : 'down', { status: healthy ? 200 : 500 }) });

  beforeAll(async () => {
    h = await makeTestApp({
      env: { OUTBOUND_ALLOW_LOOPBACK: 'true', WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_DISABLE_AFTER_DAYS: '3', DISABLE_RATE_LIMIT: 'true' },
      clock: { now: () => now },
    });
    user = await seedUser(h.deps);
  });
  afterAll(async () => {
    await h?.close();
    receiver.stop(true);
  });

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await h.request(path, { method, headers: { authorization: `Bearer ${user.key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    expect([method, path, res.status]).toEqual([method, path, method === 'POST' && path === '/api/webhooks' ? 201 : res.status === 202 ? 202 : 200]);
    return (await res.json()) as T;
  };
  /** Queues a `webhook.test` delivery and runs it to its end. */
  const deliverOnce = async (id: string) => {
    await api('POST', `/api/webhooks/${id}/test`);
    expect(await h.deps.queue.runPending()).toBeGreaterThan(0);
    return api<Hook>('GET', `/api/webhooks/${id}`);
  };

  test('failing for the whole period turns it off with the reason; turning it on again starts afresh', async () => {
    const hook = await api<Hook>('POST', '/api/webhooks', { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['file.uploaded'] });
    expect(hook).toMatchObject({ enabled: true, failing_since: null, disabled_reason: null });

    const first = await deliverOnce(hook.id);
    expect(first).toMatchObject({ enabled: true, failing_since: new Date(now).toISOString(), disabled_reason: null });

    now += 2 * DAY; // failing, but not for long enough
    expect(await deliverOnce(hook.id)).toMatchObject({ enabled: true, failing_since: first.failing_since });

    now += DAY + 1000;
    const off = await deliverOnce(hook.id);
    expect(off.enabled).toBe(false);
    expect(off.disabled_reason).toContain('every delivery since');
    expect(off.disabled_reason).toContain('the receiver answered 500');

    // Off: new events no longer reach it.
    const { emitWebhookEvent } = await import('../../src/modules/webhooks/emit');
    const ids = await h.deps.db.transaction((tx) => emitWebhookEvent(tx, user.id, 'file.uploaded', { id: 'x' }));
    expect(ids).toEqual([]);

    const on = await api<Hook>('PATCH', `/api/webhooks/${hook.id}`, { enabled: true });
    expect(on).toMatchObject({ enabled: true, failing_since: null, disabled_reason: null });
  });

  test('one success clears the streak', async () => {
    const hook = await api<Hook>('POST', '/api/webhooks', { url: `http://127.0.0.1:${receiver.port}/other`, events: ['file.uploaded'] });
    healthy = false;
    expect((await deliverOnce(hook.id)).failing_since).not.toBeNull();
    now += 2 * DAY;
    healthy = true;
    expect(await deliverOnce(hook.id)).toMatchObject({ enabled: true, failing_since: null });
    now += 2 * DAY;
    healthy = false;
    // A new streak starts now: two days of the old one do not count.
    expect(await deliverOnce(hook.id)).toMatchObject({ enabled: true, failing_since: new Date(now).toISOString() });
  });
});
