/**
 * Crafted pagination cursors over real HTTP, on embedded PGlite and on Postgres + Redis: a
 * cursor the server never issued (a year timestamptz cannot store, an id that is no uuid, a NUL
 * byte inside the decoded JSON) is a 400 VALIDATION_ERROR naming `/cursor`, never a 500 from the
 * database (they were: "time zone displacement out of range", uuid syntax errors, NUL in text).
 * A real `next_cursor` still pages every list, each row once.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';

setDefaultTimeout(60_000);

const MODES = [
  { name: 'embedded defaults', postgres: false },
  { name: 'Postgres + Redis', postgres: true },
] as const;
const LIMITS = { RATE_LIMIT_REGISTER: '500/1h', RATE_LIMIT_LOGIN_IP: '100000/15m', RATE_LIMIT_API: '100000/60s' };

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const UUID = 'fc39f36c-b4cd-4eb3-803c-3fde4410091b';
/** `<time>|<uuid>` cursors (admin users, audit, account exports, queue jobs, admin files). */
const BAD_YEARS = ['0000-01-01T00:00:00Z', '10000-01-01', '-000001-01-01T00:00:00Z', '-271821-04-20T00:00:00.000Z'].map((at) => `${at}|${UUID}`);
const DASHES = `2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`;
/** `[value, id, sort]` cursors of GET /api/files with a NUL in a decoded string, and the sort they claim. */
const NUL_FILE_CURSORS = [
  { query: '', text: JSON.stringify(['2024-01-01T00:00:00.000Z', 'a\u0000b', '-created_at']) },
  { query: '&sort=name', text: JSON.stringify(['a\u0000b', 'x', 'name']) },
];

type Auth = Record<string, string>;
interface Answer { status: number; body: { error?: string; details?: { fields?: unknown[] }; results?: { id: string }[]; next_cursor?: string | null } }

describe.each(MODES)('crafted cursors on $name', (mode) => {
  let db: TestDatabase | null = null;
  let server: RunningServer;
  let admin: Auth;
  let user: Auth;
  let hookId: string;

  const get = async (path: string, auth: Auth): Promise<Answer> => {
    const res = await fetch(`${server.url}${path}`, { headers: auth });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
  };

  beforeAll(async () => {
    if (mode.postgres) {
      await requireRedis();
      db = await createTestDatabase();
    }
    server = await startServer({ env: { ...(db ? { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL } : {}), ...LIMITS, OUTBOUND_ALLOW_LOOPBACK: 'true' } });
    admin = { 'x-api-key': server.bootstrap!.api_key };
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `cursor-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' }),
    });
    expect(reg.status).toBe(201);
    user = { authorization: `Bearer ${((await reg.json()) as { session: { access_token: string } }).session.access_token}` };
    // A webhook (nothing listens on port 9: deliveries are recorded and fail) so each upload adds a delivery.
    const hook = await fetch(`${server.url}/api/webhooks`, {
      method: 'POST', headers: { ...user, 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['file.uploaded'] }),
    });
    expect(hook.status).toBe(201);
    hookId = ((await hook.json()) as { id: string }).id;
    // Two files (each with its derive job and webhook delivery), each viewed by the admin (two audit rows).
    for (const [i, name] of ['b.png', 'a.png'].entries()) {
      const png = await quadrants(16 + i, 16).png().toBuffer();
      const up = await fetch(`${server.url}/api/files`, { method: 'POST', body: png, headers: { ...user, 'content-type': 'image/png', 'x-file-name': name } });
      expect(up.status).toBe(201);
      const id = ((await up.json()) as { file: { id: string } }).file.id;
      expect((await get(`/api/admin/files/${id}`, admin)).status).toBe(200);
    }
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  test('a cursor the server never issued is a 400 VALIDATION_ERROR naming /cursor on every list, never a 5xx', async () => {
    const cases: { path: string; auth: Auth; text: string }[] = [];
    for (const text of [...BAD_YEARS, DASHES]) {
      cases.push({ path: '/api/admin/users', auth: admin, text }, { path: '/api/admin/audit', auth: admin, text });
      cases.push({ path: '/api/account/exports', auth: user, text }, { path: '/api/queue/jobs', auth: user, text });
      cases.push({ path: `/api/webhooks/${hookId}/deliveries`, auth: user, text }, { path: '/api/logs', auth: user, text });
    }
    // File ids are text (dashes are fine there): only the years are crafted.
    for (const text of [...BAD_YEARS, '0000-01-01T00:00:00Z|abc']) cases.push({ path: '/api/admin/files', auth: admin, text });
    for (const { query, text } of NUL_FILE_CURSORS) cases.push({ path: `/api/files?limit=1${query}`, auth: user, text });
    // The delivery log's own form, `d<ms>:<uuid>`: a time past year 9999, and 36 dashes for the id.
    for (const text of [`d999999999999999:${UUID}`, `d1:${'-'.repeat(36)}`]) cases.push({ path: `/api/webhooks/${hookId}/deliveries`, auth: user, text });

    const got: unknown[] = [];
    const want: unknown[] = [];
    for (const c of cases) {
      const url = `${c.path}${c.path.includes('?') ? '&' : '?'}cursor=${b64(c.text)}`;
      const res = await get(url, c.auth);
      got.push([c.path, c.text, res.status, res.body.error, res.body.details?.fields?.[0]]);
      want.push([c.path, c.text, 400, 'VALIDATION_ERROR', { path: '/cursor', message: expect.any(String), in: 'query' }]);
    }
    expect(got).toEqual(want);
  });

  test('a real next_cursor from a first page still pages every list, each row once', async () => {
    const lists: { path: string; auth: Auth }[] = [
      { path: '/api/admin/users?limit=1', auth: admin },
      { path: '/api/admin/audit?limit=1', auth: admin },
      { path: '/api/admin/files?limit=1', auth: admin },
      { path: '/api/queue/jobs?limit=1', auth: user },
      { path: '/api/files?limit=1', auth: user },
      { path: '/api/files?limit=1&sort=name', auth: user },
      { path: `/api/webhooks/${hookId}/deliveries?limit=1`, auth: user },
    ];
    for (const list of lists) {
      const seen: string[] = [];
      let cursor: string | null | undefined = null;
      let pages = 0;
      do {
        const res: Answer = await get(`${list.path}${cursor ? `&cursor=${cursor}` : ''}`, list.auth);
        expect([list.path, pages, res.status]).toEqual([list.path, pages, 200]);
        seen.push(...(res.body.results ?? []).map((r) => r.id));
        cursor = res.body.next_cursor;
      } while (cursor && ++pages < 20);
      expect([list.path, seen.length >= 2, new Set(seen).size === seen.length]).toEqual([list.path, true, true]);
    }
    expect((await get('/api/account/exports?limit=1', user)).status).toBe(200);
  });

  test('an empty cursor= is the first page on every list (three lists answered 400, the others the first page)', async () => {
    const lists: { path: string; auth: Auth }[] = [
      { path: '/api/admin/users', auth: admin }, { path: '/api/admin/audit', auth: admin }, { path: '/api/admin/files', auth: admin },
      { path: '/api/queue/jobs', auth: user }, { path: '/api/files', auth: user }, { path: '/api/logs', auth: user },
      { path: '/api/account/exports', auth: user }, { path: '/api/invites', auth: user }, { path: `/api/webhooks/${hookId}/deliveries`, auth: user },
    ];
    const got = [];
    for (const list of lists) got.push([list.path, (await get(`${list.path}?cursor=`, list.auth)).status]);
    expect(got).toEqual(lists.map((l) => [l.path, 200]));
  });
});
