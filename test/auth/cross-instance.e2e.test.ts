/**
 * Two server processes sharing one database (and Redis): a key revoked or a user banned
 * through one must be refused by the other at once (long before its cache entry expires),
 * although the other serves credentials from its in-memory cache (issue #3 acceptance 4; the
 * bus's milliseconds are not asserted, a loaded machine is slow). Run with the Redis bus and
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

/**
 * Polls until `check` is true. B's cached entries live 30 s (CACHE_TTL_MS in
 * src/modules/auth/credentials.ts), loaded during the warm-up: two waits of at most 10 s each
 * end well before they could expire, so only the invalidation bus can have made B refuse.
 * (How fast the bus is, milliseconds, is not asserted: a loaded machine is slow.)
 */
async function eventually(check: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(20);
  }
  return false;
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
      SIGNING_SECRETS: 'cross-instance-signing-secret-0123456789',
      DISABLE_RATE_LIMIT: 'true',
    };
    a = await startServer({ env });
    b = await startServer({ env });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });

  test('a key revoked on A is refused by B, and a ban on A bites on B, before B\'s cache could expire', async () => {
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
    expect(await eventually(async () => (await onB('GET', '/api/profile', undefined, { key })).status === 401)).toBe(true);

    const userId: string = reg.body.user.id;
    expect((await onA('POST', `/api/admin/users/${userId}/ban`, { banned: true }, { key: admin })).status).toBe(200);
    expect(await eventually(async () => (await onB('GET', '/api/profile', undefined, { bearer: session.access_token })).status === 403)).toBe(true);
    const res = await onB('GET', '/api/profile', undefined, { bearer: session.access_token });
    expect(res.body.error).toBe('ACCOUNT_BANNED');
  });
});
