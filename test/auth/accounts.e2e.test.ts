/**
 * Accounts end to end over real HTTP (issue #3 acceptance 1–7), on embedded defaults
 * (PGlite, in-process bus and limiter) and on Postgres + Redis. Mail goes through a real SMTP
 * sink. The last test of each mode reads the database tables directly.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { PGlite } from '@electric-sql/pglite';
import { join } from 'node:path';
import postgres from 'postgres';
import { createClient, cookiesOf } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';
import { startSmtpSink, tokenFromMail, type SmtpSink } from '../helpers/smtp';

// Argon2id at 64 MiB on a shared 2-core box: a flow with several logins takes seconds.
setDefaultTimeout(30_000);

const MODES = [
  { name: 'embedded defaults', postgres: false },
  { name: 'Postgres + Redis', postgres: true },
] as const;

/**
 * Generous limits except `login` (default 5/15m), so only the rate-limit tests hit one.
 * `login_ip` is keyed by 127.0.0.1 alone, which Redis remembers across runs: generous here,
 * and its own test uses a fresh client IP.
 */
const LIMITS = {
  RATE_LIMIT_REGISTER: '500/1h', RATE_LIMIT_PASSWORD_RESET: '500/1h', RATE_LIMIT_SENSITIVE: '500/15m', RATE_LIMIT_API: '100000/60s',
  RATE_LIMIT_LOGIN_IP: '100000/15m',
};
let seq = 0;
const email = (tag: string) => `${tag}-${Date.now().toString(36)}-${seq++}@example.com`;

