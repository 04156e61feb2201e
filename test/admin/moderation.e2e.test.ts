/**
 * Moderation over real HTTP (issue #26 point 9): an admin lists, views and deletes another
 * account's file; the bytes are purged from storage; each view and delete is in the audit
 * trail; non-admins and admin keys without the `admin` scope are refused. Embedded defaults and
 * Postgres + Redis.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '../helpers/client';
import { quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';

setDefaultTimeout(30_000);

const MODES = [
  { name: 'embedded defaults', postgres: false },
  { name: 'Postgres + Redis', postgres: true },
] as const;
/** IP-keyed buckets are shared through Redis across runs: generous, so only this test's logic decides. */
const LIMITS = { RATE_LIMIT_REGISTER: '500/1h', RATE_LIMIT_LOGIN_IP: '100000/15m', RATE_LIMIT_API: '100000/60s' };
let seq = 0;
const email = (tag: string) => `${tag}-${Date.now().toString(36)}-${seq++}@example.com`;

/** Objects the fs driver holds (outside its temp folder). */
async function storedObjects(dataDir: string): Promise<number> {
  const root = join(dataDir, 'files');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(root, '.tmp'))).length;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe.each(MODES)('moderation on $name', (mode) => {
  let db: TestDatabase | null = null;
  let server: RunningServer;
  let api: ReturnType<typeof createClient>;
  let admin: { key: string };

  beforeAll(async () => {
    if (mode.postgres) {
      await requireRedis();
      db = await createTestDatabase();
    }
    server = await startServer({ env: { ...(db ? { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL } : {}), ...LIMITS } });
    api = createClient(server.url);
    admin = { key: server.bootstrap!.api_key };
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  async function signUp(tag: string) {
    const res = await api('POST', '/api/auth/register', { email: email(tag), password: 'correct horse 1' });
    expect(res.status).toBe(201);
    return { id: res.body.user.id as string, email: res.body.user.email as string, auth: { bearer: res.body.session.access_token as string } };
  }

  let uploads = 0;
  async function upload(auth: { bearer: string }, name: string) {
    // Distinct bytes per upload: identical ones share one stored object (de-duplication).
    const png = await quadrants(16 + uploads++, 16).png().toBuffer();
    const res = await fetch(`${server.url}/api/files`, {
      method: 'POST', body: png, headers: { authorization: `Bearer ${auth.bearer}`, 'content-type': 'image/png', 'x-file-name': name },
    });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { file: { id: string; name: string; url: string } }).file;
  }

  test("an admin lists, views and deletes another account's file; bytes purged; both actions audited", async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    await upload(bob.auth, 'bob.png');
    const before = await storedObjects(server.dataDir);
    const file = await upload(alice.auth, `holiday-${seq}.png`);
    expect(await storedObjects(server.dataDir)).toBeGreaterThan(before);

    const listed = await api('GET', `/api/admin/files?user_id=${alice.id}`, undefined, admin);
    expect(listed.status).toBe(200);
    expect(listed.body.count).toBe(1);
    expect(listed.body.results[0]).toMatchObject({ id: file.id, name: file.name, user_id: alice.id, owner_email: alice.email });
    const byName = await api('GET', `/api/admin/files?q=${encodeURIComponent(file.name.toUpperCase())}`, undefined, admin);
    expect(byName.body.results.map((f: { id: string }) => f.id)).toEqual([file.id]);

    // Every live file of every account, one per page, each exactly once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { results: { id: string }[]; count: number; next_cursor: string | null } } =
        await api('GET', `/api/admin/files?limit=1${cursor ? `&cursor=${cursor}` : ''}`, undefined, admin);
      expect(page.status).toBe(200);
      seen.push(...page.body.results.map((f) => f.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(file.id);
    expect((await api('GET', '/api/admin/files?cursor=bogus', undefined, admin)).status).toBe(400);
    // NUL bytes (Postgres refuses them) and malformed ids are a 400, never a 500.
    for (const path of ['/api/admin/files?q=a%00b', '/api/admin/files/a%00b', '/api/admin/audit?file_id=a%00b', '/api/admin/files?user_id=nope']) {
      expect((await api('GET', path, undefined, admin)).status).toBe(400);
    }
    // An id that is no file's is a 404, as on /api/files/:id (a 400 quoted the pattern's regular expression).
    const odd = await api('GET', '/api/admin/files/a.b', undefined, admin);
    expect([odd.status, odd.body.error]).toEqual([404, 'NOT_FOUND']);

    const viewed = await api('GET', `/api/admin/files/${file.id}`, undefined, admin);
    expect(viewed.status).toBe(200);
    expect(viewed.body).toMatchObject({ id: file.id, user_id: alice.id, owner_email: alice.email });

    expect((await api('DELETE', `/api/admin/files/${file.id}`, undefined, admin)).status).toBe(204);
    expect((await api('GET', `/api/files/${file.id}`, undefined, alice.auth)).status).toBe(404);
    expect((await fetch(file.url.replace(/^https?:\/\/[^/]+/, server.url))).status).toBe(404);
    expect((await api('GET', `/api/admin/files/${file.id}`, undefined, admin)).status).toBe(404);
    expect((await api('DELETE', `/api/admin/files/${file.id}`, undefined, admin)).status).toBe(404);
    expect((await api('GET', '/api/profile', undefined, alice.auth)).body.user.id).toBe(alice.id);
    const usage = await api('GET', '/api/usage', undefined, alice.auth);
    expect(usage.body).toMatchObject({ files_count: 0, storage_bytes: 0 });
    await until('the purge to remove the bytes', async () => (await storedObjects(server.dataDir)) === before);

    const trail = await api('GET', `/api/admin/audit?file_id=${file.id}`, undefined, admin);
    expect(trail.status).toBe(200);
    const adminEmail = server.bootstrap!.email;
    expect(trail.body.results).toMatchObject([
      { action: 'file.delete', file_id: file.id, owner_id: alice.id, actor_email: adminEmail, details: { name: file.name, content_type: 'image/png' } },
      { action: 'file.view', file_id: file.id, owner_id: alice.id, actor_email: adminEmail },
    ]);
    // Its count is over every page, as in every list (it had none).
    const paged = await api('GET', `/api/admin/audit?file_id=${file.id}&limit=1`, undefined, admin);
    expect([paged.body.results.length, paged.body.count, typeof paged.body.next_cursor]).toEqual([1, 2, 'string']);
    const all = await api('GET', '/api/admin/audit?action=file.delete&limit=200', undefined, admin);
    expect(all.body.results.map((e: { file_id: string }) => e.file_id)).toContain(file.id);
  });

  test("an admin's signed URL of another account's file is a view in the audit trail (it was the one way to a private file that left no trace); the owner's own is not", async () => {
    const carol = await signUp('carol');
    const one = await upload(carol.auth, 'one.png');
    const two = await upload(carol.auth, 'two.png');
    for (const id of [one.id, two.id]) expect((await api('PATCH', `/api/files/${id}`, { is_public: false }, carol.auth)).status).toBe(200);
    expect((await api('POST', `/api/files/${one.id}/signed-url`, { original: true }, admin)).status).toBe(200);
    expect((await api('POST', '/api/files/signed-urls', { ids: [two.id, 'nosuchfile00'], original: true }, admin)).body.results).toHaveLength(1);
    expect((await api('POST', `/api/files/${one.id}/signed-url`, { original: true }, carol.auth)).status).toBe(200);
    const adminEmail = server.bootstrap!.email;
    for (const f of [one, two]) {
      const trail = (await api('GET', `/api/admin/audit?file_id=${f.id}`, undefined, admin)).body.results;
      expect(trail).toMatchObject([{ action: 'file.view', owner_id: carol.id, actor_email: adminEmail, details: { name: f.name, via: 'signed_url' } }]);
    }
  });

  test('non-admins get 403 FORBIDDEN; an admin key without the admin scope gets MISSING_SCOPE', async () => {
    const mallory = await signUp('mallory');
    const victim = await signUp('victim');
    const file = await upload(victim.auth, 'private.png');
    const key = (await api('POST', '/api/auth/api-keys', {}, mallory.auth)).body.key as string;
    for (const auth of [mallory.auth, { key }]) {
      for (const [method, path] of [['GET', '/api/admin/files'], ['GET', `/api/admin/files/${file.id}`], ['DELETE', `/api/admin/files/${file.id}`], ['GET', '/api/admin/audit']] as const) {
        const res = await api(method, path, undefined, auth);
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('FORBIDDEN');
      }
    }
    const login = await api('POST', '/api/auth/login', { email: server.bootstrap!.email, password: server.bootstrap!.initial_password });
    const narrow = (await api('POST', '/api/auth/api-keys', { scopes: ['files:read'] }, { bearer: login.body.session.access_token })).body.key as string;
    const scoped = await api('DELETE', `/api/admin/files/${file.id}`, undefined, { key: narrow });
    expect(scoped.status).toBe(403);
    expect(scoped.body).toMatchObject({ error: 'MISSING_SCOPE', details: { required: 'admin' } });
    // Nothing happened to the file, and nothing was recorded.
    expect((await api('GET', `/api/files/${file.id}`, undefined, victim.auth)).status).toBe(200);
    expect((await api('GET', `/api/admin/audit?file_id=${file.id}`, undefined, admin)).body.results).toEqual([]);
  });
});
