/**
 * Account settings take effect, and upload fields are not dropped (issue #26 points 1 and 4),
 * end to end over real HTTP against a started server:
 * - `max_upload_size_bytes` limits multipart, raw and presigned uploads (min(setting, plan));
 * - `public_url_base` builds file objects, list pages, signed URLs and presign results;
 * - `default_is_public` / `default_expires_in` apply when the upload does not say;
 * - several files take per-file `name` fields, by order;
 * - `transformations` at upload are rendered by the `derive` job (then a cache hit); an
 *   invalid one is refused with nothing stored.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';

interface FileJson {
  id: string; name: string; sha256: string; size: number; is_public: boolean; expires_at: string | null;
  url: string; download_url: string; transform_url: string;
}
interface ErrorJson { error: string; message: string; details: Record<string, unknown> }

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const png = (w = 24, h = 16, background = '#3366cc') => sharp({ create: { width: w, height: h, channels: 3, background } }).png().toBuffer();
/** A PNG of noise of about 200 KB (noise does not compress). */
const noisePng = () => sharp(randomBytes(260 * 260 * 3), { raw: { width: 260, height: 260, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();

describe('account settings and upload fields take effect', () => {
  let srv: RunningServer;
  let key: string;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
  const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const setSettings = async (patch: Record<string, unknown>) => {
    const r = await api('/api/settings', { method: 'PATCH', ...json(patch) });
    expect(r.status).toBe(200);
    return r.json() as Promise<Record<string, unknown>>;
  };
  /** The server's own address for a URL built from a base the test does not serve. */
  const local = (u: string) => srv.url + new URL(u).pathname;
  const count = async () => ((await (await api('/api/files?limit=1')).json()) as { count: number }).count;
  /** Stored objects outside the fs driver's temp dir. */
  const objects = async () => {
    const root = join(srv.dataDir, 'files');
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(root, '.tmp'))).length;
  };
  const multipart = (fields: [string, string | { bytes: Buffer; filename: string }][]) => {
    const form = new FormData();
    for (const [k, v] of fields) {
      if (typeof v === 'string') form.append(k, v);
      else form.append(k, new Blob([new Uint8Array(v.bytes)], { type: 'image/png' }), v.filename);
    }
    return form;
  };
  const presignedUrl = async (body: Record<string, unknown> = {}) => {
    const r = await api('/api/uploads/presign', { method: 'POST', ...json(body) });
    expect(r.status).toBe(201);
    return ((await r.json()) as { url: string }).url;
  };

  beforeAll(async () => {
    // A small plan limit proves the setting is capped by it; the queue renders derive jobs.
    srv = await startServer({ env: { MAX_UPLOAD_BYTES: '4MiB', PROMOTED_MAX_UPLOAD_BYTES: '4MiB', DISABLE_RATE_LIMIT: 'true' } });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(() => srv?.close());
  // Each test starts from the defaults, whatever the one before left.
  beforeEach(() => setSettings({ public_url_base: null, max_upload_size_bytes: 4 * 1024 * 1024, default_is_public: true, default_expires_in: null }));

  test('max_upload_size_bytes: a 200 KB file is refused under a 1000-byte setting on multipart, raw and presigned uploads', async () => {
    const big = await noisePng();
    expect(big.length).toBeGreaterThan(200_000);
    await setSettings({ max_upload_size_bytes: 1000 });
    const before = { files: await count(), objects: await objects() };
    const refused = async (res: Response) => {
      expect(res.status).toBe(413);
      const body = (await res.json()) as ErrorJson;
      expect(body.error).toBe('FILE_TOO_LARGE');
      expect(body.details.max_bytes).toBe(1000);
    };
    await refused(await api('/api/files', { method: 'POST', body: multipart([['file', { bytes: big, filename: 'big.png' }]]) }));
    await refused(await api('/api/files', { method: 'POST', body: big, headers: { 'content-type': 'image/png' } }));
    // Streamed without Content-Length: refused while reading, not only from the header.
    const stream = new Blob([new Uint8Array(big)]).stream();
    await refused(await api('/api/files', { method: 'POST', body: stream, headers: { 'content-type': 'image/png' }, duplex: 'half' } as RequestInit));
    await refused(await fetch(local(await presignedUrl()), { method: 'POST', body: big, headers: { 'content-type': 'image/png' } }));
    await refused(await fetch(local(await presignedUrl()), { method: 'POST', body: multipart([['file', { bytes: big, filename: 'big.png' }]]) }));
    // A multipart body longer than 20 files at the limit could be is refused unread, and max_bytes is still the
    // per-file limit (it was that request bound: 1 068 576 here, so its value depended on the body's size).
    const huge = await api('/api/files', { method: 'POST', body: multipart([['file', { bytes: Buffer.concat(Array(6).fill(big)), filename: 'huge.png' }]]) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({
      error: 'FILE_TOO_LARGE', message: expect.stringMatching(/^The request declares \d+ bytes, more than 20 files at your upload limit of 1000 bytes each can fill\.$/),
      details: { max_bytes: 1000, max_files: 20, max_request_bytes: 1000 * 20 + 1024 * 1024 },
    });
    const streamed = await api('/api/files', { method: 'POST', body: big, headers: { 'content-type': 'image/png' } });
    expect(((await streamed.json()) as ErrorJson).message).toBe('The file is larger than your upload limit of 1000 bytes.');
    expect({ files: await count(), objects: await objects() }).toEqual(before);

    // A small file still fits, and the same big file passes once the setting allows it.
    const small = await png(4, 4);
    expect(small.length).toBeLessThan(1000);
    expect((await api('/api/files', { method: 'POST', body: small, headers: { 'content-type': 'image/png' } })).status).toBe(201);
    await setSettings({ max_upload_size_bytes: 1024 * 1024 });
    expect((await api('/api/files', { method: 'POST', body: big, headers: { 'content-type': 'image/png' } })).status).toBe(201);
    expect((await fetch(local(await presignedUrl()), { method: 'POST', body: big, headers: { 'content-type': 'image/png' } })).status).toBe(201);
    // The presign's own max_size narrows it further.
    await refused(await fetch(local(await presignedUrl({ max_size: 1000 })), { method: 'POST', body: big, headers: { 'content-type': 'image/png' } }));
    await setSettings({ max_upload_size_bytes: 4 * 1024 * 1024 });
  }, 60_000);

  test('public_url_base builds every URL: upload results, GET, PATCH, list pages, signed URLs, presign results', async () => {
    const base = 'https://cdn.example.com/media';
    await setSettings({ public_url_base: base });
    const one = await api('/api/files', { method: 'POST', body: multipart([['file', { bytes: await png(), filename: 'a.png' }]]) });
    expect(one.status).toBe(201);
    const file = ((await one.json()) as { file: FileJson }).file;
    const expectBase = (f: FileJson) => {
      expect(f.url).toBe(`${base}/i/${f.id}.png`);
      expect(f.download_url).toBe(`${base}/d/${f.id}`);
      expect(f.transform_url).toBe(`${base}/t/{transformations}/${f.id}`);
    };
    expectBase(file);
    // The path under the base is the server's: the same path on the server serves the file.
    expect((await fetch(`${srv.url}/i/${file.id}.png`)).status).toBe(200);

    const raw = await api('/api/files', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expectBase(((await raw.json()) as { file: FileJson }).file);
    const many = await api('/api/files', { method: 'POST', body: multipart([['file', { bytes: await png(), filename: 'b.png' }], ['file', { bytes: await png(8, 8), filename: 'c.png' }]]) });
    const manyBody = (await many.json()) as { results: FileJson[] };
    expect(manyBody.results).toHaveLength(2);
    manyBody.results.forEach(expectBase);
    expectBase((await (await api(`/api/files/${file.id}`)).json()) as FileJson);
    expectBase((await (await api(`/api/files/${file.id}`, { method: 'PATCH', ...json({ name: 'renamed.png' }) })).json()) as FileJson);

    const page = (await (await api('/api/files?limit=200')).json()) as { results: FileJson[] };
    expect(page.results.length).toBeGreaterThan(3);
    page.results.forEach(expectBase);

    const signed = await api(`/api/files/${file.id}/signed-url`, { method: 'POST', ...json({ transformations: 'w_10,f_webp' }) });
    expect(signed.status).toBe(200);
    const signedUrl = ((await signed.json()) as { url: string }).url;
    expect(signedUrl.startsWith(`${base}/authenticated/s--`)).toBe(true);
    const underBase = (u: string) => srv.url + u.slice(base.length);
    expect((await fetch(underBase(signedUrl))).status).toBe(200);

    const presigned = await presignedUrl();
    expect(presigned.startsWith(`${base}/api/uploads/`)).toBe(true);
    const viaPresign = await fetch(underBase(presigned), { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(viaPresign.status).toBe(201);
    expectBase(((await viaPresign.json()) as { file: FileJson }).file);

    // Back to PUBLIC_URL once the setting is cleared.
    await setSettings({ public_url_base: null });
    const after = (await (await api(`/api/files/${file.id}`)).json()) as FileJson;
    expect(after.url.startsWith(base)).toBe(false);
    expect(new URL(after.url).pathname).toBe(`/i/${file.id}.png`);
  }, 60_000);

  test('public_url_base with a bare ? or # is refused (it was taken and every URL became https://cdn.example.com/?/i/…)', async () => {
    for (const base of ['https://cdn.example.com/?', 'https://cdn.example.com/#', 'https://cdn.example.com/x?#']) {
      const r = await api('/api/settings', { method: 'PATCH', ...json({ public_url_base: base }) });
      const out = (await r.json()) as { error: string; details: { fields: { path: string }[] } };
      expect({ base, status: r.status, error: out.error, path: out.details.fields[0]?.path }).toEqual({ base, status: 400, error: 'VALIDATION_ERROR', path: '/public_url_base' });
    }
  });

  test('default_is_public and default_expires_in apply when the upload does not say; explicit values win', async () => {
    await setSettings({ default_is_public: false, default_expires_in: 3600 });
    const expiresAround = (f: FileJson, seconds: number, from: number, to: number) => {
      const at = Date.parse(f.expires_at ?? '');
      expect(at).toBeGreaterThanOrEqual(from + seconds * 1000 - 1000);
      expect(at).toBeLessThanOrEqual(to + seconds * 1000 + 1000);
    };

    let t0 = Date.now();
    const raw = ((await (await api('/api/files', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } })).json()) as { file: FileJson }).file;
    const form = ((await (await api('/api/files', { method: 'POST', body: multipart([['file', { bytes: await png(), filename: 'd.png' }]]) })).json()) as { file: FileJson }).file;
    const presignRes = await fetch(local(await presignedUrl()), { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(presignRes.status).toBe(201);
    const viaPresign = ((await presignRes.json()) as { file: FileJson }).file;
    let t1 = Date.now();
    for (const f of [raw, form, viaPresign]) {
      expect(f.is_public).toBe(false);
      expiresAround(f, 3600, t0, t1);
    }
    // Private by default: anonymous delivery does not serve it.
    expect((await fetch(`${srv.url}/i/${raw.id}.png`)).status).toBe(404);

    t0 = Date.now();
    const explicitRaw = ((await (await api('/api/files?is_public=true&expires_in=60', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } })).json()) as { file: FileJson }).file;
    const explicitForm = ((await (await api('/api/files', {
      method: 'POST', body: multipart([['is_public', 'true'], ['expires_in', '120'], ['file', { bytes: await png(), filename: 'e.png' }]]),
    })).json()) as { file: FileJson }).file;
    const explicitPresign = ((await (await fetch(local(await presignedUrl({ is_public: true })), {
      method: 'POST', body: await png(), headers: { 'content-type': 'image/png' },
    })).json()) as { file: FileJson }).file;
    t1 = Date.now();
    expect([explicitRaw.is_public, explicitForm.is_public, explicitPresign.is_public]).toEqual([true, true, true]);
    expiresAround(explicitRaw, 60, t0, t1);
    expiresAround(explicitForm, 120, t0, t1);
    expect((await fetch(`${srv.url}/i/${explicitRaw.id}.png`)).status).toBe(200);

    // expires_in=0 says "never", overriding default_expires_in; an is_public that is neither yes nor no is refused.
    const never = ((await (await api('/api/files?expires_in=0', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } })).json()) as { file: FileJson }).file;
    expect(never.expires_at).toBeNull();
    const neverForm = ((await (await api('/api/files', {
      method: 'POST', body: multipart([['expires_in', '0'], ['file', { bytes: await png(), filename: 'n.png' }]]),
    })).json()) as { file: FileJson }).file;
    expect(neverForm.expires_at).toBeNull();
    for (const res of [
      await api('/api/files?is_public=maybe', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } }),
      await api('/api/files', { method: 'POST', body: multipart([['is_public', 'maybe'], ['file', { bytes: await png(), filename: 'm.png' }]]) }),
    ]) {
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; details: { fields: { path: string }[] } };
      expect(body.error).toBe('VALIDATION_ERROR');
      expect(body.details.fields[0]?.path).toBe('/is_public');
    }

    await setSettings({ default_is_public: true, default_expires_in: null });
    const plain = ((await (await api('/api/files', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } })).json()) as { file: FileJson }).file;
    expect(plain.is_public).toBe(true);
    expect(plain.expires_at).toBeNull();
  }, 60_000);

  test('several files take per-file names: the n-th `name` field names the n-th file part', async () => {
    const [a, b, c] = await Promise.all([png(10, 10, '#ff0000'), png(11, 10, '#00ff00'), png(12, 10, '#0000ff')]);
    const res = await api('/api/files', {
      method: 'POST',
      body: multipart([
        ['name', 'first.png'],
        ['file', { bytes: a, filename: 'a.png' }],
        ['image', { bytes: b, filename: 'b.png' }],
        ['name', 'second.png'],
        ['file', { bytes: c, filename: 'c.png' }],
        ['name', 'third.png'], // names may come after the files
      ]),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { results: FileJson[]; count: number };
    expect(body.count).toBe(3);
    const nameOf = Object.fromEntries(body.results.map((f) => [f.sha256, f.name]));
    expect(nameOf).toEqual({ [sha(a)]: 'first.png', [sha(b)]: 'second.png', [sha(c)]: 'third.png' });

    // Without `name` fields each file keeps its part's filename.
    const own = (await (await api('/api/files', {
      method: 'POST', body: multipart([['file', { bytes: a, filename: 'own-a.png' }], ['file', { bytes: b, filename: 'own-b.png' }]]),
    })).json()) as { results: FileJson[] };
    expect(Object.fromEntries(own.results.map((f) => [f.sha256, f.name]))).toEqual({ [sha(a)]: 'own-a.png', [sha(b)]: 'own-b.png' });

    // Names that cannot be matched to the files are refused, and nothing is stored.
    const before = { files: await count(), objects: await objects() };
    const mismatch = await api('/api/files', {
      method: 'POST', body: multipart([['name', 'x.png'], ['name', 'y.png'], ['file', { bytes: a, filename: 'a.png' }], ['file', { bytes: b, filename: 'b.png' }], ['file', { bytes: c, filename: 'c.png' }]]),
    });
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as ErrorJson).error).toBe('VALIDATION_ERROR');
    expect({ files: await count(), objects: await objects() }).toEqual(before);
  }, 60_000);

  test('transformations at upload are rendered by the derive job (then a cache hit); an invalid one → 400 with nothing stored', async () => {
    const waitForDerive = async (fileId: string) => {
      for (;;) {
        const jobs = (await (await api('/api/queue/jobs?type=derive&limit=200')).json()) as { results: { file_id: string | null; status: string; last_error: string | null }[] };
        const job = jobs.results.find((j) => j.file_id === fileId);
        if (job?.status === 'failed' || job?.status === 'cancelled') throw new Error(`derive job ${job.status}: ${job.last_error}`);
        if (job?.status === 'completed') return;
        await Bun.sleep(100);
      }
    };
    const cacheOf = async (path: string) => {
      const r = await fetch(`${srv.url}${path}`);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      return r.headers.get('x-cache');
    };

    // Multipart: the field repeats, a value may hold several `|`-separated transformations.
    const form = await api('/api/files', {
      method: 'POST',
      body: multipart([['transformations', 'w_12,f_webp|h_6,f_png'], ['transformations', 'w_5,f_jpg'], ['file', { bytes: await png(40, 30), filename: 't.png' }]]),
    });
    expect(form.status).toBe(201);
    const f1 = ((await form.json()) as { file: FileJson }).file;
    await waitForDerive(f1.id);
    for (const segment of ['w_12,f_webp', 'h_6,f_png', 'w_5,f_jpg']) expect(await cacheOf(`/t/${segment}/${f1.id}`)).toStartWith('HIT-');
    // One not asked for is rendered on request: the hits above come from the upload.
    expect(await cacheOf(`/t/w_13,f_webp/${f1.id}`)).toBe('MISS');

    // Raw: `?transformations=` may repeat; each value keeps its commas.
    const raw = await api('/api/files?transformations=w_9,f_webp&transformations=w_7,f_png', { method: 'POST', body: await png(40, 30), headers: { 'content-type': 'image/png' } });
    expect(raw.status).toBe(201);
    const f2 = ((await raw.json()) as { file: FileJson }).file;
    await waitForDerive(f2.id);
    expect(await cacheOf(`/t/w_9,f_webp/${f2.id}`)).toStartWith('HIT-');
    expect(await cacheOf(`/t/w_7,f_png/${f2.id}`)).toStartWith('HIT-');

    // Invalid: 400 INVALID_TRANSFORMATION and nothing stored, raw and multipart (field before or after the file).
    const before = { files: await count(), objects: await objects() };
    const invalid = async (res: Response) => {
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorJson;
      expect(body.error).toBe('INVALID_TRANSFORMATION');
      expect(body.details.parameter).toBeDefined();
    };
    await invalid(await api('/api/files?transformations=w_abc', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } }));
    await invalid(await api('/api/files', { method: 'POST', body: multipart([['transformations', 'w_10|zz_1'], ['file', { bytes: await png(), filename: 'x.png' }]]) }));
    await invalid(await api('/api/files', { method: 'POST', body: multipart([['file', { bytes: await png(), filename: 'x.png' }], ['transformations', 'w_-5']]) }));
    // A type that has no derivatives cannot take them.
    await invalid(await api('/api/files?transformations=w_10', { method: 'POST', body: '%PDF-1.4\n%%EOF\n', headers: { 'content-type': 'application/pdf' } }));
    // Nor a BMP, an accepted image the pipeline does not read (it was taken, and its jobs failed).
    await invalid(await api('/api/files?transformations=w_10', { method: 'POST', body: bmp1x1(), headers: { 'content-type': 'image/bmp' } }));
    expect({ files: await count(), objects: await objects() }).toEqual(before);

    // Stored as a file, with no derive job to fail three times.
    const stored = await api('/api/files', { method: 'POST', body: bmp1x1(), headers: { 'content-type': 'image/bmp' } });
    expect(stored.status).toBe(201);
    const bmp = ((await stored.json()) as { file: FileJson }).file;
    const jobs = (await (await api('/api/queue/jobs?type=derive&limit=200')).json()) as { results: { file_id: string | null }[] };
    expect(jobs.results.filter((j) => j.file_id === bmp.id)).toEqual([]);
  }, 90_000);

  test('a multipart upload takes its attributes from the query too (they were dropped: ?is_public=false stored a public file)', async () => {
    const file = async () => multipart([['file', { bytes: await png(30, 20), filename: 'q.png' }]]);
    const query = '?folder=/from-query&is_public=false&expires_in=3600&tags=beach&tags=2026&metadata={"camera":"x100v"}&transformations=w_8,f_webp';
    const res = await api(`/api/files${query}`, { method: 'POST', body: await file() });
    expect(res.status).toBe(201);
    const f = ((await res.json()) as { file: FileJson & { folder: string; tags: string[]; custom_metadata: Record<string, string> } }).file;
    expect([f.folder, f.is_public, f.tags, f.custom_metadata]).toEqual(['/from-query', false, ['beach', '2026'], { camera: 'x100v' }]);
    expect(Date.parse(f.expires_at!) - Date.now()).toBeGreaterThan(3000 * 1000);
    expect((await fetch(`${srv.url}/i/${f.id}`)).status).toBe(404); // private: not served without a signature
    // Every image gets a derive job: the query's transformation is in its payload.
    const jobs = (await (await api('/api/queue/jobs?type=derive&limit=200')).json()) as { results: { file_id: string | null; payload: Record<string, unknown> }[] };
    expect(jobs.results.find((j) => j.file_id === f.id)?.payload.transformations).toEqual(['w_8,f_webp']);

    // Empty is not given (a form that sends every field or parameter): the other place's value counts.
    const empty = await api('/api/files?folder=/from-query', { method: 'POST', body: multipart([['folder', ''], ['file', { bytes: await png(31, 20), filename: 'e.png' }]]) });
    expect(empty.status).toBe(201);
    expect(((await empty.json()) as { file: { folder: string } }).file.folder).toBe('/from-query');
    const emptyQuery = await api('/api/files?folder=&tags=', { method: 'POST', body: multipart([['folder', '/from-field'], ['tags', 'x'], ['file', { bytes: await png(33, 20), filename: 'f.png' }]]) });
    expect(emptyQuery.status).toBe(201);
    expect(((await emptyQuery.json()) as { file: { folder: string; tags: string[] } }).file).toMatchObject({ folder: '/from-field', tags: ['x'] });

    // One attribute in both places: 400 naming it, nothing stored.
    const before = { files: await count(), objects: await objects() };
    for (const [q, field] of [['is_public=false', ['is_public', 'true']], ['tags=a', ['tags', 'b']], ['transformations=w_5', ['transformations', 'w_6']]] as const) {
      const both = await api(`/api/files?${q}`, { method: 'POST', body: multipart([[field[0], field[1]], ['file', { bytes: await png(32, 20), filename: 'b.png' }]]) });
      expect(both.status).toBe(400);
      const body = (await both.json()) as ErrorJson;
      expect([body.error, body.message]).toEqual(['VALIDATION_ERROR', `${field[0]} is given both in the query and as a form field; send it in one place.`]);
    }
    // A bad value in the query is refused as it is on a raw upload.
    const bad = await api('/api/files?transformations=zz_1', { method: 'POST', body: await file() });
    expect([bad.status, ((await bad.json()) as ErrorJson).error]).toEqual([400, 'INVALID_TRANSFORMATION']);
    // A presigned URL's folder is fixed: another one in its query is refused, not dropped.
    const at = new URL(local(await presignedUrl({ folder: '/fixed' })));
    at.searchParams.set('folder', '/other');
    const presigned = await fetch(at, { method: 'POST', body: await file() });
    expect([presigned.status, ((await presigned.json()) as ErrorJson).message]).toEqual([400, 'This upload URL stores files in /fixed; leave out folder (or send that value).']);
    expect({ files: await count(), objects: await objects() }).toEqual(before);
  }, 60_000);
});

/** A 1×1 24-bit BMP: a 14-byte file header, a 40-byte info header, one padded pixel row. */
function bmp1x1(): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(58);
  const v = new DataView(b.buffer);
  b.set([0x42, 0x4d], 0); // "BM"
  v.setUint32(2, 58, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, 1, true);
  v.setInt32(22, 1, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  v.setUint32(34, 4, true);
  b.set([0x20, 0x40, 0x80], 54);
  return b;
}
