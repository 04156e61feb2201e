/**
 * The account's whole life (issue #25.4) over a real server with Postgres, on local disk and on
 * MinIO: an account with 200 files (two of them images with rendered derivatives) is exported —
 * the ZIP, unzipped here, holds every file with its sha256 and a manifest without secrets, and
 * the server's resident memory grows by less than 64 MiB while it builds a ~100 MiB archive
 * (read from /proc while the job runs); the link works once. Then the account is deleted and
 * no row (any table with a user column), stored object or derivative of it remains.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import postgres from 'postgres';
import { createFsStorage } from '../../src/storage/fs';
import { createS3Storage } from '../../src/storage/s3';
import type { StorageDriver } from '../../src/storage/types';
import { gradient } from '../helpers/images';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const FILES = 200;
/** 200 × 512 KiB ≈ 100 MiB of originals: more than the memory bound, so buffering the ZIP would show. */
const FILE_BYTES = 512 * 1024;
/** The bound on the server's RSS growth while it builds the export. */
const RSS_BOUND = 64 * 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Resident set size of a process, from /proc (bytes). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

let minio: Minio | undefined;
afterAll(() => minio?.stop());

describe.each(['fs', 's3'] as const)('account export and deletion: %s', (kind) => {
  let db: TestDatabase;
  let server: RunningServer;
  let storage: StorageDriver;
  let sql: postgres.Sql;
  let bucket = '';
  let admin: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    let env: Record<string, string> = { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' };
    if (kind === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
    server = await startServer({ env });
    storage = kind === 'fs'
      ? await createFsStorage(join(server.dataDir, 'files'))
      : createS3Storage({
        endpoint: minio!.endpoint, region: 'us-east-1', bucket, accessKeyId: minio!.accessKeyId,
        secretAccessKey: minio!.secretAccessKey, forcePathStyle: true,
      });
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    admin = { authorization: `Bearer ${server.bootstrap!.api_key}` };
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await storage?.close();
    await server?.close();
    await db?.drop();
  });

  const objects = async () => {
    const keys: string[] = [];
    for await (const o of storage.listOlderThan('', new Date(Date.now() + 3_600_000))) keys.push(o.key);
    return keys;
  };
  const json = async <T>(res: Response, status: number): Promise<T> => {
    if (res.status !== status) throw new Error(`${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  /** Every table with a column naming an account, and how many of its rows name this one. */
  const rowsOf = async (userId: string) => {
    const cols = await sql<{ table_name: string; column_name: string }[]>`
      select table_name, column_name from information_schema.columns
      where table_schema = 'public' and data_type = 'uuid' and column_name in ('user_id', 'owner_id', 'id')`;
    const found: Record<string, number> = {};
    for (const c of cols) {
      // `id` only for the users table itself; deletion rows keep the id on purpose (the status).
      if (c.column_name === 'id' && c.table_name !== 'users') continue;
      if (c.table_name === 'account_deletions') continue;
      const [r] = await sql.unsafe(`select count(*)::int as n from "${c.table_name}" where "${c.column_name}" = $1`, [userId]);
      if (r!.n) found[`${c.table_name}.${c.column_name}`] = r!.n;
    }
    return found;
  };

  test('export: every file with its sha256, bounded server memory, one download; deletion leaves nothing', async () => {
    // The account: a user with a password, an API key, a folder, 198 text files and two images.
    const password = 'export and delete me';
    const reg = await json<{ user: { id: string }; session: { access_token: string } }>(await fetch(`${server.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `life-${kind}@example.com`, password }),
    }), 201);
    const userId = reg.user.id;
    const user = { authorization: `Bearer ${reg.session.access_token}` };
    const key = await json<{ key: string }>(await fetch(`${server.url}/api/auth/api-keys`, {
      method: 'POST', headers: { ...user, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cli', scopes: ['files:read', 'files:write', 'account:read', 'account:write'] }),
    }), 201);
    const expected = new Map<string, string>(); // id → sha256
    const images: string[] = [];
    const shas: string[] = [];
    const upload = async (i: number) => {
      const isImage = i < 2;
      const body = isImage
        ? new Uint8Array(await gradient(300 + i, 200).png().toBuffer())
        // A text line first: bare base64 can begin like another format's signature ("BM" is BMP,
        // "G" every 188 bytes MPEG-TS) and be refused as not the declared text/plain.
        : new Uint8Array(Buffer.from(`text file ${i}\n${randomBytes(FILE_BYTES * 3 / 4).toString('base64')}`.slice(0, FILE_BYTES)));
      const folder = i % 2 ? '/albums/odd' : '/';
      const res = await fetch(`${server.url}/api/files?folder=${encodeURIComponent(folder)}`, {
        method: 'POST', headers: { ...user, 'content-type': isImage ? 'image/png' : 'text/plain', 'x-file-name': `f${i}.${isImage ? 'png' : 'txt'}` }, body,
      });
      const { file } = await json<{ file: { id: string; sha256: string } }>(res, 201);
      expect(file.sha256).toBe(sha(body));
      expected.set(file.id, file.sha256);
      shas.push(file.sha256);
      if (isImage) images.push(file.id);
    };
    for (let i = 0; i < FILES; i += 8) await Promise.all(Array.from({ length: Math.min(8, FILES - i) }, (_, j) => upload(i + j)));
    expect(expected.size).toBe(FILES);
    // Derivatives on disk for the images (deletion must remove them too).
    for (const id of images) expect((await fetch(`${server.url}/t/w_64/${id}`)).status).toBe(200);
    const derivativeDirs = images.map((id) => {
      const s = expected.get(id)!;
      return join(server.dataDir, 'cache', s.slice(0, 2), s);
    });
    await waitFor('derivatives on disk', async () => derivativeDirs.every((d) => existsSync(d)));

    // Settings beyond the defaults, so the manifest's copy is checked against what the account set.
    const settings = await json<Record<string, unknown>>(await fetch(`${server.url}/api/settings`, {
      method: 'PATCH', headers: { ...user, 'content-type': 'application/json' },
      body: JSON.stringify({ default_expires_in: 86_400, watermarks: { logo: `l_${images[0]},lg_south_east` }, force_watermark: 'logo' }),
    }), 200);
    expect(settings.force_watermark).toBe('logo');

    // Export, sampling the server's RSS from the request until the archive is ready.
    const pid = server.proc.pid!;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
    const started = await json<{ id: string; status: string }>(await fetch(`${server.url}/api/account/export`, { method: 'POST', headers: user }), 202);
    expect(['pending', 'running']).toContain(started.status);
    // A second request while it builds: 409.
    expect((await fetch(`${server.url}/api/account/export`, { method: 'POST', headers: user })).status).toBe(409);
    let ready: { status: string; download_url: string | null; files_count: number | null; size: number | null } | undefined;
    try {
      await waitFor('the export to be ready', async () => {
        ready = await json(await fetch(`${server.url}/api/account/exports/${started.id}`, { headers: user }), 200);
        expect(ready!.status).not.toBe('failed');
        return ready!.status === 'ready';
      });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssOf(pid));
    const growth = peak - baseline;
    console.log(`[${kind}] export of ${FILES} files (${ready!.size} bytes): server RSS ${(baseline / 2 ** 20).toFixed(1)} MiB → peak ${(peak / 2 ** 20).toFixed(1)} MiB (growth ${(growth / 2 ** 20).toFixed(1)} MiB, bound 64 MiB)`);
    expect(growth).toBeLessThan(RSS_BOUND);
    expect(ready!.files_count).toBe(FILES);
    expect(ready!.size!).toBeGreaterThan(FILES * FILE_BYTES * 0.9);

    // One archive at a time: a ready, undownloaded export refuses another (each is a full copy).
    const again = await fetch(`${server.url}/api/account/export`, { method: 'POST', headers: user });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toContain('ready');

    // Download once (the link needs no credentials), unzip, hash.
    const link = new URL(ready!.download_url!);
    const url = `${server.url}${link.pathname}${link.search}`;
    expect((await fetch(url.replace(/signature=[^&]+/, 'signature=AAAAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(403);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const zip = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect((await fetch(url)).status).toBe(410);
    const manifest = JSON.parse(new TextDecoder().decode(zip['manifest.json'])) as {
      account: { id: string; email: string }; folders: string[]; files: { id: string; path: string; sha256: string; size: number }[];
      api_keys: Record<string, unknown>[]; settings: Record<string, unknown>;
    };
    expect(manifest.account.id).toBe(userId);
    expect(manifest.folders).toContain('/albums/odd');
    expect(manifest.files).toHaveLength(FILES);
    expect(Object.keys(zip).filter((n) => n.startsWith('files/'))).toHaveLength(FILES);
    for (const f of manifest.files) {
      expect(expected.get(f.id)).toBe(f.sha256);
      const bytes = zip[f.path];
      expect(bytes).toBeDefined();
      expect(sha(bytes!)).toBe(f.sha256);
      expect(bytes!.byteLength).toBe(f.size);
    }
    // Keys' metadata, never the key or its hash.
    expect(manifest.api_keys).toHaveLength(1);
    const text = new TextDecoder().decode(zip['manifest.json']);
    expect(text).not.toContain(key.key);
    expect(text).not.toContain('key_hash');
    expect(Object.keys(manifest.api_keys[0]!)).not.toContain('hash');
    // Every setting, as GET /api/settings gives it (watermarks and the effective upload limit included).
    expect(manifest.settings).toEqual(settings);
    // The archive is removed once sent.
    await waitFor('the export archive to be removed', async () => !(await objects()).some((k) => k.startsWith('exports/')));

    // Deletion: an API key without the password is refused, a wrong password too; then the password.
    const keyAuth = { authorization: `Bearer ${key.key}` };
    expect((await fetch(`${server.url}/api/account`, { method: 'DELETE', headers: { ...keyAuth, 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
    expect((await fetch(`${server.url}/api/account`, { method: 'DELETE', headers: { ...keyAuth, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'wrong password' }) })).status).toBe(400);
    expect(Object.keys(await rowsOf(userId)).length).toBeGreaterThan(0);
    const deletion = await json<{ id: string; status: string }>(await fetch(`${server.url}/api/account`, {
      method: 'DELETE', headers: { ...keyAuth, 'content-type': 'application/json' }, body: JSON.stringify({ password }),
    }), 202);
    // Credentials end at once.
    expect((await fetch(`${server.url}/api/profile`, { headers: keyAuth })).status).toBe(401);
    let done: { status: string; removed: Record<string, number> | null } | undefined;
    await waitFor('the deletion to complete', async () => {
      done = await json(await fetch(`${server.url}/api/account/deletions/${deletion.id}`), 200);
      expect(done!.status).not.toBe('failed');
      return done!.status === 'completed';
    });
    expect(done!.removed!.files).toBe(FILES);

    // No row, no object, no derivative.
    expect(await rowsOf(userId)).toEqual({});
    expect((await sql`select count(*)::int as n from blobs where sha256 in ${sql(shas)}`)[0]!.n).toBe(0);
    expect((await sql`select count(*)::int as n from files`)[0]!.n).toBe(0);
    await waitFor('every stored object to be gone', async () => (await objects()).length === 0);
    await waitFor('the derivatives to be gone', async () => derivativeDirs.every((d) => !existsSync(d)));
    for (const id of images) expect((await fetch(`${server.url}/t/w_64/${id}`)).status).toBe(404);
  }, 600_000);

  test('an admin exports and deletes another account; a fresh session deletes without its password', async () => {
    const reg = await json<{ user: { id: string }; session: { access_token: string } }>(await fetch(`${server.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `admin-target-${kind}@example.com`, password: 'someone else entirely' }),
    }), 201);
    const user = { authorization: `Bearer ${reg.session.access_token}` };
    const body = new Uint8Array(Buffer.from('shared with nobody'));
    await json(await fetch(`${server.url}/api/files`, { method: 'POST', headers: { ...user, 'content-type': 'text/plain' }, body }), 201);
    // Not for a non-admin.
    expect((await fetch(`${server.url}/api/admin/users/${reg.user.id}/export`, { method: 'POST', headers: user })).status).toBe(403);
    const exp = await json<{ id: string }>(await fetch(`${server.url}/api/admin/users/${reg.user.id}/export`, { method: 'POST', headers: admin }), 202);
    let ready: { status: string; download_url: string | null } | undefined;
    await waitFor('the admin export', async () => {
      ready = await json(await fetch(`${server.url}/api/account/exports/${exp.id}`, { headers: admin }), 200);
      return ready!.status === 'ready';
    });
    const link = new URL(ready!.download_url!);
    const zip = unzipSync(new Uint8Array(await (await fetch(`${server.url}${link.pathname}${link.search}`)).arrayBuffer()));
    expect(Object.values(zip).some((b) => sha(b) === sha(body))).toBe(true);

    // The session the user registered with is fresh: no password needed (an empty body).
    const second = await json<{ user: { id: string }; session: { access_token: string } }>(await fetch(`${server.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `fresh-${kind}@example.com`, password: 'a fresh session here' }),
    }), 201);
    const own = await json<{ id: string }>(await fetch(`${server.url}/api/account`, { method: 'DELETE', headers: { authorization: `Bearer ${second.session.access_token}` } }), 202);
    const byAdmin = await json<{ id: string }>(await fetch(`${server.url}/api/admin/users/${reg.user.id}/deletion`, { method: 'POST', headers: admin }), 202);
    for (const [id, userId] of [[own.id, second.user.id], [byAdmin.id, reg.user.id]] as const) {
      await waitFor('the deletion', async () => (await json<{ status: string }>(await fetch(`${server.url}/api/account/deletions/${id}`), 200)).status === 'completed');
      expect(await rowsOf(userId)).toEqual({});
    }
    await waitFor('every stored object to be gone', async () => (await objects()).length === 0);
  }, 300_000);

  test('the last administrator cannot be deleted, by itself or through the admin route (409); the account keeps working', async () => {
    const adminId = (await sql<{ id: string }[]>`select id from users where email = ${server.bootstrap!.email}`)[0]!.id;
    const own = await fetch(`${server.url}/api/account`, {
      method: 'DELETE', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ password: server.bootstrap!.initial_password }),
    });
    expect(((await json<{ error: string }>(own, 409))).error).toBe('CONFLICT');
    const viaAdmin = await fetch(`${server.url}/api/admin/users/${adminId}/deletion`, { method: 'POST', headers: admin });
    expect(((await json<{ error: string }>(viaAdmin, 409))).error).toBe('CONFLICT');
    expect((await sql`select 1 from account_deletions where user_id = ${adminId}`).length).toBe(0);
    expect((await fetch(`${server.url}/api/files?limit=1`, { headers: admin })).status).toBe(200);
  });
});
