/**
 * Two server processes sharing one database (and Redis): a key revoked or a user banned
 * through one must be refused by the other within a second, although the other serves
 * credentials from its in-memory cache (issue #3 acceptance 4). Run with the Redis bus and
 * with the Postgres NOTIFY bus (no Redis).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';

setDefaultTimeout(30_000);

const BUSES = [
  { name: 'Redis pub/sub', redis: true },
  { name: 'Postgres NOTIFY', redis: false },
] as const;

/** Polls until `check` is true; returns the elapsed milliseconds, or Infinity after `limitMs`. */
async function msUntil(check: () => Promise<boolean>, limitMs = 3000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (await check()) return performance.now() - t0;
    await Bun.sleep(20);
  }
  return Infinity;
}

describe.each(BUSES)('cross-instance invalidation over $name', (bus) => {
  let db: TestDatabase;
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    if (bus.redis) await requireRedis();
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      ...(bus.redis ? { REDIS_URL: TEST_REDIS_URL } : {}),
      JWT_SECRET: 'cross-instance-test-secret-0123456789',
      SIGNING_SECRETS: 'cross-instance-signing-secret',
      DISABLE_RATE_LIMIT: 'true',
    };
    a = await startServer({ env });
    b = await startServer({ env });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });

  test('a key revoked on A is refused by B within 1 s; a ban on A bites on B within 1 s', async () => {
    const onA = createClient(a.url);
    const onB = createClient(b.url);
    const admin = a.bootstrap!.api_key;
    const reg = await onA('POST', '/api/auth/register', { email: `x-${Date.now()}@example.com`, password: 'password 123' });
    expect(reg.status).toBe(201);
    const session = reg.body.session;
    const created = await onA('POST', '/api/auth/api-keys', { name: 'k' }, { bearer: session.access_token });
    const key: string = created.body.key;

    // Warm B's caches (key, user, session): after this B answers without the database.
    for (let i = 0; i < 3; i++) {
      expect((await onB('GET', '/api/profile', undefined, { key })).status).toBe(200);
      expect((await onB('GET', '/api/profile', undefined, { bearer: session.access_token })).status).toBe(200);
    }

    expect((await onA('DELETE', `/api/auth/api-keys/${created.body.id}`, undefined, { bearer: session.access_token })).status).toBe(204);
    const revokedMs = await msUntil(async () => (await onB('GET', '/api/profile', undefined, { key })).status === 401);
    expect(revokedMs).toBeLessThan(1000);

    const userId: string = reg.body.user.id;
    expect((await onA('POST', `/api/admin/users/${userId}/ban`, { banned: true }, { key: admin })).status).toBe(200);
    const bannedMs = await msUntil(async () => (await onB('GET', '/api/profile', undefined, { bearer: session.access_token })).status === 403);
    expect(bannedMs).toBeLessThan(1000);
    const res = await onB('GET', '/api/profile', undefined, { bearer: session.access_token });
    expect(res.body.error).toBe('ACCOUNT_BANNED');
  });
});
