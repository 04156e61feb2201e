/**
 * Location privacy and access to originals over real HTTP (issue #26 points 2 and 3), on local
 * disk and on a real MinIO (the GPS check reads the stored original through ranged GETs):
 *
 * - `/i`, `/d` and signed original URLs serve photos without GPS (JPEG, PNG, WebP, AVIF, TIFF);
 *   the owner's `GET /api/files/:id/original` serves the byte-exact original, GPS included.
 * - `/api/files/:id/metadata` shows GPS to the owner only.
 * - A private PDF: 404 on `/i` and `/d`, fetched through a signed URL and by its owner (API key,
 *   bearer, cookie); others get 404, a forged or expired signature 403/410.
 * - The public copy is not counted in the quota and is purged with the file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, createHmac } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { cookiesOf } from '../helpers/client';
import { CONTENT_TYPE, exifOf, GPS_FORMATS, hasRawLatitude, photoWithGps, xmpOf } from '../helpers/gps';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';

const SECRET = 'privacy-test-signing-secret-0123456789';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

interface FileJson { id: string; sha256: string; size: number; url: string; download_url: string }

let minio: Minio | undefined;
afterAll(() => minio?.stop());

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe.each(['fs', 's3'] as const)('location privacy and originals on %s', (driver) => {
  let srv: RunningServer;
  let key: string;
  let bucket = '';
  const owner = () => ({ authorization: `Bearer ${key}` });
  /** The server's own address for a URL built from PUBLIC_URL. */
  const local = (u: string) => srv.url + new URL(u).pathname;
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  };
  async function upload(bytes: Buffer, contentType: string, query = ''): Promise<FileJson> {
    const res = await fetch(`${srv.url}/api/files${query}`, { method: 'POST', body: new Uint8Array(bytes), headers: { ...owner(), 'content-type': contentType } });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { file: FileJson }).file;
  }
  async function signUp(tag: string) {
    const res = await fetch(`${srv.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${tag}-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { session: { access_token: string } };
    return { bearer: body.session.access_token, cookie: cookiesOf(res.headers).header };
  }
  const signedUrl = async (id: string, body: Record<string, unknown>) => {
    const res = await fetch(`${srv.url}/api/files/${id}/signed-url`, { method: 'POST', headers: { ...owner(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as { url: string; download_url?: string; expires_at: string };
  };
  /** Stored objects (fs: outside the temp folder; s3: every key). */
  const objects = async (): Promise<string[]> => {
    if (driver === 's3') return ((await minio!.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key ?? '');
    const root = join(srv.dataDir, 'files');
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(root, '.tmp'))).map((e) => join(e.parentPath, e.name));
  };

  beforeAll(async () => {
    let env: Record<string, string> = { DISABLE_RATE_LIMIT: 'true', SIGNING_SECRETS: SECRET };
    if (driver === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
    srv = await startServer({ env });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(() => srv?.close());

  test.each(GPS_FORMATS)('%s: /i, /d and the signed original carry no GPS; the owner gets the byte-exact original', async (format) => {
    const original = await photoWithGps(format);
    expect((await exifOf(original, format))?.GPSInfo?.GPSLatitude).toEqual([48, 51, 29.64]);
    const f = await upload(original, CONTENT_TYPE[format]);
    expect(f.sha256).toBe(sha(original));

    const check = async (url: string) => {
      const { res, body } = await get(url);
      expect(res.status).toBe(200);
      expect(body.length).toBe(original.length);
      expect(hasRawLatitude(body)).toBe(false);
      const exif = await exifOf(body, format);
      expect(exif?.GPSInfo).toBeUndefined();
      expect(exif?.Image?.Make).toBe('PictorCam'); // only the location is removed
      expect(body.includes('GPSLatitude')).toBe(false); // nor in XMP
      expect((await xmpOf(body)) ?? '').not.toContain('GPS');
      expect(res.headers.get('etag')).toBe(`"${sha(body)}"`);
      expect(res.headers.get('etag')).not.toBe(`"${f.sha256}"`);
    };
    // Public delivery first (this is where the location leaked), then the signed original.
    await check(local(f.url));
    await check(local(f.download_url));
    const signed = await signedUrl(f.id, { original: true });
    expect(new URL(signed.url).pathname).toMatch(new RegExp(`^/i/s--[A-Za-z0-9_-]{24}/exp_\\d+/${f.id}\\.`));
    await check(local(signed.url));
    await check(local(signed.download_url!));

    // Derivatives carry no EXIF at all.
    const derived = await get(`${srv.url}/t/w_10,f_jpeg/${f.id}`);
    expect(derived.res.status).toBe(200);
    expect(hasRawLatitude(derived.body)).toBe(false);
    expect((await exifOf(derived.body, 'jpeg'))?.GPSInfo).toBeUndefined();

    const mine = await get(`${srv.url}/api/files/${f.id}/original`, owner());
    expect(mine.res.status).toBe(200);
    expect(mine.body.equals(original)).toBe(true);
    expect(mine.res.headers.get('etag')).toBe(`"${f.sha256}"`);
    expect(mine.res.headers.get('cache-control')).toBe('private, no-cache');
    expect((await exifOf(mine.body, format))?.GPSInfo?.GPSLongitude).toEqual([2, 17, 40.08]);
    expect(await xmpOf(mine.body)).toContain('exif:GPSLatitude="48,51.494N"');
  });

  test('a photo without GPS is served as uploaded everywhere, with ETag = sha256', async () => {
    const plain = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).withExif({ IFD0: { Make: 'NoGps' } }).jpeg().toBuffer();
    const f = await upload(plain, 'image/jpeg');
    const { res, body } = await get(local(f.url));
    expect(body.equals(plain)).toBe(true);
    expect(res.headers.get('etag')).toBe(`"${f.sha256}"`);
  });

  test('metadata: GPS for the owner only; another account gets 404 and no original', async () => {
    const f = await upload(await photoWithGps('jpeg'), 'image/jpeg');
    const meta = await fetch(`${srv.url}/api/files/${f.id}/metadata`, { headers: owner() });
    expect(meta.status).toBe(200);
    const m = (await meta.json()) as { exif: Record<string, unknown> & { GPSInfo?: { GPSLatitude?: number[] } } };
    expect(m.exif.GPSInfo?.GPSLatitude).toEqual([48, 51, 29.64]);
    expect(m.exif.Make).toBe('PictorCam');

    const other = await signUp('meta-other');
    const theirs = await fetch(`${srv.url}/api/files/${f.id}/metadata`, { headers: { authorization: `Bearer ${other.bearer}` } });
    expect(theirs.status).toBe(404);
    expect(JSON.stringify(await theirs.json())).not.toContain('GPS');
    expect((await fetch(`${srv.url}/api/files/${f.id}/original`, { headers: { authorization: `Bearer ${other.bearer}` } })).status).toBe(404);
    expect((await fetch(`${srv.url}/api/files/${f.id}/original`)).status).toBe(401);
  });

  test('a private PDF: 404 publicly, served through a signed URL and to its owner with any credential', async () => {
    const f = await upload(PDF, 'application/pdf', '?is_public=false');
    expect((await fetch(local(f.url))).status).toBe(404);
    expect((await fetch(local(f.download_url))).status).toBe(404);

    // No transformations: a file /t cannot render is signed as its original.
    const signed = await signedUrl(f.id, {});
    for (const url of [signed.url, signed.download_url!]) {
      const { res, body } = await get(local(url));
      expect(res.status).toBe(200);
      expect(body.equals(PDF)).toBe(true);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-disposition')).toStartWith('attachment');
      expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    }
    const ranged = await fetch(local(signed.url), { headers: { range: 'bytes=0-3' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('%PDF');

    const cookieUser = await signUp('pdf-owner');
    const own = await fetch(`${srv.url}/api/files`, {
      method: 'POST', body: new Blob([PDF]), headers: { authorization: `Bearer ${cookieUser.bearer}`, 'content-type': 'application/pdf', 'x-file-name': 'own.pdf' },
    });
    const mineId = ((await own.json()) as { file: FileJson }).file.id;
    for (const headers of [{ cookie: cookieUser.cookie }, { authorization: `Bearer ${cookieUser.bearer}` }] as Record<string, string>[]) {
      const { res, body } = await get(`${srv.url}/api/files/${mineId}/original`, headers);
      expect(res.status).toBe(200);
      expect(body.equals(PDF)).toBe(true);
      expect(res.headers.get('content-disposition')).toContain('own.pdf');
    }
    for (const headers of [{ 'x-api-key': key }, owner()]) {
      expect((await get(`${srv.url}/api/files/${f.id}/original`, headers)).body.equals(PDF)).toBe(true);
    }
    // Someone else's credentials: the file does not exist for them.
    expect((await fetch(`${srv.url}/api/files/${f.id}/original`, { headers: { cookie: cookieUser.cookie } })).status).toBe(404);
  });

  test('signed originals: the §6.3 scheme over `i/exp_<t>/<file>`; forged → 403, past exp → 410, unknown parameter → 400', async () => {
    const f = await upload(PDF, 'application/pdf', '?is_public=false');
    const sign = (payload: string) => createHmac('sha256', SECRET).update(payload).digest('base64url').slice(0, 24);
    const file = `${f.id}.pdf`;
    const future = Math.floor(Date.now() / 1000) + 600;
    const ok = await fetch(`${srv.url}/d/s--${sign(`i/exp_${future}/${file}`)}/exp_${future}/${file}`);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(PDF)).toBe(true);

    const forged = await fetch(`${srv.url}/i/s--${sign(`i/exp_${future + 1}/${file}`)}/exp_${future}/${file}`);
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: string }).error).toBe('INVALID_SIGNATURE');
    // A transformation signature over the same string is not an original's.
    expect((await fetch(`${srv.url}/i/s--${sign(`exp_${future}/${file}`)}/exp_${future}/${file}`)).status).toBe(403);
    const past = Math.floor(Date.now() / 1000) - 10;
    expect((await fetch(`${srv.url}/i/s--${sign(`i/exp_${past}/${file}`)}/exp_${past}/${file}`)).status).toBe(410);
    const bad = await fetch(`${srv.url}/i/s--${sign(`i/w_10/${file}`)}/w_10/${file}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
    // An image signed with transformations still gets the /authenticated form.
    const img = await upload(await photoWithGps('png'), 'image/png', '?is_public=false');
    const tr = await signedUrl(img.id, { transformations: 'w_8' });
    expect(new URL(tr.url).pathname).toStartWith('/authenticated/s--');
    expect(tr.download_url).toBeUndefined();
  });

  test('the public copy is not counted in the quota and is purged with the file', async () => {
    // Its own size: the same bytes as an earlier test's photo would share that upload's objects (de-duplication).
    const photo = await photoWithGps('webp', 26, 18);
    const usage = async () => ((await (await fetch(`${srv.url}/api/usage`, { headers: owner() })).json()) as { storage_bytes: number }).storage_bytes;
    const before = await usage();
    const objectsBefore = (await objects()).length;
    const f = await upload(photo, 'image/webp');
    expect(await usage()).toBe(before + photo.length);
    const mineNow = (await objects()).filter((k) => k.includes(f.id));
    expect(mineNow.length).toBe(2); // the original and its public copy
    expect((await objects()).length).toBe(objectsBefore + 2);
    expect((await fetch(`${srv.url}/api/files/${f.id}`, { method: 'DELETE', headers: owner() })).status).toBe(204);
    expect((await fetch(local(f.url))).status).toBe(404);
    await until('both objects purged', async () => (await objects()).filter((k) => k.includes(f.id)).length === 0);
  });
});
