import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { Elysia } from 'elysia';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { bootstrapAdmin } from '../admin/bootstrap';
import { createApiKey } from '../keys/service';
import { eq } from 'drizzle-orm';
import { users } from '../users/table';
import { authGuard } from './guard';

setDefaultTimeout(30_000);

describe('auth guard with API keys', () => {
  let h: TestApp;
  let adminKey: string;
  let readOnlyKey: string;
  beforeAll(async () => {
    h = await makeTestApp();
    const boot = await bootstrapAdmin(h.deps);
    adminKey = boot!.apiKey;
    const [admin] = await h.deps.db.query.users.findMany();
    readOnlyKey = (await createApiKey(h.deps.db, admin!.id, { scopes: ['files:read'] })).key;
    h.app.use(
      new Elysia()
        .use(authGuard(h.deps))
        .get('/__t/read', ({ principal }) => ({ email: principal.email, via: principal.via }), { auth: 'files:read' })
        .get('/__t/write', () => 'ok', { auth: 'files:write' }),
    );
  });
  afterAll(() => h.close());

  test('X-API-Key and Bearer both authenticate', async () => {
    for (const headers of [{ 'x-api-key': adminKey }, { authorization: `Bearer ${adminKey}` }] as Record<string, string>[]) {
      const res = await h.request('/__t/read', { headers });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ email: 'admin@localhost', via: 'api_key' });
    }
  });

  test('no or unknown key → 401 UNAUTHORIZED', async () => {
    expect((await h.request('/__t/read')).status).toBe(401);
    const res = await h.request('/__t/read', { headers: { 'x-api-key': 'pk_nope' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('UNAUTHORIZED');
  });

  test('missing scope → 403 MISSING_SCOPE with details.required', async () => {
    const res = await h.request('/__t/write', { headers: { 'x-api-key': readOnlyKey } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: 'MISSING_SCOPE',
      message: 'This API key lacks the scope files:write.',
      details: { required: 'files:write' },
    });
  });

  test('a warm credential costs no database query (the hot path of bench/auth.sh)', async () => {
    const db = h.deps.db as unknown as Record<string, (...args: unknown[]) => unknown>;
    // `execute` is left out: it is the batched last_used_at flush, on its own timer, not per request.
    const methods = ['select', 'update', 'insert', 'transaction'] as const;
    const originals = Object.fromEntries(methods.map((m) => [m, db[m]!]));
    let queries = 0;
    for (const m of methods) db[m] = (...args: unknown[]) => (queries++, originals[m]!.apply(h.deps.db, args));
    try {
      expect((await h.request('/__t/read', { headers: { 'x-api-key': readOnlyKey } })).status).toBe(200); // warm-up
      const cold = queries;
      for (let i = 0; i < 200; i++) expect((await h.request('/__t/read', { headers: { 'x-api-key': readOnlyKey } })).status).toBe(200);
      expect(queries - cold).toBe(0);
    } finally {
      for (const m of methods) db[m] = originals[m]!;
    }
  });

  test('a banned account → 403 ACCOUNT_BANNED for its API keys (after invalidation, no restart)', async () => {
    const [admin] = await h.deps.db.query.users.findMany();
    const ok = await h.request('/__t/read', { headers: { 'x-api-key': readOnlyKey } });
    expect(ok.status).toBe(200);
    await h.deps.db.update(users).set({ isBanned: true }).where(eq(users.id, admin!.id));
    await h.deps.credentials.invalidateUser(admin!.id);
    const res = await h.request('/__t/read', { headers: { 'x-api-key': readOnlyKey } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe('ACCOUNT_BANNED');
  });
});
