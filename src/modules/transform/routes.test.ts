/**
 * Route tests of /t, /authenticated, signed-url and /api/cache on both database backends:
 * cache tiers in X-Cache, 304 before work, format negotiation, signatures, visibility, bans,
 * expiry, purge, single-flight, and header-only refusal of oversized sources.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { animation, flat, pngHeaderOnly, quadrants } from '../../../test/helpers/images';
import { seedFile, seedUser, setBanned, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { files } from '../files/table';
import { FILES_INVALIDATE_TOPIC, publishFileChange } from '../cache/lookup';
import { ObjectTooLargeError } from '../../storage/types';
import { signPayload } from './sign';
import { createApiKey } from '../keys/service';

/** Two signed-URL secrets (the first signs, both verify), as long as the configuration asks. */
const FIRST_SECRET = 'first-signing-secret-0123456789abcdef';
const SECOND_SECRET = 'second-signing-secret-0123456789abcdef';
const AVIF_ACCEPT = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';

/** Waits until `check` passes (bus messages arrive asynchronously; a loaded machine may take seconds). */
async function eventually(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await Bun.sleep(10);
  }
}

describe.each(DB_BACKENDS)('transform routes (%s)', (db) => {
  let h: TestApp;
  let owner: SeededUser;
  let admin: SeededUser;
  let photo: { id: string; sha256: string };
  let alpha: { id: string; sha256: string };
  let secret: { id: string; sha256: string };

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true', SIGNING_SECRETS: `${FIRST_SECRET},${SECOND_SECRET}`, JWT_SECRET: 'j'.repeat(40) } });
    owner = await seedUser(h.deps);
    admin = await seedUser(h.deps, { role: 'admin' });
    photo = await seedFile(h.deps, owner.id, await quadrants(400, 300).jpeg().toBuffer(), { contentType: 'image/jpeg' });
    alpha = await seedFile(h.deps, owner.id, await flat(50, 50, [10, 20, 30], 0.5).png().toBuffer());
    secret = await seedFile(h.deps, owner.id, await quadrants(100, 100).png().toBuffer(), { isPublic: false });
    await h.deps.delivery.lookup.ready;
  }, 60_000);
  afterAll(() => h.close());

  test('MISS, then HIT-MEMORY, with the documented headers', async () => {
    const first = await h.request(`/t/w_200,f_webp/${photo.id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('server-timing')).toMatch(/^transform;dur=\d+(\.\d)?$/);
    expect(first.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(first.headers.get('last-modified')).toBeTruthy();
    expect(first.headers.get('vary')).toBeNull();
    const body = Buffer.from(await first.arrayBuffer());
    expect(Number(first.headers.get('content-length'))).toBe(body.length);
    expect((await sharp(body).metadata()).width).toBe(200);

    const second = await h.request(`/t/f_webp,w_200/${photo.id}`); // same canonical form
    expect(second.headers.get('x-cache')).toBe('HIT-MEMORY');
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.headers.get('server-timing')).toBeNull();
    expect(Buffer.from(await second.arrayBuffer()).equals(body)).toBe(true);
    // The extension form is the same derivative too.
    expect((await h.request(`/t/w_200/${photo.id}.webp`)).headers.get('x-cache')).toBe('HIT-MEMORY');
  });

  test('If-None-Match → 304 before any work, even for a derivative never rendered', async () => {
    const pool = h.deps.delivery.pool;
    const first = await h.request(`/t/w_120,f_png/${photo.id}`);
    const etag = first.headers.get('etag') as string;
    const before = pool.stats().completed;
    const res = await h.request(`/t/w_120,f_png/${photo.id}`, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(etag);
    // A new variant: its ETag is known from the key, so a revalidation needs no render.
    const other = await h.request(`/t/w_121,f_png/${photo.id}`, { method: 'HEAD' });
    const otherEtag = other.headers.get('etag') as string;
    const count = pool.stats().completed;
    await h.deps.delivery.cache.purgeOriginal(photo.sha256);
    const reval = await h.request(`/t/w_121,f_png/${photo.id}`, { headers: { 'if-none-match': `W/"x", ${otherEtag}` } });
    expect(reval.status).toBe(304);
    expect(pool.stats().completed).toBe(count);
    expect(count).toBe(before + 1);
  });

  test('f_auto picks AVIF, WebP, JPEG or PNG by Accept and sends Vary: Accept', async () => {
    const cases: [string, string, string][] = [
      [photo.id, AVIF_ACCEPT, 'image/avif'],
      [photo.id, 'image/webp,*/*', 'image/webp'],
      [photo.id, 'image/*', 'image/jpeg'],
      [alpha.id, '*/*', 'image/png'],
    ];
    for (const [id, accept, type] of cases) {
      const res = await h.request(`/t/w_40/${id}`, { headers: { accept } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('vary')).toBe('Accept');
    }
  });

  test('signed URLs: valid 200 (private cache), one character changed 403, expired 410, second secret verifies', async () => {
    expect((await h.request(`/t/w_50/${secret.id}`)).status).toBe(404);
    const created = await h.request(`/api/files/${secret.id}/signed-url`, json('POST', { transformations: 'w_50,f_png', expires_in: 600 }, { 'x-api-key': owner.key }));
    expect(created.status).toBe(200);
    const { url, expires_at } = (await created.json()) as { url: string; expires_at: string };
    expect(url).toMatch(/^http:\/\/test\.local\/authenticated\/s--[A-Za-z0-9_-]{24}\/exp_\d+,f_png,w_50\//);
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(590_000);
    const path = new URL(url).pathname;
    const ok = await h.request(path);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toMatch(/^private, max-age=(59\d|600)$/);
    // A signed URL of a public file is as private and as short-lived (shared caches kept it as public).
    const ofPublic = await h.request(`/api/files/${photo.id}/signed-url`, json('POST', { transformations: 'w_51', expires_in: 600 }, { 'x-api-key': owner.key }));
    const publicSigned = await h.request(new URL(((await ofPublic.json()) as { url: string }).url).pathname);
    expect([publicSigned.status, publicSigned.headers.get('cache-control')]).toEqual([200, expect.stringMatching(/^private, max-age=(59\d|600)$/)]);

    const sig = path.split('/')[2] as string;
    const flipped = sig.slice(0, 5) + (sig[5] === 'A' ? 'B' : 'A') + sig.slice(6);
    const bad = await h.request(path.replace(sig, flipped));
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as { error: string }).error).toBe('INVALID_SIGNATURE');

    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = `exp_${past},w_50`;
    const expiredSig = signPayload(FIRST_SECRET, `${expired}/${secret.id}`);
    expect((await h.request(`/authenticated/s--${expiredSig}/${expired}/${secret.id}`)).status).toBe(410);

    const rotated = signPayload(SECOND_SECRET, `w_60/${secret.id}`);
    expect((await h.request(`/authenticated/s--${rotated}/w_60/${secret.id}`)).status).toBe(200);
    // Someone else's key cannot sign the owner's file.
    const other = await seedUser(h.deps);
    expect((await h.request(`/api/files/${secret.id}/signed-url`, json('POST', {}, { 'x-api-key': other.key }))).status).toBe(404);
    // An exp_ of the caller's was dropped and replaced by now + 1 h without a word: refused, pointing at expires_in.
    for (const transformations of ['w_800,exp_123', 'w_50/exp_9999999999,f_png']) {
      const own = await h.request(`/api/files/${secret.id}/signed-url`, json('POST', { transformations }, { 'x-api-key': owner.key }));
      expect(own.status).toBe(400);
      const body = (await own.json()) as { message: string };
      expect(body.message).toContain('expires_in');
    }
  });

  test('signed URLs for several files in one call: each one works; unknown, foreign and unfit files are listed in errors', async () => {
    const pdf = await seedFile(h.deps, owner.id, Buffer.from('%PDF-1.4\n%%EOF\n'), { contentType: 'application/pdf', isPublic: false });
    const other = await seedUser(h.deps);
    const theirs = await seedFile(h.deps, other.id, await quadrants(20, 20).png().toBuffer(), { isPublic: false });
    const sign = (body: object, key = owner.key) => h.request('/api/files/signed-urls', json('POST', body, { 'x-api-key': key }));
    const ids = [secret.id, photo.id, secret.id, 'nope1234567', theirs.id];
    const res = await sign({ ids, transformations: 'w_40,h_40,c_fill,f_png', expires_in: 600 });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { results: { id: string; url: string; expires_at: string }[]; errors: { id: string; error: string; message: string }[] };
    expect(out.results.map((r) => r.id)).toEqual([secret.id, photo.id]); // a repeat counts once
    expect(out.errors.map((e) => [e.id, e.error])).toEqual([['nope1234567', 'NOT_FOUND'], [theirs.id, 'NOT_FOUND']]);
    for (const r of out.results) {
      const img = await h.request(new URL(r.url).pathname);
      expect(img.status).toBe(200);
      expect((await sharp(Buffer.from(await img.arrayBuffer())).metadata()).width).toBe(40);
    }
    // The same options the single form takes; a PDF cannot take an image transformation, an image no video keys.
    const mixed = await sign({ ids: [secret.id, pdf.id], transformations: 'w_64.mp4' });
    const m = (await mixed.json()) as { results: unknown[]; errors: { id: string; error: string }[] };
    expect(m.errors.map((e) => [e.id, e.error])).toEqual([[secret.id, 'INVALID_TRANSFORMATION'], [pdf.id, 'INVALID_TRANSFORMATION']]);
    const originals = (await (await sign({ ids: [pdf.id] })).json()) as { results: { url: string; download_url: string }[] };
    expect(originals.results[0]!.download_url).toContain('/d/s--');
    // What no file could take is a 400 for the whole call; an admin may sign anyone's file.
    expect((await sign({ ids: [secret.id], transformations: 'w_abc' })).status).toBe(400);
    expect((await sign({ ids: [secret.id], transformations: 'w_40', original: true })).status).toBe(400);
    expect((await sign({ ids: [] })).status).toBe(400);
    expect((await sign({ ids: Array.from({ length: 101 }, (_, i) => `id${i}`) })).status).toBe(400);
    const byAdmin = (await (await sign({ ids: [theirs.id] }, admin.key)).json()) as { results: unknown[] };
    expect(byAdmin.results).toHaveLength(1);
  });

  test('an admin\'s key without the admin scope acts as a user: it signs and purges its own files only', async () => {
    // It signed any account's private original (a `transform:sign` key handed to CI) and purged any file's derivatives.
    const { key } = await createApiKey(h.deps.db, admin.id, { scopes: ['transform:sign', 'cache:write'] });
    const mine = await seedFile(h.deps, admin.id, await quadrants(20, 20).png().toBuffer(), { isPublic: false });
    const headers = { 'x-api-key': key };
    const one = await h.request(`/api/files/${secret.id}/signed-url`, json('POST', { original: true }, headers));
    expect([one.status, ((await one.json()) as { error: string }).error]).toEqual([404, 'NOT_FOUND']);
    const many = await h.request('/api/files/signed-urls', json('POST', { ids: [secret.id, mine.id] }, headers));
    const out = (await many.json()) as { results: { id: string }[]; errors: { id: string; error: string }[] };
    expect([out.results.map((r) => r.id), out.errors.map((e) => [e.id, e.error])]).toEqual([[mine.id], [[secret.id, 'NOT_FOUND']]]);
    expect((await h.request(`/api/cache/${secret.id}`, { method: 'DELETE', headers })).status).toBe(404);
    expect((await h.request(`/api/cache/${mine.id}`, { method: 'DELETE', headers })).status).toBe(200);
    // With the admin scope, the same admin may (and is audited: the batch test above).
    expect((await h.request(`/api/files/${secret.id}/signed-url`, json('POST', { original: true }, { 'x-api-key': admin.key }))).status).toBe(200);
  });

  test('an expired file is not signed: 410 alone, GONE in a batch (a URL that could only answer 410 was made)', async () => {
    const old = await seedFile(h.deps, owner.id, await quadrants(20, 20).png().toBuffer(), { isPublic: false, expiresAt: new Date(Date.now() - 1000) });
    const one = await h.request(`/api/files/${old.id}/signed-url`, json('POST', { transformations: 'w_10' }, { 'x-api-key': owner.key }));
    expect([one.status, ((await one.json()) as { error: string }).error]).toEqual([410, 'GONE']);
    const many = await h.request('/api/files/signed-urls', json('POST', { ids: [old.id, secret.id] }, { 'x-api-key': owner.key }));
    const out = (await many.json()) as { results: { id: string }[]; errors: { id: string; error: string }[] };
    expect([out.results.map((r) => r.id), out.errors.map((e) => [e.id, e.error])]).toEqual([[secret.id], [[old.id, 'GONE']]]);
  });

  test('exp_ on an unsigned URL is refused (400), even when the derivative is cached', async () => {
    expect((await h.request(`/t/w_70,f_webp/${photo.id}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await h.request(`/t/exp_4102444800,w_70,f_webp/${photo.id}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; details: { parameter: string } };
      expect(body.error).toBe('INVALID_TRANSFORMATION');
      expect(body.details.parameter).toBe('exp');
    }
  });

  test('a file segment that is no file id answers 404, not a word on the extension', async () => {
    // `..%2f<id>` was read as the id "." with the extension "%2f<id>": 400 naming `ext`.
    for (const file of [`..%2f${photo.id}`, `..%2F${photo.id}.png`, 'ab.png', `${photo.id}$.png`]) {
      const res = await h.request(`/t/w_70/${file}`);
      expect({ file, status: res.status, error: ((await res.json()) as { error: string }).error }).toEqual({ file, status: 404, error: 'NOT_FOUND' });
    }
    expect((await h.request(`/t/w_70/${photo.id}.png`)).status).toBe(200);
  });

  test('a trailing slash is the same URL, signed or not (the file id was read as a transformation: "unknown key")', async () => {
    const plain = await h.request(`/t/w_71/${photo.id}`);
    expect(plain.status).toBe(200);
    const slashed = await h.request(`/t/w_71/${photo.id}/`);
    expect([slashed.status, slashed.headers.get('etag')]).toEqual([200, plain.headers.get('etag')]);
    const created = await h.request(`/api/files/${secret.id}/signed-url`, json('POST', { transformations: 'w_52', expires_in: 600 }, { 'x-api-key': owner.key }));
    const { url } = (await created.json()) as { url: string };
    const path = new URL(url).pathname;
    expect((await h.request(path)).status).toBe(200);
    expect((await h.request(`${path}/`)).status).toBe(200);
  });

  test('visibility change and ban are honoured at once; expired files answer 410', async () => {
    const file = await seedFile(h.deps, owner.id, await quadrants(60, 60).png().toBuffer());
    expect((await h.request(`/t/w_30/${file.id}`)).status).toBe(200);
    await h.deps.db.update(files).set({ isPublic: false }).where(eq(files.id, file.id));
    await h.deps.bus.publish(FILES_INVALIDATE_TOPIC, JSON.stringify({ id: file.id }));
    await eventually(async () => (await h.request(`/t/w_30/${file.id}`)).status === 404);

    const banned = await seedUser(h.deps);
    const theirs = await seedFile(h.deps, banned.id, await quadrants(60, 60).png().toBuffer());
    expect((await h.request(`/t/w_30/${theirs.id}`)).status).toBe(200);
    await setBanned(h.deps, banned.id, true);
    await h.deps.bus.publish('auth_invalidate', JSON.stringify({ kind: 'user', id: banned.id }));
    await eventually(async () => (await h.request(`/t/w_30/${theirs.id}`)).status === 404);

    const old = await seedFile(h.deps, owner.id, await quadrants(60, 60).png().toBuffer(), { expiresAt: new Date(Date.now() - 1000) });
    expect((await h.request(`/t/w_30/${old.id}`)).status).toBe(410);
  });

  test('DELETE /api/cache/:id drops the derivatives (next request MISS); stats need admin', async () => {
    await h.request(`/t/w_77,f_webp/${photo.id}`);
    expect((await h.request(`/t/w_77,f_webp/${photo.id}`)).headers.get('x-cache')).toBe('HIT-MEMORY');
    const del = await h.request(`/api/cache/${photo.id}`, { method: 'DELETE', headers: { 'x-api-key': owner.key } });
    expect(del.status).toBe(200);
    expect(((await del.json()) as { invalidated: number }).invalidated).toBeGreaterThanOrEqual(1);
    expect((await h.request(`/t/w_77,f_webp/${photo.id}`)).headers.get('x-cache')).toBe('MISS');

    expect((await h.request('/api/cache/stats', { headers: { 'x-api-key': owner.key } })).status).toBe(403);
    const stats = await h.request('/api/cache/stats', { headers: { 'x-api-key': admin.key } });
    expect(stats.status).toBe(200);
    const body = (await stats.json()) as { memory: { items: number; bytes: number; max_bytes: number }; transforms: { rejected: number } };
    expect(body.memory.items).toBeGreaterThan(0);
    expect(body.memory.max_bytes).toBe(h.deps.config.cacheMemoryBytes);
    expect(body.transforms.rejected).toBe(0);
  });

  test('100 concurrent identical cold requests run the transform once', async () => {
    const pool = h.deps.delivery.pool;
    const before = pool.stats().completed;
    const responses = await Promise.all(Array.from({ length: 100 }, () => h.request(`/t/w_333,f_webp,e_grayscale/${photo.id}`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(pool.stats().completed - before).toBe(1);
    expect(h.deps.usage.pendingOf(owner.id).imageOps).toBeGreaterThan(0);
  });

  test('oversized, over-animated and non-image sources answer 400', async () => {
    const bomb = await seedFile(h.deps, owner.id, pngHeaderOnly(30000, 30000));
    const gif = await seedFile(h.deps, owner.id, await animation('gif', 301, 8, 8), { contentType: 'image/gif' });
    const text = await seedFile(h.deps, owner.id, Buffer.from('plain text'), { contentType: 'text/plain' });
    for (const id of [bomb.id, gif.id, text.id]) {
      // The bomb has no pixel data at all: only the header check can answer it with a clean 400.
      const res = await h.request(`/t/w_100/${id}`, { headers: { accept: 'image/webp' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('INVALID_TRANSFORMATION');
    }
    const typo = await h.request(`/t/w_100,zoom_2/${photo.id}`);
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { details: { parameter: string } }).details.parameter).toBe('zoom');
  });
});

describe('TRANSFORM_POLICY=presets', () => {
  let h: TestApp;
  afterAll(() => h.close());

  test('unsigned URLs may use presets, f_auto and dpr only', async () => {
    h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true', TRANSFORM_POLICY: 'presets' } });
    const user = await seedUser(h.deps);
    const file = await seedFile(h.deps, user.id, await quadrants(300, 300).png().toBuffer());
    expect((await h.request(`/t/t_thumb,dpr_2,f_auto/${file.id}`)).status).toBe(200);
    const res = await h.request(`/t/w_100/${file.id}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe('INVALID_SIGNATURE');
    // An extension chooses the format as f_png would (it gave a full-size PNG render unsigned).
    expect((await h.request(`/t/dpr_4/${file.id}.png`)).status).toBe(403);
    expect((await h.request(`/t/t_thumb/${file.id}.webp`)).status).toBe(403);
    expect((await h.request(`/t/t_thumb/${file.id}`)).status).toBe(200);
  }, 60_000);
});

