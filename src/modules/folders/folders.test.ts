/**
 * Folders API (API.md §4) through the real routes in process, on PGlite and Postgres: create
 * (201/409, normalised, ancestors), limits (16 levels, 1024 bytes), list by parent with file
 * counts, delete (empty, non-empty → 409, recursive → files soft-deleted with purge jobs), move
 * (the subtree and its files in one step; refusals for the root, itself, inside itself, a taken
 * path, too deep).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { and, eq, isNull } from 'drizzle-orm';
import sharp from 'sharp';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { jobs } from '../queue/table';
import { users } from '../users/table';
import { files } from '../files/table';
import { folders } from './table';

interface Folder { path: string; name: string; parent: string; files_count: number; folders_count: number; created_at: string }

describe.each(DB_BACKENDS)('folders on %s', (db) => {
  let h: TestApp;
  let u: SeededUser;
  let img: Uint8Array<ArrayBuffer>;
  const auth = () => ({ authorization: `Bearer ${u.key}` });
  const create = (path: string) => h.request('/api/folders', json('POST', { path }, auth()));
  const list = async (parent?: string) =>
    (await (await h.request(`/api/folders${parent ? `?parent=${encodeURIComponent(parent)}` : ''}`, { headers: auth() })).json()) as { results: Folder[]; count: number };
  const upload = async (folder: string) => {
    const r = await h.request(`/api/files?folder=${encodeURIComponent(folder)}`, { method: 'POST', body: img, headers: { ...auth(), 'content-type': 'image/png' } });
    expect(r.status).toBe(201);
    return ((await r.json()) as { file: { id: string } }).file.id;
  };

  beforeAll(async () => {
    img = new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0a0' } }).png().toBuffer());
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true' } });
    u = await seedUser(h.deps);
  }, 30_000);
  afterAll(() => h.close());

  test('create: 201 with the normalised path and missing ancestors; 409 when it exists', async () => {
    const r = await create('a//b/ c /');
    expect(r.status).toBe(201);
    const f = (await r.json()) as Folder;
    expect(f).toMatchObject({ path: '/a/b/c', name: 'c', parent: '/a/b', files_count: 0 });
    expect(Date.parse(f.created_at)).not.toBeNaN();
    expect((await list('/a')).results.map((x) => x.path)).toEqual(['/a/b']);
    const again = await create('/a/b/c');
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toBe('CONFLICT');
    expect((await create('/a')).status).toBe(409); // created as an ancestor
    expect((await create('/')).status).toBe(409);
  });

  test('limits: more than 16 levels, a name over 255 bytes, more than 1024 bytes in all (UTF-8), `..` → 400', async () => {
    const deep = `/${Array.from({ length: 17 }, (_, i) => `d${i}`).join('/')}`;
    expect((await create(deep)).status).toBe(400);
    expect((await create(`/${Array.from({ length: 16 }, (_, i) => `d${i}`).join('/')}`)).status).toBe(201);
    const longest = ['a', 'b', 'c', 'd'].map((c) => `/${c.repeat(255)}`).join(''); // 1024 characters
    expect((await create(`${longest}/e`)).status).toBe(400);
    expect((await create(longest)).status).toBe(201);
    const long = await create(`/${'x'.repeat(256)}`);
    expect(long.status).toBe(400);
    expect(((await long.json()) as { message: string }).message).toContain('each folder name at most 255 bytes');
    // Counted in UTF-8 bytes: 1005 Chinese characters (3015 bytes) were taken as 1005 and passed
    // the index's row limit, a 500; on upload and on a move too.
    const han = (n: number, from: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x4e00 + ((from + i * 7919) % 20000))).join('');
    const wide = `/${Array.from({ length: 12 }, (_, i) => han(83, i * 83)).join('/')}`; // 12 × (1 + 249) bytes
    expect(wide.length).toBe(1008);
    for (const refused of [await create(wide), await h.request(`/api/files?folder=${encodeURIComponent(wide)}`, { method: 'POST', body: img, headers: { ...auth(), 'content-type': 'image/png' } })]) {
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { message: string }).message).toContain('at most 1024 bytes in all');
    }
    expect((await create(`/${han(85, 1)}`)).status).toBe(201); // 255 bytes
    expect((await create(`/${han(86, 2)}`)).status).toBe(400);
    const four = `/${Array.from({ length: 4 }, (_, i) => han(80, 500 + i * 80)).join('/')}`; // 964 bytes
    expect((await create(four)).status).toBe(201);
    const top = four.slice(0, four.indexOf('/', 1)); // its deepest folder moved under it would be 1086 bytes
    const moved = await h.request(`/api/folders?path=${encodeURIComponent(top)}`, json('PATCH', { path: `/${han(40, 900)}${top}` }, auth()));
    expect(moved.status).toBe(400);
    expect(((await moved.json()) as { message: string }).message).toContain('longer than 1024 bytes');
    const dots = await create('/a/../etc');
    expect(dots.status).toBe(400);
    expect(((await dots.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
  });

  test('list: direct children of ?parent= (default /) with their own file and subfolder counts', async () => {
    await upload('/p/q');
    await upload('/p/q');
    await upload('/p');
    const top = await list();
    expect(top.results.map((f) => f.path)).toContain('/p');
    expect(top.results.find((f) => f.path === '/p')).toMatchObject({ files_count: 1, folders_count: 1 });
    const children = await list('/p/');
    expect(children.results).toEqual([expect.objectContaining({ path: '/p/q', name: 'q', files_count: 2, folders_count: 0 })]);
    expect(children.count).toBe(1);
    expect((await list('/nothing/here')).results).toEqual([]);
    // Another account sees none of them.
    const other = await seedUser(h.deps);
    const theirs = (await (await h.request('/api/folders', { headers: { authorization: `Bearer ${other.key}` } })).json()) as { results: Folder[] };
    expect(theirs.results).toEqual([]);
  });

  test('delete: empty → 204; non-empty without recursive → 409; recursive removes files and subfolders', async () => {
    expect((await create('/empty')).status).toBe(201);
    expect((await h.request('/api/folders?path=/empty', { method: 'DELETE', headers: auth() })).status).toBe(204);
    expect((await list()).results.map((f) => f.path)).not.toContain('/empty');
    expect((await h.request('/api/folders?path=/empty', { method: 'DELETE', headers: auth() })).status).toBe(404);

    const ids = [await upload('/r'), await upload('/r/s/t')];
    const [before] = await h.deps.db.select({ n: users.filesCount, bytes: users.storageBytes }).from(users).where(eq(users.id, u.id));
    const refused = await h.request('/api/folders?path=/r&recursive=false', { method: 'DELETE', headers: auth() });
    expect(refused.status).toBe(409);
    // Only a subfolder, no file: still not empty.
    await create('/only/sub');
    expect((await h.request('/api/folders?path=/only', { method: 'DELETE', headers: auth() })).status).toBe(409);

    expect((await h.request('/api/folders?path=/r&recursive=true', { method: 'DELETE', headers: auth() })).status).toBe(204);
    for (const id of ids) expect((await h.request(`/api/files/${id}`, { headers: auth() })).status).toBe(404);
    expect((await list()).results.map((f) => f.path)).not.toContain('/r');
    expect((await list('/r/s')).results).toEqual([]);
    const [after] = await h.deps.db.select({ n: users.filesCount, bytes: users.storageBytes }).from(users).where(eq(users.id, u.id));
    expect(after!.n).toBe(before!.n - 2);
    expect(after!.bytes).toBe(before!.bytes - 2 * img.length);
    for (const id of ids) {
      expect(await h.deps.db.select().from(jobs).where(and(eq(jobs.type, 'purge'), eq(jobs.fileId, id)))).toHaveLength(1);
    }
  });

  test('move: the folder, its subfolders (empty ones too) and every file below follow; the old paths are gone', async () => {
    const move = (path: string, to: string) => h.request(`/api/folders?path=${encodeURIComponent(path)}`, json('PATCH', { path: to }, auth()));
    const top = await upload('/trips');
    const deep = await upload('/trips/2024/alps');
    await create('/trips/empty');
    await create('/tripsy'); // shares the prefix, not the folder: stays
    const stays = await upload('/tripsy');
    const r = await move('/trips', '/archive/old trips');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ path: '/archive/old trips', name: 'old trips', parent: '/archive', files_count: 1, folders_count: 2 });
    const folderOf = async (id: string) => ((await (await h.request(`/api/files/${id}`, { headers: auth() })).json()) as { folder: string }).folder;
    expect([await folderOf(top), await folderOf(deep), await folderOf(stays)]).toEqual(['/archive/old trips', '/archive/old trips/2024/alps', '/tripsy']);
    expect((await list('/archive/old trips')).results.map((f) => f.path)).toEqual(['/archive/old trips/2024', '/archive/old trips/empty']);
    expect((await list('/archive/old trips/2024')).results).toEqual([expect.objectContaining({ path: '/archive/old trips/2024/alps', parent: '/archive/old trips/2024', files_count: 1 })]);
    expect((await list()).results.map((f) => f.path)).not.toContain('/trips');
    expect((await list()).results.map((f) => f.path)).toContain('/tripsy');
    expect((await list('/trips')).results).toEqual([]);
    // A rename in place, back to the top level.
    expect((await move('/archive/old trips', 'trips')).status).toBe(200);
    expect(await folderOf(deep)).toBe('/trips/2024/alps');
    // Names beyond the Basic Multilingual Plane: a JavaScript length would cut the moved paths one character off.
    const emoji = await upload('/📷 photos/🏔️/day 1');
    expect((await move('/📷 photos', '/🎞️ film')).status).toBe(200);
    expect(await folderOf(emoji)).toBe('/🎞️ film/🏔️/day 1');
    expect((await list('/🎞️ film/🏔️')).results.map((f) => [f.path, f.parent])).toEqual([['/🎞️ film/🏔️/day 1', '/🎞️ film/🏔️']]);
  });

  test('move refusals: root, the same path, inside itself, a taken path, too deep, unknown', async () => {
    const move = (path: string, to: string) => h.request(`/api/folders?path=${encodeURIComponent(path)}`, json('PATCH', { path: to }, auth()));
    await upload('/m/n');
    await create('/taken');
    const cases: [string, string, number, string][] = [
      ['/', '/x', 400, 'root'],
      ['/m', '/', 400, 'root folder always exists'],
      ['/m', '/m/', 400, 'already there'],
      ['/m', '/m/n/inner', 400, 'inside itself'],
      ['/m', '/taken', 409, '/taken already exists'],
      ['/m', `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, 400, 'more than 16 levels'],
      ['/nope', '/elsewhere', 404, 'not found'],
    ];
    for (const [from, to, status, text] of cases) {
      const r = await move(from, to);
      const body = (await r.json()) as { message: string };
      expect([from, to, r.status]).toEqual([from, to, status]);
      expect(body.message.toLowerCase()).toContain(text.toLowerCase());
    }
    // Nothing moved.
    expect((await list('/m')).results.map((f) => f.path)).toEqual(['/m/n']);
  });

  test('a file put in a folder while an ancestor is deleted keeps its folders (it stayed live with none: out of the tree\'s reach)', async () => {
    for (let round = 0; round < 15; round++) {
      const base = `/gone${round}`;
      await upload(`${base}/x`);
      const moved = await upload('/');
      await Promise.all([
        h.request(`/api/files?folder=${encodeURIComponent(`${base}/y/z`)}`, { method: 'POST', body: img, headers: { ...auth(), 'content-type': 'image/png' } }),
        h.request(`/api/files/${moved}`, json('PATCH', { folder: `${base}/p/q` }, auth())),
        create(`${base}/w`),
        h.request(`/api/folders?path=${encodeURIComponent(base)}&recursive=true`, { method: 'DELETE', headers: auth() }),
      ]);
    }
    const rows = await h.deps.db.select({ path: folders.path, parent: folders.parent }).from(folders).where(eq(folders.userId, u.id));
    const paths = new Set(rows.map((r) => r.path));
    const live = await h.deps.db.select({ folder: files.folder }).from(files).where(and(eq(files.userId, u.id), isNull(files.deletedAt)));
    expect({
      foldersWithoutParent: rows.filter((r) => r.parent !== '/' && !paths.has(r.parent)).map((r) => r.path),
      filesWithoutFolder: live.filter((f) => f.folder !== '/' && !paths.has(f.folder)).map((f) => f.folder),
    }).toEqual({ foldersWithoutParent: [], filesWithoutFolder: [] });
  }, 60_000);

  test('two moves at once, each folder into the other: one nests in the other, under / (both went, and neither was reachable)', async () => {
    const move = (path: string, to: string) => h.request(`/api/folders?path=${encodeURIComponent(path)}`, json('PATCH', { path: to }, auth()));
    const tree = async (parent: string): Promise<string[]> =>
      (await Promise.all((await list(parent)).results.map(async (f) => [f.path, ...(await tree(f.path))]))).flat();
    for (let round = 0; round < 10; round++) {
      const [a, b] = [`/ring${round}a`, `/ring${round}b`];
      await upload(a);
      await upload(b);
      const statuses = (await Promise.all([move(a, `${b}${a}`), move(b, `${a}${b}`)])).map((r) => r.status);
      // The second move finds its folder moved into its destination's place: it lands inside it, or finds itself gone.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      const reachable = await tree('/');
      // Both files are still in a folder that / leads to.
      const listed = (await (await h.request(`/api/files?folder=/&recursive=true&limit=200`, { headers: auth() })).json()) as { results: { folder: string }[] };
      const folders = listed.results.map((f) => f.folder).filter((f) => f.includes(`/ring${round}`));
      expect([folders.length, folders.every((f) => reachable.includes(f))]).toEqual([2, true]);
    }
  }, 60_000);
});
