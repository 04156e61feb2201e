/**
 * `GET /api/files` semantics behind the fast paths (API.md §1): `count` is the total matching
 * the filter — from the owner's counter when unfiltered, so it must still leave out deleted
 * and expired-but-not-yet-swept files — and keyset pages for every sort visit each file once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { bootstrapAdmin } from '../admin/bootstrap';
import { users } from '../users/table';
import { files } from './table';

interface Page { results: { id: string }[]; next_cursor: string | null; count: number }

describe.each(DB_BACKENDS)('file list count and cursors on %s', (db) => {
  let h: TestApp;
  let key: string;
  const list = async (query: string): Promise<Page> => {
    const res = await h.request(`/api/files?${query}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true' } });
    key = (await bootstrapAdmin(h.deps))!.apiKey;
    const [u] = await h.deps.db.select({ id: users.id }).from(users).limit(1);
    const userId = u!.id;
    const now = Date.now();
    // 60 files: sizes and timestamps repeat so ties are broken by id; every 10th is soft-deleted,
    // every 10th (offset 5) expired but not yet swept, every 3rd private, folders /a and /a/b.
    const rows = Array.from({ length: 60 }, (_, n) => ({
      id: `lst${n.toString().padStart(5, '0')}`, userId, name: `f${n % 7}.png`, folder: n % 2 ? '/a' : '/a/b',
      contentType: n % 4 ? 'image/png' : 'text/plain', size: (n % 5) * 10, sha256: 'x', storageKey: `k/${n}`,
      isPublic: n % 3 !== 0, createdAt: new Date(now - 60_000 + Math.floor(n / 4) * 1000),
      deletedAt: n % 10 === 0 ? new Date(now) : null, expiresAt: n % 10 === 5 ? new Date(now - 1000) : null,
    }));
    await h.deps.db.insert(files).values(rows);
    // The counter as the upload/delete transactions keep it: every row not soft-deleted.
    const [live] = await h.deps.db.select({ n: sql<number>`count(*)::int` }).from(files).where(and(eq(files.userId, userId), isNull(files.deletedAt)));
    await h.deps.db.update(users).set({ filesCount: live!.n }).where(eq(users.id, userId));
  }, 30_000);
  afterAll(() => h.close());

  test('count equals the listed files, unfiltered and filtered', async () => {
    const cases = ['', 'folder=/a', 'folder=/a&recursive=true', 'folder=/&recursive=true', 'is_public=false', 'content_type=image/*', 'q=f3'];
    for (const query of cases) {
      const all = await list(`${query}&limit=200`);
      expect(all.next_cursor).toBeNull();
      expect({ query, count: all.count }).toEqual({ query, count: all.results.length });
    }
    expect((await list('limit=1')).count).toBe(48);
    expect((await list('content_type=IMAGE/PNG&limit=200')).count).toBe((await list('content_type=image/png&limit=200')).count);
  });

  test('a content_type that names no stored type or family is a 400 (it answered an empty page)', async () => {
    for (const [value, near] of [['image', 'image/*'], ['image/jpg', 'image/jpeg'], ['foo', null]] as const) {
      const res = await h.request(`/api/files?content_type=${encodeURIComponent(value)}`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { error: string; message: string; details: { fields: { path: string }[] } };
      expect([res.status, body.error, body.details.fields[0]!.path]).toEqual([400, 'VALIDATION_ERROR', '/content_type']);
      if (near) expect(body.message).toContain(`did you mean ${near}?`);
    }
  });

  test('a search finds names holding every word, in any order ("png f3" found nothing: it looked for the words with their space)', async () => {
    const byWords = await list('q=PNG%20f3&limit=200');
    const byText = await list('q=f3.png&limit=200');
    expect(byWords.count).toBeGreaterThan(0);
    expect(byWords.results.map((f) => f.id).sort()).toEqual(byText.results.map((f) => f.id).sort());
    expect((await list('q=f3%20nothing&limit=200')).count).toBe(0);
  });

  test('every sort pages through each listed file exactly once', async () => {
    const expected = (await list('limit=200')).results.map((f) => f.id).sort();
    for (const sort of ['created_at', '-created_at', 'name', '-name', 'size', '-size']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await list(`sort=${sort}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.results.map((f) => f.id));
        cursor = page.next_cursor;
      } while (cursor && ++pages < 50);
      expect({ sort, ids: [...seen].sort() }).toEqual({ sort, ids: expected });
    }
  });

  test('a cursor that does not fit the sort is a 400', async () => {
    const nameCursor = Buffer.from(JSON.stringify(['f1.png', 'lst00001'])).toString('base64url');
    const res = await h.request(`/api/files?sort=size&cursor=${nameCursor}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
  });

  test('a next_cursor is refused under another sort, even when its value would fit (it gave a wrong page)', async () => {
    const get = (q: string) => h.request(`/api/files?${q}`, { headers: { authorization: `Bearer ${key}` } });
    for (const [made, used] of [['-created_at', 'sort=name'], ['-created_at', 'sort=created_at'], ['name', 'sort=-name'], ['-name', 'sort=-created_at&q=f'], ['name', '']]) {
      const cursor = (await list(`sort=${made}&limit=3`)).next_cursor!;
      const res = await get(`${used}&limit=3&cursor=${cursor}`);
      expect([made, used, res.status]).toEqual([made, used, 400]);
      expect(((await res.json()) as { message: string }).message).toBe('Invalid cursor: it was made for another sort; start again without cursor.');
    }
    // Under its own sort, on either path, it goes on.
    expect((await get(`sort=-created_at&q=f&limit=3&cursor=${(await list('sort=-created_at&q=f&limit=3')).next_cursor}`)).status).toBe(200);
  });

  test('the default page (prepared statements) refuses a cursor of another sort, or none at all, with a 400', async () => {
    const nameCursor = Buffer.from(JSON.stringify(['f1.png', 'lst00001'])).toString('base64url');
    for (const cursor of [nameCursor, 'not-a-cursor']) {
      const res = await h.request(`/api/files?cursor=${cursor}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
    }
  });

  test('a made-up created_at cursor with a year the database refuses is a 400 on both paths (it was a 500)', async () => {
    for (const at of ['+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z']) {
      const cursor = Buffer.from(JSON.stringify([at, 'lst00001'])).toString('base64url');
      for (const query of [`cursor=${cursor}`, `cursor=${cursor}&sort=-created_at&q=f`, `cursor=${cursor}&sort=created_at`]) {
        const res = await h.request(`/api/files?${query}`, { headers: { authorization: `Bearer ${key}` } });
        expect([at, query.split('&')[1] ?? 'default', res.status]).toEqual([at, query.split('&')[1] ?? 'default', 400]);
      }
    }
  });

  test('a listed file is the same object as GET /api/files/:id gives, on the default and the filtered path', async () => {
    // The list's JSON is built by the database (list-query.ts); the single file's from the row.
    const [u] = await h.deps.db.select({ id: users.id }).from(users).limit(1);
    await h.deps.db.update(users).set({ publicUrlBase: 'https://cdn.example.com/media' }).where(eq(users.id, u!.id));
    const later = new Date(Date.now() + 86_400_000 + 7);
    await h.deps.db.update(files).set({
      meta: { blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj', dominant_color: '#aabbcc', duration_s: 12.48, exif: { Make: 'X', Model: 'Y "quoted"' } },
      tags: ['beach', 'été'], customMeta: { camera: 'x100v', note: 'a "quote" and \\ backslash' }, expiresAt: later, name: 'plage d\'été "1".png',
    }).where(inArray(files.id, ['lst00001', 'lst00002']));
    await h.deps.db.update(files).set({ meta: { duration_s: 'not a number', blurhash: 7 }, createdAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 0)) })
      .where(eq(files.id, 'lst00003'));
    try {
      const unfiltered = (await list('limit=200')).results;
      const filtered = (await list('folder=/&recursive=false&limit=200')).results; // not the default page
      const everywhere = (await list('q=f&limit=200')).results;
      expect(unfiltered.length).toBe(48);
      expect(everywhere).toEqual(unfiltered.filter((f) => (f as unknown as { name: string }).name.includes('f')));
      for (const f of unfiltered.slice(0, 10).concat(unfiltered.filter((x) => ['lst00001', 'lst00002', 'lst00003'].includes(x.id)))) {
        const res = await h.request(`/api/files/${f.id}`, { headers: { authorization: `Bearer ${key}` } });
        expect(res.status).toBe(200);
        expect(f).toEqual(await res.json());
      }
      const one = unfiltered.find((f) => f.id === 'lst00001') as unknown as Record<string, unknown>;
      expect(one).toMatchObject({
        blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj', dominant_color: '#aabbcc', duration_s: 12.48, tags: ['beach', 'été'],
        url: 'https://cdn.example.com/media/i/lst00001.png', expires_at: later.toISOString(),
      });
      expect(Object.keys(one)).toEqual(Object.keys(await (await h.request('/api/files/lst00001', { headers: { authorization: `Bearer ${key}` } })).json() as object));
      const three = unfiltered.find((f) => f.id === 'lst00003') as unknown as Record<string, unknown>;
      expect(three).toMatchObject({ duration_s: null, blurhash: null, created_at: '2026-01-02T03:04:05.000Z' });
      expect(filtered).toEqual([]); // folder "/" holds none of them: the filtered path answers too
      const sub = (await list('folder=/a&limit=200')).results;
      expect(sub.length).toBeGreaterThan(0);
      expect(sub).toEqual(unfiltered.filter((f) => (f as unknown as { folder: string }).folder === '/a'));
    } finally {
      await h.deps.db.update(users).set({ publicUrlBase: null }).where(eq(users.id, u!.id));
    }
  });

  test('a hyphen or underscore in a word stands for any separator ("photo-03" did not find "photo 03.jpg"); the word stays whole', async () => {
    const [u] = await h.deps.db.select({ id: users.id }).from(users).limit(1);
    const names = ['photo 03.jpg', 'photo_03.jpg', 'photo-03.jpg', 'photo03.jpg', 'Photo-2003.jpg'];
    await h.deps.db.insert(files).values(names.map((name, n) => ({
      id: `sep${n.toString().padStart(5, '0')}`, userId: u!.id, name, folder: '/sep', contentType: 'image/jpeg', size: 1, sha256: 'x', storageKey: `k/sep/${n}`, isPublic: true,
    })));
    const found = async (q: string) => (await list(`folder=/sep&q=${encodeURIComponent(q)}&sort=name`)).results.map((f) => (f as unknown as { name: string }).name);
    for (const q of ['photo-03', 'PHOTO_03']) expect([q, await found(q)]).toEqual([q, ['photo 03.jpg', 'photo-03.jpg', 'photo_03.jpg']]);
    // Two words: each anywhere, in any order.
    expect(await found('03 photo')).toEqual(['Photo-2003.jpg', 'photo 03.jpg', 'photo-03.jpg', 'photo03.jpg', 'photo_03.jpg']);
    expect(await found('photo03')).toEqual(['photo03.jpg']);
    // A word is still matched anywhere in the name: "03.jpg" holds a dot, which does not separate.
    expect(await found('03.jpg')).toEqual(['Photo-2003.jpg', 'photo 03.jpg', 'photo-03.jpg', 'photo03.jpg', 'photo_03.jpg']);
  });

  test('sha256= lists the account\'s live files with that content, in any case; other values are a 400 saying the form', async () => {
    const [u] = await h.deps.db.select({ id: users.id }).from(users).limit(1);
    const same = 'ab'.repeat(32);
    const now = Date.now();
    // Two live copies, one deleted, one expired but not yet swept, and another content.
    await h.deps.db.insert(files).values([
      { id: 'dup00001', sha256: same },
      { id: 'dup00002', sha256: same },
      { id: 'dup00003', sha256: same, deletedAt: new Date(now) },
      { id: 'dup00004', sha256: same, expiresAt: new Date(now - 1000) },
      { id: 'dup00005', sha256: 'cd'.repeat(32) },
    ].map((r, n) => ({ userId: u!.id, name: `dup${n}.png`, folder: '/dup', contentType: 'image/png', size: 1, storageKey: `k/dup/${n}`, isPublic: true, ...r })));
    for (const value of [same, same.toUpperCase()]) {
      const page = await list(`sha256=${value}&sort=name`);
      expect({ ids: page.results.map((f) => f.id), count: page.count }).toEqual({ ids: ['dup00001', 'dup00002'], count: 2 });
    }
    expect((await list(`sha256=${'ef'.repeat(32)}`)).count).toBe(0);
    for (const bad of ['abc', 'zz'.repeat(32), `${same}00`]) {
      const res = await h.request(`/api/files?sha256=${bad}`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { error: string; message: string; details: { fields: { path: string; message: string }[] } };
      expect([res.status, body.error, body.details.fields[0]!.path]).toEqual([400, 'VALIDATION_ERROR', '/sha256']);
      expect(body.details.fields[0]!.message).toContain('expected 64 hex digits (any case), the SHA-256 of the bytes as uploaded');
    }
  });
});