describe.each(DB_BACKENDS)('source cache (%s)', (db) => {
  /**
   * The app's storage with its whole-object reads counted (the real driver underneath);
   * `counted.fail`, when set, answers the next read instead of the driver (a storage fault).
   */
  async function appWith(env: Record<string, string>) {
    const h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true', ...env } });
    const read = h.deps.storage.read.bind(h.deps.storage);
    const counted: { reads: number; fail?: () => Promise<Uint8Array | null> } = { reads: 0 };
    h.deps.storage.read = (key, max) => {
      counted.reads++;
      const fail = counted.fail;
      counted.fail = undefined;
      return fail ? fail() : read(key, max);
    };
    const owner = await seedUser(h.deps);
    const bytes = await quadrants(300, 200).jpeg().toBuffer();
    const file = await seedFile(h.deps, owner.id, bytes, { contentType: 'image/jpeg' });
    await h.deps.delivery.lookup.ready;
    return { h, owner, file, size: bytes.length, counted };
  }

  test('several sizes of one original read storage once; with SOURCE_CACHE_BYTES=0, once per render', async () => {
    const on = await appWith({});
    const off = await appWith({ SOURCE_CACHE_BYTES: '0' });
    try {
      for (const w of [40, 80, 120]) {
        for (const app of [on, off]) {
          const res = await app.h.request(`/t/w_${w},f_webp/${app.file.id}`);
          expect(res.headers.get('x-cache')).toBe('MISS');
          expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(w);
        }
      }
      expect(on.counted.reads).toBe(1);
      expect(off.counted.reads).toBe(3);
      expect(on.h.deps.delivery.sources.has(on.file.sha256)).toBe(true);
    } finally {
      await on.h.close();
      await off.h.close();
    }
  }, 60_000);

  test('an original over a quarter of the budget is not kept', async () => {
    const { h, file, size, counted } = await appWith({ SOURCE_CACHE_BYTES: '4KiB' });
    try {
      // Over a quarter of 4 KiB, yet small enough that the LRU alone would keep it.
      expect(size).toBeGreaterThan(1024);
      expect(size).toBeLessThan(4096);
      for (const w of [40, 80]) expect((await h.request(`/t/w_${w},f_webp/${file.id}`)).status).toBe(200);
      expect(counted.reads).toBe(2);
      expect(h.deps.delivery.sources.has(file.sha256)).toBe(false);
    } finally {
      await h.close();
    }
  }, 60_000);

  test('a source that cannot be read: missing → 404, over the cap → 400, a storage fault → 500; nothing kept', async () => {
    const { h, file, counted } = await appWith({});
    const url = `/t/w_60,f_webp/${file.id}`;
    const refused = async (fail: () => Promise<Uint8Array | null>, status: number, error: string) => {
      counted.fail = fail;
      const res = await h.request(url);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toBe(error);
      expect(h.deps.delivery.sources.has(file.sha256)).toBe(false);
    };
    try {
      await refused(async () => null, 404, 'NOT_FOUND');
      await refused(() => Promise.reject(new ObjectTooLargeError(1)), 400, 'INVALID_TRANSFORMATION');
      await refused(() => Promise.reject(new Error('disk gone')), 500, 'INTERNAL_ERROR');
      // The next read works again: rendered now, not an error remembered.
      const ok = await h.request(url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-cache')).toBe('MISS');
      expect(counted.reads).toBe(4);
    } finally {
      await h.close();
    }
  }, 60_000);

  test('purging the bytes of a deleted file (what the purge job announces) drops its original', async () => {
    const { h, file } = await appWith({});
    try {
      expect((await h.request(`/t/w_50,f_webp/${file.id}`)).status).toBe(200);
      const delivery = h.deps.delivery;
      expect(delivery.sources.has(file.sha256)).toBe(true);
      await publishFileChange(h.deps, { id: file.id, sha256: file.sha256, purge: true });
      await eventually(async () => !delivery.sources.has(file.sha256));
    } finally {
      await h.close();
    }
  }, 60_000);
});
