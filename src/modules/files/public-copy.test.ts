/**
 * Photos stored before public copies existed (rows without `public_sha256`, as `seedFile`
 * writes them): the first `/i`, `/d` or signed original request makes and records the copy
 * before serving a byte, so an upgrade does not leave old photos' locations public.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { exifOf, hasRawLatitude, photoWithGps } from '../../../test/helpers/gps';
import { seedFile, seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { signOriginal } from '../delivery/private';
import { files } from './table';

describe.each(DB_BACKENDS)('public copies of photos stored before them, on %s', (db) => {
  let h: TestApp;
  let u: SeededUser;

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true' } });
    u = await seedUser(h.deps);
  }, 30_000);
  afterAll(() => h.close());

  const row = async (id: string) => (await h.deps.db.select().from(files).where(eq(files.id, id)))[0]!;

  test('the first /i request makes the copy, records it and serves it; /d and a signed original follow', async () => {
    const photo = await photoWithGps('jpeg');
    const f = await seedFile(h.deps, u.id, photo, { contentType: 'image/jpeg' });
    expect((await row(f.id)).publicSha256).toBeNull();

    const first = await h.request(`/i/${f.id}.jpg`);
    expect(first.status).toBe(200);
    const body = Buffer.from(await first.arrayBuffer());
    expect(hasRawLatitude(body)).toBe(false);
    expect((await exifOf(body, 'jpeg'))?.Image?.Make).toBe('PictorCam');
    const recorded = await row(f.id);
    expect(recorded.publicStorageKey).toBe(`${recorded.storageKey}.public`);
    expect(first.headers.get('etag')).toBe(`"${recorded.publicSha256}"`);

    const d = await h.request(`/d/${f.id}`);
    expect(Buffer.from(await d.arrayBuffer()).equals(body)).toBe(true);
    const signed = signOriginal(h.deps.secrets.signingSecrets[0] as string, `${f.id}.jpg`, Math.floor(Date.now() / 1000) + 60);
    expect(Buffer.from(await (await h.request(signed.path)).arrayBuffer()).equals(body)).toBe(true);
  });

  test('a photo without GPS is marked checked and served as stored', async () => {
    const plain = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#345' } }).withExif({ IFD0: { Make: 'NoGps' } }).png().toBuffer();
    const f = await seedFile(h.deps, u.id, plain, { contentType: 'image/png' });
    const res = await h.request(`/i/${f.id}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(plain)).toBe(true);
    const r = await row(f.id);
    expect(r.publicSha256).toBe(f.sha256);
    expect(r.publicStorageKey).toBeNull();
  });
});
