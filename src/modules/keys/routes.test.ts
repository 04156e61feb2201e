/**
 * `/api/auth/api-keys`: PATCH with nothing to change (found by the fuzz test, issue #17: an empty
 * body built an UPDATE without a SET and answered 500) answers the key unchanged, and 404 for a
 * key that is not the caller's; names; the cap on live keys that keeps the list one page.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { users } from '../users/table';
import { generateApiKey, MAX_LIVE_KEYS } from './service';
import { apiKeys } from './table';

describe.each(DB_BACKENDS)('API keys on %s', (db) => {
  let h: TestApp;
  let bearer: Record<string, string>;
  beforeAll(async () => {
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true', REQUEST_LOGS: 'false' } });
    const res = await h.request('/api/auth/register', json('POST', { email: 'keys@example.com', password: 'password 123' }));
    expect(res.status).toBe(201);
    bearer = { authorization: `Bearer ${((await res.json()) as { session: { access_token: string } }).session.access_token}` };
  }, 60_000);
  afterAll(() => h.close());

  test('an empty patch answers the key unchanged; an unknown id is 404', async () => {
    const created = await h.request('/api/auth/api-keys', json('POST', { name: 'ci', scopes: ['files:read'] }, bearer));
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; name: string; scopes: string[] };
    const res = await h.request(`/api/auth/api-keys/${key.id}`, json('PATCH', {}, bearer));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: key.id, name: 'ci', scopes: ['files:read'] });
    const unknown = await h.request('/api/auth/api-keys/00000000-0000-4000-8000-000000000000', json('PATCH', {}, bearer));
    expect(unknown.status).toBe(404);
    // A real change still applies.
    const renamed = await h.request(`/api/auth/api-keys/${key.id}`, json('PATCH', { name: 'deploy' }, bearer));
    expect(((await renamed.json()) as { name: string }).name).toBe('deploy');
  });

  test('a name is stored without surrounding spaces; a blank one is none (it listed as an empty heading); over 100 characters says the rule', async () => {
    const spaced = await h.request('/api/auth/api-keys', json('POST', { name: '  nightly sync  ', scopes: ['files:read'] }, bearer));
    const key = (await spaced.json()) as { id: string; name: string | null };
    expect(key.name).toBe('nightly sync');
    const blank = await h.request(`/api/auth/api-keys/${key.id}`, json('PATCH', { name: '   ' }, bearer));
    expect(((await blank.json()) as { name: string | null }).name).toBeNull();
    const long = await h.request('/api/auth/api-keys', json('POST', { name: 'x'.repeat(200) }, bearer));
    expect(long.status).toBe(400);
    expect(((await long.json()) as { details: { fields: { path: string; message: string; in: string }[] } }).details.fields[0]).toEqual({ path: '/name', message: 'must be text of at most 100 characters, or null', in: 'body' });
  });

  test(`an account holds at most ${MAX_LIVE_KEYS} live keys: the next is a 409 (the list stopped at 1000 and hid the oldest); a revoke makes room`, async () => {
    const email = 'many-keys@example.com';
    const res = await h.request('/api/auth/register', json('POST', { email, password: 'password 123' }));
    const auth = { authorization: `Bearer ${((await res.json()) as { session: { access_token: string } }).session.access_token}` };
    const [user] = await h.deps.db.select({ id: users.id }).from(users).where(eq(users.email, email));
    // All but one made directly (a revoked one does not count).
    const rows = await Promise.all(Array.from({ length: MAX_LIVE_KEYS }, async (_, i) => {
      const g = await generateApiKey();
      return { userId: user!.id, name: `k${i}`, keyHash: g.hash, keyPrefix: g.prefix, scopes: ['files:read'], revokedAt: i === 0 ? new Date() : null };
    }));
    await h.deps.db.insert(apiKeys).values(rows);
    const last = await h.request('/api/auth/api-keys', json('POST', { name: 'last' }, auth));
    expect(last.status).toBe(201);
    // Two at once for no place left: neither is made.
    const over = await Promise.all([1, 2].map(() => h.request('/api/auth/api-keys', json('POST', { name: 'over' }, auth))));
    for (const r of over) {
      expect(r.status).toBe(409);
      expect(((await r.json()) as { error: string; message: string })).toMatchObject({ error: 'CONFLICT', message: expect.stringContaining('revoke some first') });
    }
    const listed = (await (await h.request('/api/auth/api-keys', { headers: auth })).json()) as { results: { id: string; name: string }[]; count: number };
    expect(listed.count).toBe(MAX_LIVE_KEYS);
    expect(listed.results.length).toBe(MAX_LIVE_KEYS);
    expect(listed.results.some((k) => k.name === 'k1')).toBe(true); // the oldest live one is listed
    expect((await h.request(`/api/auth/api-keys/${listed.results[0]!.id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await h.request('/api/auth/api-keys', json('POST', { name: 'again' }, auth))).status).toBe(201);
  }, 60_000);
});
