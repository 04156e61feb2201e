/**
 * Route tests of the parts of API.md §2/§3/§9 that need a clock or a look inside: token and
 * session lifetimes, key expiry, batched `last_used_at`, role changes reaching cached keys,
 * settings validation, admin paging. Both database backends.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { bootstrapAdmin } from '../admin/bootstrap';
import { apiKeys } from '../keys/table';
import { refreshTokens } from './table';

setDefaultTimeout(30_000);

type Body = Record<string, any>;

describe.each(DB_BACKENDS)('sessions and keys on %s', (db) => {
  let h: TestApp;
  let adminKey: string;
  const clock = { t: Date.UTC(2026, 0, 1), now() { return this.t; } };
  const advance = (ms: number) => void (clock.t += ms);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await h.request(path, body === undefined ? { method, headers } : json(method, body, headers));
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Body, headers: res.headers };
  };
  let n = 0;
  const signUp = async () => {
    const email = `u${n++}@example.com`;
    const res = await call('POST', '/api/auth/register', { email, password: 'password 123' });
    expect(res.status).toBe(201);
    return { email, user: res.body.user, session: res.body.session, bearer: { authorization: `Bearer ${res.body.session.access_token}` } };
  };

  beforeAll(async () => {
    h = await makeTestApp({ db, clock, env: { DISABLE_RATE_LIMIT: 'true', REQUEST_LOGS: 'false' } });
    adminKey = (await bootstrapAdmin(h.deps))!.apiKey;
  });
  afterAll(() => h.close());

  test('access tokens expire after 15 minutes; refresh tokens after 7 idle days', async () => {
    const { session, bearer } = await signUp();
    advance(14 * 60_000);
    expect((await call('GET', '/api/profile', undefined, bearer)).status).toBe(200);
    advance(2 * 60_000);
    expect((await call('GET', '/api/profile', undefined, bearer)).status).toBe(401);
    expect((await call('POST', '/api/auth/refresh', { refresh_token: session.refresh_token })).status).toBe(200);

    const other = await signUp();
    advance(7 * 86_400_000 + 1000);
    expect((await call('POST', '/api/auth/refresh', { refresh_token: other.session.refresh_token })).status).toBe(401);
  });

  test('rotation never extends a session past its absolute 30 days', async () => {
    let { session } = await signUp();
    for (let day = 6; day <= 24; day += 6) {
      advance(6 * 86_400_000);
      const r = await call('POST', '/api/auth/refresh', { refresh_token: session.refresh_token });
      expect(r.status).toBe(200);
      session = r.body.session;
    }
    advance(6 * 86_400_000 + 1000); // day 30 + 1 s
    const late = await call('POST', '/api/auth/refresh', { refresh_token: session.refresh_token });
    expect(late.status).toBe(401);
    expect(late.body.error).toBe('UNAUTHORIZED');
  });

  test('two concurrent refreshes with one token both succeed in one family; a reuse after the 30 s interval revokes it', async () => {
    const { user, session } = await signUp();
    const refresh = (token: string) => call('POST', '/api/auth/refresh', { refresh_token: token });
    const [a, b] = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.session.refresh_token).toBe(a.body.session.refresh_token); // the same new session
    expect(a.body.session.refresh_token).not.toBe(session.refresh_token);
    for (const r of [a, b]) expect((await call('GET', '/api/profile', undefined, { authorization: `Bearer ${r.body.session.access_token}` })).status).toBe(200);
    const families = await h.deps.db.select({ familyId: refreshTokens.familyId }).from(refreshTokens).where(eq(refreshTokens.userId, user.id));
    expect(families).toHaveLength(2); // the login's token and its one successor
    expect(new Set(families.map((f) => f.familyId)).size).toBe(1);

    // One tab rotates again; the other's late request with the first token gets the current one.
    advance(10_000);
    const next = await refresh(a.body.session.refresh_token);
    expect(next.status).toBe(200);
    advance(10_000);
    const late = await refresh(session.refresh_token);
    expect(late.status).toBe(200);
    expect(late.body.session.refresh_token).toBe(next.body.session.refresh_token);

    // Past the interval a rotated token is a replay: the whole family is revoked.
    advance(11_000);
    const replay = await refresh(session.refresh_token);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('TOKEN_REUSED');
    expect((await refresh(next.body.session.refresh_token)).status).toBe(401);
    expect((await call('GET', '/api/profile', undefined, { authorization: `Bearer ${next.body.session.access_token}` })).status).toBe(401);
  });

  test('a reuse within the interval does not bring back a session that was signed out', async () => {
    const { session } = await signUp();
    const rotated = await call('POST', '/api/auth/refresh', { refresh_token: session.refresh_token });
    expect((await call('POST', '/api/auth/logout', { refresh_token: rotated.body.session.refresh_token })).status).toBe(204);
    const reuse = await call('POST', '/api/auth/refresh', { refresh_token: session.refresh_token });
    expect(reuse.status).toBe(401);
  });

  test('logout by refresh cookie alone (access token expired) needs the CSRF header', async () => {
    const res = await h.request('/api/auth/register', json('POST', { email: `c${n++}@example.com`, password: 'password 123' }));
    const cookies = Object.fromEntries(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split('=') as [string, string]));
    expect(res.headers.getSetCookie().find((c) => c.startsWith('pictor_refresh='))).toContain('Path=/api/auth');
    expect(res.headers.getSetCookie().find((c) => c.startsWith('pictor_access='))).toContain('HttpOnly');
    expect(res.headers.getSetCookie().find((c) => c.startsWith('pictor_csrf='))).not.toContain('HttpOnly');
    advance(16 * 60_000);
    const cookie = `pictor_refresh=${cookies.pictor_refresh}; pictor_csrf=${cookies.pictor_csrf}`;
    expect((await call('POST', '/api/auth/logout', undefined, { cookie })).status).toBe(403);
    const out = await h.request('/api/auth/logout', { method: 'POST', headers: { cookie, 'x-csrf-token': cookies.pictor_csrf! } });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().every((c) => c.includes('Max-Age=0'))).toBe(true);
    expect((await call('POST', '/api/auth/refresh', { refresh_token: cookies.pictor_refresh })).status).toBe(401);
  });

  test('API keys expire; last_used_at is written in batches, not per request', async () => {
    const { bearer } = await signUp();
    const soon = new Date(clock.t + 60_000).toISOString();
    const created = await call('POST', '/api/auth/api-keys', { expires_at: soon }, bearer);
    expect(created.status).toBe(201);
    const key = { 'x-api-key': created.body.key as string };
    for (let i = 0; i < 20; i++) expect((await call('GET', '/api/profile', undefined, key)).status).toBe(200);
    const lastUsed = async () => (await h.deps.db.select().from(apiKeys).where(eq(apiKeys.id, created.body.id)))[0]!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    await h.deps.credentials.flushUsage();
    expect((await lastUsed())?.getTime()).toBe(clock.t);
    advance(61_000);
    expect((await call('GET', '/api/profile', undefined, key)).status).toBe(401);
    const past = await call('POST', '/api/auth/api-keys', { expires_at: new Date(clock.t - 1000).toISOString() }, bearer);
    expect(past.status).toBe(400);
  });

  test('role and promotion changes reach cached keys at once', async () => {
    const u = await signUp();
    const key = { 'x-api-key': (await call('POST', '/api/auth/api-keys', {}, u.bearer)).body.key as string };
    expect((await call('GET', '/api/profile', undefined, key)).body.plan.storage_quota_bytes).toBe(h.deps.config.storageQuotaBytes);
    expect((await call('POST', `/api/admin/users/${u.user.id}/promote`, { promoted: true }, { 'x-api-key': adminKey })).status).toBe(200);
    const promoted = await call('GET', '/api/profile', undefined, key);
    expect(promoted.body.user.is_promoted).toBe(true);
    expect(promoted.body.plan.storage_quota_bytes).toBeNull();

    // An admin's admin-scoped keys stop working on admin routes the moment they are demoted,
    // cached as they are: the scope is gone, and a key that had only it is revoked.
    await call('POST', `/api/admin/users/${u.user.id}/role`, { role: 'admin' }, { 'x-api-key': adminKey });
    const fresh = await call('POST', '/api/auth/login', { email: u.email, password: 'password 123' });
    const keyOf = async (scopes: string[]) => ({ 'x-api-key': (await call('POST', '/api/auth/api-keys', { scopes }, { authorization: `Bearer ${fresh.body.session.access_token}` })).body.key as string });
    const adminOnly = await keyOf(['admin']);
    const mixed = await keyOf(['admin', 'files:read']);
    for (const k of [adminOnly, mixed]) expect((await call('GET', '/api/admin/stats', undefined, k)).status).toBe(200);
    await call('POST', `/api/admin/users/${u.user.id}/role`, { role: 'user' }, { 'x-api-key': adminKey });
    expect((await call('GET', '/api/admin/stats', undefined, mixed)).status).toBe(403);
    expect((await call('GET', '/api/files', undefined, mixed)).status).toBe(200);
    expect((await call('GET', '/api/admin/stats', undefined, adminOnly)).status).toBe(401);
  });

  test('settings: validation against the plan and URL rules', async () => {
    const { bearer } = await signUp();
    const plan = h.deps.config.maxUploadBytes;
    expect((await call('PATCH', '/api/settings', { max_upload_size_bytes: plan + 1 }, bearer)).status).toBe(400);
    expect((await call('PATCH', '/api/settings', { public_url_base: 'ftp://cdn.example.com' }, bearer)).status).toBe(400);
    expect((await call('PATCH', '/api/settings', { public_url_base: 'not a url' }, bearer)).status).toBe(400);
    expect((await call('PATCH', '/api/settings', { default_expires_in: 'soon' }, bearer)).status).toBe(400);
    const ok = await call('PATCH', '/api/settings', { public_url_base: 'https://cdn.example.com/media/', max_upload_size_bytes: 1024, default_is_public: false, default_expires_in: 3600 }, bearer);
    expect(ok.body).toMatchObject({ public_url_base: 'https://cdn.example.com/media', max_upload_size_bytes: 1024, default_is_public: false, default_expires_in: 3600, embeds_enabled: true }); // other modules add their own settings
    const cleared = await call('PATCH', '/api/settings', { public_url_base: null }, bearer);
    expect(cleared.body.public_url_base).toBeNull();
    expect((await call('GET', '/api/settings', undefined, bearer)).body.max_upload_size_bytes).toBe(1024);
  });

  test('admin: paging, self-protection, foreign reset links refused', async () => {
    const admin = { 'x-api-key': adminKey };
    const first = await call('GET', '/api/admin/users?limit=2', undefined, admin);
    expect(first.status).toBe(200);
    expect(first.body.results).toHaveLength(2);
    const total = first.body.count as number;
    const seen = new Set<string>(first.body.results.map((u: Body) => u.id));
    let cursor = first.body.next_cursor as string | null;
    while (cursor) {
      const page = await call('GET', `/api/admin/users?limit=2&cursor=${cursor}`, undefined, admin);
      page.body.results.forEach((u: Body) => seen.add(u.id));
      cursor = page.body.next_cursor;
    }
    expect(seen.size).toBe(total);
    expect((await call('GET', '/api/admin/users?cursor=bogus', undefined, admin)).status).toBe(400);
    const me = (await call('GET', '/api/profile', undefined, admin)).body.user.id;
    expect((await call('POST', `/api/admin/users/${me}/ban`, { banned: true }, admin)).status).toBe(409);
    expect((await call('POST', `/api/admin/users/${crypto.randomUUID()}/ban`, { banned: true }, admin)).status).toBe(404);
    const foreign = await call('POST', '/api/auth/forgot-password', { email: 'a@example.com', redirect_to: 'https://evil.example/steal' });
    expect(foreign.status).toBe(400);
  });
});