describe.each(MODES)('accounts on $name', (mode) => {
  let smtp: SmtpSink;
  let db: TestDatabase | null = null;
  let server: RunningServer;
  let api: ReturnType<typeof createClient>;
  let adminKey: string;
  const modeEnv = (database: TestDatabase | null): Record<string, string> =>
    database ? { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL } : {};

  beforeAll(async () => {
    if (mode.postgres) {
      await requireRedis();
      db = await createTestDatabase();
    }
    smtp = await startSmtpSink();
    server = await startServer({ env: { ...modeEnv(db), ...LIMITS, SMTP_URL: smtp.url } });
    api = createClient(server.url);
    adminKey = server.bootstrap!.api_key;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    await db?.drop();
  });

  /** Registers and returns the account's first session. */
  async function signUp(tag: string, password = 'correct horse 1') {
    const address = email(tag);
    const res = await api('POST', '/api/auth/register', { email: address, password });
    expect(res.status).toBe(201);
    return { email: address, password, user: res.body.user, session: res.body.session, cookies: cookiesOf(res.headers) };
  }

  test('register → login → refresh → logout', async () => {
    const { email: address, password, user, session } = await signUp('flow');
    expect(user).toMatchObject({ email: address, role: 'user', is_promoted: false, email_verified: true });
    expect(session).toMatchObject({ token_type: 'bearer', expires_in: 900 });

    const login = await api('POST', '/api/auth/login', { email: address.toUpperCase(), password });
    expect(login.status).toBe(200);
    const s1 = login.body.session;
    expect((await api('GET', '/api/profile', undefined, { bearer: s1.access_token })).body.user.id).toBe(user.id);

    const refreshed = await api('POST', '/api/auth/refresh', { refresh_token: s1.refresh_token });
    expect(refreshed.status).toBe(200);
    const s2 = refreshed.body.session;
    expect(s2.refresh_token).not.toBe(s1.refresh_token);
    expect((await api('GET', '/api/profile', undefined, { bearer: s2.access_token })).status).toBe(200);

    expect((await api('POST', '/api/auth/logout', {}, { bearer: s2.access_token })).status).toBe(204);
    expect((await api('GET', '/api/profile', undefined, { bearer: s2.access_token })).status).toBe(401);
    expect((await api('POST', '/api/auth/refresh', { refresh_token: s2.refresh_token })).status).toBe(401);
    // The registration session is a different one and lives on.
    expect((await api('GET', '/api/profile', undefined, { bearer: session.access_token })).status).toBe(200);
    // Another account's refresh token named in the body: refused, and neither session ends (this
    // one ended and the named one lived, under a 204).
    const stranger = await signUp('stranger');
    const named = await api('POST', '/api/auth/logout', { refresh_token: stranger.session.refresh_token }, { bearer: session.access_token });
    expect([named.status, named.body.details?.fields]).toEqual([400, [{ in: 'body', path: '/refresh_token', message: 'is of another account' }]]);
    for (const s of [session, stranger.session]) expect((await api('GET', '/api/profile', undefined, { bearer: s.access_token })).status).toBe(200);

    const wrong = await api('POST', '/api/auth/login', { email: address, password: 'wrong password' });
    const unknown = await api('POST', '/api/auth/login', { email: email('nobody'), password: 'wrong password' });
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body); // no account enumeration
  });

  test('a sign-in sent from /docs sets no cookies (its example signed the browser in as a public account); from the app it does', async () => {
    const { email: address, password } = await signUp('docs-ref');
    const host = new URL(server.url).host;
    for (const page of ['/docs', '/docs/']) {
      const login = await api('POST', '/api/auth/login', { email: address, password }, { headers: { referer: `http://${host}${page}` } });
      expect(login.status).toBe(200);
      expect(login.headers.getSetCookie()).toEqual([]);
      expect((await api('GET', '/api/profile', undefined, { bearer: login.body.session.access_token })).status).toBe(200);
    }
    const registered = await api('POST', '/api/auth/register', { email: email('docs-reg'), password }, { headers: { referer: `http://${host}/docs` } });
    expect(registered.status).toBe(201);
    expect(registered.headers.getSetCookie()).toEqual([]);
    expect(registered.body.session.access_token).toBeString();
    // The app's own pages, another host's /docs, and no Referer at all: the cookies, as before.
    for (const referer of [`http://${host}/login`, 'http://elsewhere.example/docs', undefined]) {
      const login = await api('POST', '/api/auth/login', { email: address, password }, referer ? { headers: { referer } } : {});
      expect(login.status).toBe(200);
      expect(Object.keys(cookiesOf(login.headers).map).sort()).toEqual(['pictor_access', 'pictor_csrf', 'pictor_refresh']);
    }
  });

  test('a 401 says whether the credentials sent were bad or none were sent, with a WWW-Authenticate challenge', async () => {
    const none = await api('GET', '/api/profile');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="Pictor"');
    expect(none.body.message).toStartWith('Authentication required: send an API key');
    for (const auth of [{ key: 'pk_bogus' }, { bearer: 'pk_bogus' }, { bearer: 'eyJ.not.a.jwt' }, { cookie: 'pictor_access=expired' }]) {
      const bad = await api('GET', '/api/profile', undefined, auth);
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="Pictor", error="invalid_token"');
      expect(bad.body).toMatchObject({ error: 'UNAUTHORIZED', message: expect.stringContaining('unknown, revoked or expired') });
    }
    // A valid key with a different bearer token: which is meant cannot be told (the token was ignored).
    const both = await api('GET', '/api/profile', undefined, { key: adminKey, bearer: 'garbage' });
    expect([both.status, both.headers.get('www-authenticate'), both.body.message]).toEqual([401, 'Bearer realm="Pictor", error="invalid_request"', 'Two different credentials were sent, in X-API-Key and in Authorization: send one.']);
    expect((await api('GET', '/api/profile', undefined, { key: adminKey, bearer: adminKey })).status).toBe(200);
    // Every 401 carries the challenge, the ones a route throws too (a wrong password, a dead refresh token, /metrics: none did).
    const refused = [
      await api('POST', '/api/auth/login', { email: email('nobody'), password: 'wrong password 1' }),
      await api('POST', '/api/auth/refresh', { refresh_token: 'rt_x' }),
      await api('GET', '/metrics'),
    ];
    expect(refused.map((r) => [r.status, r.headers.get('www-authenticate')])).toEqual(Array(3).fill([401, 'Bearer realm="Pictor"']));
    // A wrong credential on /metrics is told as on every route (it read like none was sent).
    const wrongMetrics = await api('GET', '/metrics', undefined, { bearer: 'garbage' });
    expect([wrongMetrics.status, wrongMetrics.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="Pictor", error="invalid_token"']);
    // The scheme's name is case-insensitive (RFC 9110 §11.1): `bearer pk_…` was refused.
    for (const scheme of ['bearer', 'BEARER']) {
      expect((await api('GET', '/api/profile', undefined, { headers: { authorization: `${scheme} ${adminKey}` } })).status).toBe(200);
    }
  });

  test('forgot → mail received → reset → old sessions dead', async () => {
    const { email: address, session } = await signUp('reset');
    const forgot = await api('POST', '/api/auth/forgot-password', { email: address });
    const forgotUnknown = await api('POST', '/api/auth/forgot-password', { email: email('ghost') });
    expect(forgot.status).toBe(202);
    expect(forgotUnknown.status).toBe(202);
    expect(forgotUnknown.body).toEqual(forgot.body);

    const token = tokenFromMail(await smtp.waitFor(address, /reset/i));
    expect((await api('POST', '/api/auth/reset-password', { token, new_password: 'brand new pass' })).status).toBe(204);
    expect((await api('GET', '/api/profile', undefined, { bearer: session.access_token })).status).toBe(401);
    expect((await api('POST', '/api/auth/refresh', { refresh_token: session.refresh_token })).status).toBe(401);
    expect((await api('POST', '/api/auth/login', { email: address, password: 'correct horse 1' })).status).toBe(401);
    expect((await api('POST', '/api/auth/login', { email: address, password: 'brand new pass' })).status).toBe(200);
    const again = await api('POST', '/api/auth/reset-password', { token, new_password: 'another pass 2' });
    expect(again.status).toBe(400); // single use
  });

  test('change-password and logout-all kill live access tokens', async () => {
    const { email: address, password, session } = await signUp('change');
    const other = (await api('POST', '/api/auth/login', { email: address, password })).body.session;
    // The same password again is refused and ends no session (it answered "changed").
    const same = await api('POST', '/api/auth/change-password', { current_password: password, new_password: password }, { bearer: session.access_token });
    expect([same.status, same.body.error, same.body.details]).toEqual([400, 'VALIDATION_ERROR', { fields: [{ path: '/new_password', message: 'must differ from the current password' }] }]);
    expect((await api('GET', '/api/profile', undefined, { bearer: other.access_token })).status).toBe(200);
    const changed = await api('POST', '/api/auth/change-password', { current_password: password, new_password: 'next password 9' }, { bearer: session.access_token });
    expect(changed.status).toBe(200);
    // The account as it is now (its updated_at was the one from before the change).
    const now = await api('GET', '/api/profile', undefined, { bearer: changed.body.session.access_token });
    expect(changed.body.user.updated_at).toBe(now.body.user.updated_at);
    expect(changed.body.user.updated_at).not.toBe(changed.body.user.created_at);
    for (const s of [session, other]) expect((await api('GET', '/api/profile', undefined, { bearer: s.access_token })).status).toBe(401);
    const fresh = changed.body.session;
    expect((await api('GET', '/api/profile', undefined, { bearer: fresh.access_token })).status).toBe(200);
    expect((await api('POST', '/api/auth/logout-all', undefined, { bearer: fresh.access_token })).status).toBe(204);
    expect((await api('GET', '/api/profile', undefined, { bearer: fresh.access_token })).status).toBe(401);
    expect((await api('POST', '/api/auth/refresh', { refresh_token: fresh.refresh_token })).status).toBe(401);
  });

  // A replay after the reuse interval revoking the family is tested with a clock in src/modules/auth/sessions.test.ts.
  test('ten parallel refreshes with one token (tabs at once) all get the same new session; it lives on', async () => {
    const { session: s, cookies } = await signUp('parallel');
    const results = await Promise.all(Array.from({ length: 10 }, () => api('POST', '/api/auth/refresh', { refresh_token: s.refresh_token })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const next = new Set(results.map((r) => r.body.session.refresh_token as string));
    expect(next.size).toBe(1);
    expect(next.has(s.refresh_token)).toBe(false);
    for (const r of results) expect((await api('GET', '/api/profile', undefined, { bearer: r.body.session.access_token })).status).toBe(200);
    const [successor] = next;
    const again = await api('POST', '/api/auth/refresh', { refresh_token: successor });
    expect(again.status).toBe(200);
    expect((await api('GET', '/api/profile', undefined, { bearer: s.access_token })).status).toBe(200); // nothing was revoked

    // Two tabs sharing the cookie jar: both refreshes by cookie succeed and set the same cookie.
    const csrf = cookies.map.pictor_csrf!;
    const tabs = await Promise.all([0, 1].map(() => api('POST', '/api/auth/refresh', {}, { cookie: cookies.header, csrf })));
    expect(tabs.map((r) => r.status)).toEqual([200, 200]);
    expect(cookiesOf(tabs[0]!.headers).map.pictor_refresh).toBe(cookiesOf(tabs[1]!.headers).map.pictor_refresh);
  });

  test('sessions: the account lists its signed-in browsers and apps, and signs one out', async () => {
    const { email: address, password, session: first } = await signUp('devices');
    const phone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1';
    const second = (await api('POST', '/api/auth/login', { email: address, password }, { headers: { 'user-agent': phone } })).body.session;
    const other = (await signUp('devices-other')).session;
    type Info = { id: string; user_agent: string | null; current: boolean; last_active_at: string; created_at: string };
    const list = async (token: string) => {
      const res = await api<{ results: Info[]; count: number; next_cursor: null }>('GET', '/api/auth/sessions', undefined, { bearer: token });
      expect(res.status).toBe(200);
      // The list shape of every list (it had no count and no next_cursor).
      expect([res.body.count, res.body.next_cursor]).toEqual([res.body.results.length, null]);
      return res.body.results;
    };
    const mine = await list(first.access_token);
    expect(mine).toHaveLength(2);
    expect(mine.filter((s) => s.current)).toHaveLength(1);
    const phoneSession = mine.find((s) => s.user_agent === phone)!;
    expect(phoneSession.current).toBe(false);
    // A refresh is activity: the refreshed session comes first.
    expect((await api('POST', '/api/auth/refresh', { refresh_token: first.refresh_token })).status).toBe(200);
    const afterRefresh = await list(second.access_token);
    expect(afterRefresh[0]!.user_agent).not.toBe(phone);
    expect(afterRefresh.find((s) => s.user_agent === phone)!.current).toBe(true);
    // Another account's session is not found; API keys cannot do this.
    const theirs = (await list(other.access_token))[0]!.id;
    expect((await api('DELETE', `/api/auth/sessions/${theirs}`, undefined, { bearer: first.access_token })).status).toBe(404);
    const key = (await api('POST', '/api/auth/api-keys', { name: 'k', scopes: ['account:read'] }, { bearer: other.access_token })).body.key as string;
    expect((await api('GET', '/api/auth/sessions', undefined, { key })).status).toBe(403);
    expect((await api('DELETE', '/api/auth/sessions/not-a-uuid', undefined, { bearer: first.access_token })).status).toBe(400);
    // Signing the phone out ends it at once, access and refresh.
    expect((await api('DELETE', `/api/auth/sessions/${phoneSession.id}`, undefined, { bearer: first.access_token })).status).toBe(204);
    expect((await api('GET', '/api/profile', undefined, { bearer: second.access_token })).status).toBe(401);
    expect((await api('POST', '/api/auth/refresh', { refresh_token: second.refresh_token })).status).toBe(401);
    expect((await api('DELETE', `/api/auth/sessions/${phoneSession.id}`, undefined, { bearer: first.access_token })).status).toBe(404);
    expect((await list(other.access_token))).toHaveLength(1);
    // Its own session: ended, and a cookie client's cookies cleared with it.
    const { cookies } = await signUp('devices-self');
    const self = (await api<{ results: Info[] }>('GET', '/api/auth/sessions', undefined, { cookie: cookies.header })).body.results[0]!;
    const ended = await api('DELETE', `/api/auth/sessions/${self.id}`, undefined, { cookie: cookies.header, csrf: cookies.map.pictor_csrf });
    expect(ended.status).toBe(204);
    expect(ended.headers.getSetCookie().filter((c) => /Max-Age=0/i.test(c)).map((c) => c.split('=')[0]).sort()).toEqual(['pictor_access', 'pictor_csrf', 'pictor_refresh']);
    expect((await api('GET', '/api/profile', undefined, { cookie: cookies.header })).status).toBe(401);
  });

  test('cookies: mutating request without X-CSRF-Token → 403 CSRF_INVALID; with it → OK; Bearer exempt', async () => {
    const { cookies, session } = await signUp('csrf');
    expect(Object.keys(cookies.map).sort()).toEqual(['pictor_access', 'pictor_csrf', 'pictor_refresh']);
    const csrf = cookies.map.pictor_csrf!;
    expect((await api('GET', '/api/profile', undefined, { cookie: cookies.header })).status).toBe(200);
    const without = await api('POST', '/api/auth/api-keys', { name: 'c' }, { cookie: cookies.header });
    expect(without.status).toBe(403);
    expect(without.body.error).toBe('CSRF_INVALID');
    expect((await api('POST', '/api/auth/api-keys', { name: 'c' }, { cookie: cookies.header, csrf: 'x'.repeat(csrf.length) })).status).toBe(403);
    expect((await api('POST', '/api/auth/api-keys', { name: 'c' }, { cookie: cookies.header, csrf })).status).toBe(201);
    expect((await api('POST', '/api/auth/api-keys', { name: 'b' }, { bearer: session.access_token })).status).toBe(201);
    // The refresh cookie works too, with the same double-submit rule, and rotates the cookies.
    expect((await api('POST', '/api/auth/refresh', {}, { cookie: cookies.header })).status).toBe(403);
    const rotated = await api('POST', '/api/auth/refresh', {}, { cookie: cookies.header, csrf });
    expect(rotated.status).toBe(200);
    expect(cookiesOf(rotated.headers).map.pictor_refresh).not.toBe(cookies.map.pictor_refresh);
  });

  test('API keys: scopes, no key management by key, revocation', async () => {
    const { session } = await signUp('keys');
    const created = await api('POST', '/api/auth/api-keys', { name: 'ro', scopes: ['files:read', 'account:read'] }, { bearer: session.access_token });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^pk_[A-Za-z0-9]{32,}$/);
    expect(created.body.key_prefix).toBe(key.slice(0, 12));
    expect((await api('GET', '/api/profile', undefined, { bearer: key })).status).toBe(200);

    const manage = await api('POST', '/api/auth/api-keys', { name: 'x' }, { key });
    expect(manage.status).toBe(403);
    expect(manage.body.error).toBe('FORBIDDEN');
    // Session-only routes refuse a key before reading what it sent (a 400 listed the route's fields).
    for (const [method, path, body] of [
      ['POST', '/api/auth/change-password', {}], ['POST', '/api/auth/api-keys', { scopes: 'all' }], ['PATCH', '/api/auth/api-keys/nope', { name: 7 }],
    ] as const) {
      const res = await api(method, path, body, { key });
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 403, error: 'FORBIDDEN' });
    }
    const write = await api('POST', '/api/files', undefined, { key, headers: { 'content-type': 'image/png' } });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ error: 'MISSING_SCOPE', details: { required: 'files:write' } });
    const settings = await api('PATCH', '/api/settings', { default_is_public: false }, { key });
    expect(settings.body).toMatchObject({ error: 'MISSING_SCOPE', details: { required: 'account:write' } });
    expect((await api('POST', '/api/auth/api-keys', { scopes: ['admin'] }, { bearer: session.access_token })).status).toBe(403);

    const listed = await api('GET', '/api/auth/api-keys', undefined, { bearer: session.access_token });
    expect(listed.body.results.map((k: { id: string }) => k.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect((await api('DELETE', `/api/auth/api-keys/${created.body.id}`, undefined, { bearer: session.access_token })).status).toBe(204);
    expect((await api('GET', '/api/profile', undefined, { key })).status).toBe(401);
  });

  test('invites, bans, and non-admins on admin routes', async () => {
    const user = await signUp('banme');
    const key = (await api('POST', '/api/auth/api-keys', {}, { bearer: user.session.access_token })).body.key as string;
    const forbidden = await api('GET', '/api/admin/users', undefined, { bearer: user.session.access_token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe('FORBIDDEN');
    expect((await api('POST', `/api/admin/users/${user.user.id}/ban`, { banned: true }, { key })).status).toBe(403);
    // Who may call is answered before what was sent: malformed input to an admin route is a 403
    // for a non-admin and a 401 without credentials (both were a 400 showing the route's rules).
    const malformed = await api('POST', '/api/admin/users/xyz/ban', { banned: 'yes' }, { bearer: user.session.access_token });
    expect([malformed.status, malformed.body.error]).toEqual([403, 'FORBIDDEN']);
    const anonymous = await api('POST', '/api/admin/users/xyz/ban', { banned: 'yes' });
    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'UNAUTHORIZED']);
    const filesAnonymous = await api('PATCH', '/api/files/xyz', { is_public: 'maybe' });
    expect([filesAnonymous.status, filesAnonymous.body.error]).toEqual([401, 'UNAUTHORIZED']);
    // So for what is refused before validation: an unknown parameter or field, a parameter given
    // twice, a body of another type or not JSON (each was a 400 or 415 naming the route's inputs).
    const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      fetch(`${server.url}${path}`, { method, headers, body }).then(async (r) => [r.status, ((await r.json()) as { error: string }).error]);
    const asUser = { authorization: `Bearer ${user.session.access_token}` };
    const callers: [Record<string, string>, (string | number)[]][] = [[{}, [401, 'UNAUTHORIZED']], [asUser, [403, 'FORBIDDEN']]];
    for (const [who, expected] of callers) {
      expect(await raw('GET', '/api/admin/users?foo=1', who)).toEqual(expected);
      expect(await raw('GET', '/api/admin/users?limit=1&limit=2', who)).toEqual(expected);
      expect(await raw('POST', `/api/admin/users/${user.user.id}/invites`, { ...who, 'content-type': 'application/json' }, '{"zzz":1}')).toEqual(expected);
      expect(await raw('POST', `/api/admin/users/${user.user.id}/invites`, { ...who, 'content-type': 'text/plain' }, 'x')).toEqual(expected);
      expect(await raw('POST', `/api/admin/users/${user.user.id}/invites`, { ...who, 'content-type': 'application/json' }, '{bad')).toEqual(expected);
    }
    expect(await raw('PATCH', '/api/settings', { 'content-type': 'application/json' }, '{"zzz":1}')).toEqual([401, 'UNAUTHORIZED']);
    // A caller who may use the route still learns what was wrong with the call.
    expect(await raw('GET', '/api/admin/users?foo=1', { 'x-api-key': adminKey })).toEqual([400, 'VALIDATION_ERROR']);
    expect(await raw('POST', '/api/folders', { ...asUser, 'content-type': 'text/plain' }, 'x')).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);

    expect((await api('POST', `/api/admin/users/${user.user.id}/ban`, { banned: true }, { key: adminKey })).status).toBe(200);
    for (const auth of [{ key }, { bearer: user.session.access_token }]) {
      const res = await api('GET', '/api/profile', undefined, auth);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('ACCOUNT_BANNED');
    }
    expect((await api('POST', '/api/auth/login', { email: user.email, password: user.password })).body.error).toBe('ACCOUNT_BANNED');
    expect((await api('POST', `/api/admin/users/${user.user.id}/ban`, { banned: false }, { key: adminKey })).status).toBe(200);
    expect((await api('GET', '/api/profile', undefined, { key })).status).toBe(200);
    // The ban signed the account out everywhere: an unban does not bring its sessions back
    // (a session taken over before the ban worked again after it). Its API keys stay.
    expect((await api('GET', '/api/profile', undefined, { bearer: user.session.access_token })).status).toBe(401);
    expect((await api('POST', '/api/auth/refresh', { refresh_token: user.session.refresh_token })).status).toBe(401);

    const found = await api('GET', `/api/admin/users?q=${encodeURIComponent(user.email)}`, undefined, { key: adminKey });
    expect(found.body.count).toBe(1);
    expect(found.body.results[0]).toMatchObject({ id: user.user.id, is_banned: false, usage: { storage_bytes: 0, files_count: 0 } });
    const invites = await api('POST', `/api/admin/users/${user.user.id}/invites`, { count: 2 }, { key: adminKey });
    expect(invites.status).toBe(201);
    expect(invites.body.results[0].code).toMatch(/^INV-[A-Za-z0-9]{16}$/);
    expect((await api('GET', '/api/invites', undefined, { key })).body.count).toBe(2);
    // Pages: `count` is every usable code, and each comes once (the list stopped at 500, 550 made).
    expect((await api('POST', `/api/admin/users/${user.user.id}/invites`, { count: 3 }, { key: adminKey })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { results: { code: string }[]; count: number; next_cursor: string | null } } =
        await api('GET', `/api/invites?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, { key });
      expect([page.status, page.body.count, page.body.results.length <= 2]).toEqual([200, 5, true]);
      seen.push(...page.body.results.map((i) => i.code));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect([seen.length, new Set(seen).size]).toEqual([5, 5]);
    // Invites for an account that does not exist (or is deleted while they are made): 404, not the database's refusal as a 500.
    const nobody = await api('POST', `/api/admin/users/${crypto.randomUUID().toUpperCase()}/invites`, {}, { key: adminKey });
    expect([nobody.status, nobody.body.error]).toEqual([404, 'NOT_FOUND']);
  });

  test('with open registration an invite code is still checked and used up (a bad one was dropped unread)', async () => {
    const adminId = (await api('GET', '/api/profile', undefined, { key: adminKey })).body.user.id;
    const bad = await api('POST', '/api/auth/register', { email: email('open-bad'), password: 'password 123', invite_code: 'bogus-code' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields[0].path).toBe('/invite_code');
    const code: string = (await api('POST', `/api/admin/users/${adminId}/invites`, {}, { key: adminKey })).body.results[0].code;
    const codes = async () => (await api('GET', '/api/invites', undefined, { key: adminKey })).body.results.map((i: { code: string }) => i.code);
    expect(await codes()).toContain(code);
    expect((await api('POST', '/api/auth/register', { email: email('open-ok'), password: 'password 123', invite_code: code })).status).toBe(201);
    // Used: gone from its owner's unused codes, and refused a second time.
    expect(await codes()).not.toContain(code);
    expect((await api('POST', '/api/auth/register', { email: email('open-again'), password: 'password 123', invite_code: code })).status).toBe(400);
    // No code at all: open registration as before.
    expect((await api('POST', '/api/auth/register', { email: email('open-none'), password: 'password 123' })).status).toBe(201);
  });

  test('invite-only registration and required email verification', async () => {
    const strictDb = mode.postgres ? await createTestDatabase() : null;
    const strict = await startServer({
      env: { ...modeEnv(strictDb), ...LIMITS, SMTP_URL: smtp.url, INVITE_ONLY: 'true', REQUIRE_EMAIL_VERIFICATION: 'true' },
    });
    try {
      const s = createClient(strict.url);
      const admin = strict.bootstrap!.api_key;
      const adminId = (await s('GET', '/api/profile', undefined, { key: admin })).body.user.id;
      const address = email('invited');
      const none = await s('POST', '/api/auth/register', { email: address, password: 'password 123' });
      expect(none.status).toBe(400);
      expect(none.body.details.fields[0].path).toBe('/invite_code');
      expect((await s('POST', '/api/auth/register', { email: address, password: 'password 123', invite_code: 'INV-0000000000000000' })).status).toBe(400);

      const code: string = (await s('POST', `/api/admin/users/${adminId}/invites`, {}, { key: admin })).body.results[0].code;
      const ok = await s('POST', '/api/auth/register', { email: address, password: 'password 123', invite_code: code });
      expect(ok.status).toBe(201);
      expect(ok.body.session).toBeUndefined();
      expect(ok.body.message).toContain('Check your email');
      const used = await s('POST', '/api/auth/register', { email: email('second'), password: 'password 123', invite_code: code });
      expect(used.status).toBe(400);
      // A taken address with no valid code: the code's refusal, as for any address (a 409 told
      // anyone without an invite which addresses have accounts).
      const taken = await s('POST', '/api/auth/register', { email: address, password: 'password 123', invite_code: 'INV-0000000000000000' });
      expect([taken.status, taken.body.details?.fields?.[0]?.path]).toEqual([400, '/invite_code']);

      const early = await s('POST', '/api/auth/login', { email: address, password: 'password 123' });
      expect(early.status).toBe(403);
      expect(early.body.error).toBe('EMAIL_NOT_VERIFIED');
      const token = tokenFromMail(await smtp.waitFor(address, /verify-email/));
      const verified = await s('POST', '/api/auth/verify-email', { token });
      expect(verified.status).toBe(200);
      expect(verified.body.user.email_verified).toBe(true);
      expect((await s('POST', '/api/auth/login', { email: address, password: 'password 123' })).status).toBe(200);
    } finally {
      await strict.close();
      await strictDb?.drop();
    }
  }, 60_000);

  test('bad input gets a clear 4xx envelope', async () => {
    const cases: [unknown, string][] = [
      [{ email: 'not-an-email', password: 'password 123' }, '/email'],
      [{ email: email('long'), password: 'p'.repeat(1025) }, '/password'],
      [{ email: email('extra'), password: 'password 123', admin: true }, '/admin'],
      [{ email: 42, password: ['x'] }, '/email'],
      [{ email: email('short'), password: 'short' }, '/password'],
      // Invisible and control characters: `admin<U+200B>@…` looked exactly like `admin@…`.
      [{ email: `admin\u200b-${seq++}@example.com`, password: 'password 123' }, '/email'],
      [{ email: `a\u0007b-${seq++}@example.com`, password: 'password 123' }, '/email'],
      [{ email: `rtl\u202e-${seq++}@example.com`, password: 'password 123' }, '/email'],
      [{ email: `<img_src=x>-${seq++}@example.com`, password: 'password 123' }, '/email'],
    ];
    for (const [body, path] of cases) {
      const res = await api('POST', '/api/auth/register', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('VALIDATION_ERROR');
      expect(res.body.details.fields.map((f: { path: string }) => f.path)).toContain(path);
    }
    // One address however its accents are encoded (NFD and NFC made two look-alike accounts).
    const tag = `${Date.now().toString(36)}-${seq++}`;
    expect((await api('POST', '/api/auth/register', { email: `jos\u00e9-${tag}@example.com`, password: 'password 123' })).status).toBe(201);
    const twin = await api('POST', '/api/auth/register', { email: `jose\u0301-${tag}@example.com`, password: 'password 123' });
    expect([twin.status, twin.body.error]).toEqual([409, 'CONFLICT']);
    expect((await api('POST', '/api/auth/login', { email: `JOSE\u0301-${tag}@example.com`, password: 'password 123' })).status).toBe(200);
    const junk = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    expect(junk.status).toBe(400);

    // 10 MB body: refused by Content-Length before the body is read.
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x20);
    const huge = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toBe('FILE_TOO_LARGE');
  });

  test('login attempts past the login bucket are refused (429), however the address is spelt', async () => {
    const address = email('brut\u00e9');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api('POST', '/api/auth/login', { email: address, password: `guess ${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // The same account typed with a combining accent and in capitals: the same bucket (it had one of its own).
    expect((await api('POST', '/api/auth/login', { email: address.normalize('NFD').toUpperCase(), password: 'guess' })).status).toBe(429);
    const limited = await api('POST', '/api/auth/login', { email: address, password: 'guess' });
    expect(limited.body).toMatchObject({ error: 'RATE_LIMITED', details: { bucket: 'login' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Keyed by IP and email: another account from the same IP is not locked out.
    expect((await api('POST', '/api/auth/login', { email: email('other'), password: 'guess' })).status).toBe(401);
  });

  test('one IP trying many emails hits the login_ip bucket at its limit (429)', async () => {
    const limited = await startServer({ env: { ...modeEnv(db), ...LIMITS, RATE_LIMIT_LOGIN_IP: '20/15m', TRUST_PROXY: '1' } });
    try {
      const s = createClient(limited.url);
      // A fresh client IP per run (through the trusted proxy hop), so Redis's memory of earlier runs does not count.
      const randomIp = () => `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
      const ip = randomIp();
      const from = (addr: string) => ({ headers: { 'x-forwarded-for': addr } });
      const answers = [];
      for (let i = 0; i < 100; i++) answers.push(await s('POST', '/api/auth/login', { email: email(`spray${i}`), password: 'guess 123' }, from(ip)));
      expect(answers.slice(0, 20).map((r) => r.status)).toEqual(Array(20).fill(401));
      expect(answers.slice(20).map((r) => r.status)).toEqual(Array(80).fill(429));
      expect(answers[20]!.body).toMatchObject({ error: 'RATE_LIMITED', details: { bucket: 'login_ip', limit: 20 } });
      expect(Number(answers[20]!.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another IP is not affected.
      expect((await s('POST', '/api/auth/login', { email: email('spray'), password: 'guess 123' }, from(randomIp()))).status).toBe(401);

      // IPv6 counts per /64 (one subscriber's network): a host picking a new address per guess had unlimited guesses.
      const net = () => Array.from({ length: 4 }, () => Math.floor(Math.random() * 0x10000).toString(16)).join(':');
      const mine = net();
      const v6 = [];
      for (let i = 0; i < 21; i++) v6.push(await s('POST', '/api/auth/login', { email: email(`v6spray${i}`), password: 'guess 123' }, from(`${mine}:${net()}`)));
      expect(v6.map((r) => r.status)).toEqual([...Array(20).fill(401), 429]);
      expect(v6[20]!.body).toMatchObject({ error: 'RATE_LIMITED', details: { bucket: 'login_ip' } });
      expect((await s('POST', '/api/auth/login', { email: email('v6spray'), password: 'guess 123' }, from(`${net()}::1`))).status).toBe(401);
    } finally {
      await limited.close();
    }
  }, 120_000);

  test('the database holds no plaintext API key or refresh token', async () => {
    const { session } = await signUp('plain');
    const key: string = (await api('POST', '/api/auth/api-keys', {}, { bearer: session.access_token })).body.key;
    const query = async (text: string) => {
      if (db) {
        const sql = postgres(db.url, { max: 1, onnotice: () => {} });
        try {
          return (await sql.unsafe(text)) as unknown as Record<string, unknown>[];
        } finally {
          await sql.end();
        }
      }
      // PGlite belongs to the server process: stop it, then read its files.
      await server.stop();
      const pg = await PGlite.create(join(server.dataDir, 'pg'));
      try {
        return (await pg.query<Record<string, unknown>>(text)).rows;
      } finally {
        await pg.close();
      }
    };
    const dump = JSON.stringify(await query(`
      select json_build_object('keys', (select json_agg(k) from api_keys k), 'refresh', (select json_agg(r) from refresh_tokens r),
                               'mail', (select json_agg(e) from email_tokens e)) as everything`));
    expect(dump).toContain(await sha256(key)); // the hash is there…
    expect(dump).not.toContain(key.slice(3)); // …the key is not
    expect(dump).toContain(await sha256(session.refresh_token));
    expect(dump).not.toContain(session.refresh_token.slice(3));
  });
});

async function sha256(text: string): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))).toString('hex');
}
