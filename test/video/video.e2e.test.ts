/**
 * Issue #23 acceptance 1–3: video probed at upload, poster frames through the image pipeline,
 * renditions made by the `video_render` job (202, then the file with Range), and hostile input —
 * on local disk and on S3 (MinIO), with Postgres. Every video is made here by the bundled ffmpeg.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { ffmpegOut, ffprobeBytes, h264Mp4, rotatedMov, tempFile, tenHourSparse, vp9Webm } from '../helpers/videos';

let minio: Minio | undefined;
afterAll(() => minio?.stop());

interface FileJson { id: string; content_type: string; width: number | null; height: number | null; duration_s: number | null }

/** Mean absolute difference per channel value (0–255) of two images of the same size. */
async function meanDiff(a: Buffer, b: Buffer): Promise<number> {
  const ra = await sharp(a).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rb = await sharp(b).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([ra.info.width, ra.info.height]).toEqual([rb.info.width, rb.info.height]);
  let sum = 0;
  for (let i = 0; i < ra.data.length; i++) sum += Math.abs((ra.data[i] as number) - (rb.data[i] as number));
  return sum / ra.data.length;
}

/** The first answer to `url` that is not 202 (a rendition being prepared). */
async function pastPreparing(url: string): Promise<Response> {
  for (;;) {
    const res = await fetch(url);
    if (res.status !== 202) return res;
    await res.arrayBuffer();
    await Bun.sleep(250);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await filesUnder(join(dir, e.name))));
    else out.push(join(dir, e.name));
  }
  return out;
}

describe.each(['fs', 's3'] as const)('video on %s', (driver) => {
  let srv: RunningServer;
  let db: TestDatabase;
  let bucket = '';
  let mp4: Buffer;
  let mp4File: FileJson;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { 'x-api-key': srv.bootstrap!.api_key, ...(init.headers as Record<string, string>) } });
  const upload = async (bytes: Uint8Array, type: string, name: string) => {
    const res = await api(`/api/files`, { method: 'POST', headers: { 'content-type': type, 'x-file-name': name }, body: new Uint8Array(bytes) });
    return { status: res.status, body: (await res.json()) as { file: FileJson; error?: string; message?: string } };
  };
  const objects = async () => (driver === 'fs'
    ? (await filesUnder(join(srv.dataDir, 'files'))).filter((p) => !p.includes('/.tmp/')).length
    : (await minio!.client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0);
  const count = async () => ((await (await api('/api/files?limit=1')).json()) as { count: number }).count;

  beforeAll(async () => {
    db = await createTestDatabase();
    let env: Record<string, string> = { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' };
    if (driver === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
    srv = await startServer({ env });
    mp4 = await h264Mp4();
    const up = await upload(mp4, 'video/mp4', 'clip.mp4');
    expect(up.status).toBe(201);
    mp4File = up.body.file;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await db?.drop();
  });

  test('an H.264/AAC MP4 is probed at upload: file object and /metadata', async () => {
    expect(mp4File).toMatchObject({ content_type: 'video/mp4', width: 640, height: 360 });
    expect(mp4File.duration_s).toBeCloseTo(3, 1);
    const meta = (await (await api(`/api/files/${mp4File.id}/metadata`)).json()) as { duration_s: number; video: Record<string, unknown> };
    expect(meta.duration_s).toBeCloseTo(3, 1);
    expect(meta.video).toMatchObject({ width: 640, height: 360, rotation: 0, fps: 25, video_codec: 'h264', audio_codec: 'aac' });
    expect(String(meta.video.container)).toContain('mp4');
    expect(meta.video.bit_rate).toBeGreaterThan(0);
  });

  test('a VP9 WebM and a rotated phone-style MOV are probed (the MOV reports its turn and its displayed size)', async () => {
    const webm = await upload(await vp9Webm(), 'video/webm', 'clip.webm');
    expect(webm.status).toBe(201);
    const wm = (await (await api(`/api/files/${webm.body.file.id}/metadata`)).json()) as { video: Record<string, unknown> };
    expect(wm.video).toMatchObject({ width: 320, height: 240, video_codec: 'vp9', audio_codec: 'opus' });
    const movBytes = await rotatedMov();
    const mov = await upload(movBytes, 'video/quicktime', 'phone.mov');
    expect(mov.status).toBe(201);
    expect(mov.body.file).toMatchObject({ content_type: 'video/quicktime', width: 360, height: 640 });
    const mm = (await (await api(`/api/files/${mov.body.file.id}/metadata`)).json()) as { video: { rotation: number } };
    expect([90, 270]).toContain(mm.video.rotation);
    // The poster is upright as ffmpeg itself shows it: portrait.
    const poster = await fetch(`${srv.url}/t/f_png/${mov.body.file.id}`);
    expect(poster.status).toBe(200);
    const m = await sharp(Buffer.from(await poster.arrayBuffer())).metadata();
    expect([m.width, m.height]).toEqual([360, 640]);
  }, 60_000);

  test('poster at so_1 equals the frame ffmpeg extracts itself; image parameters and f_auto apply', async () => {
    const res = await fetch(`${srv.url}/t/so_1,f_png/${mp4File.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const ours = Buffer.from(await res.arrayBuffer());
    const src = await tempFile(mp4, 'mp4');
    const theirs = await ffmpegOut(['-ss', '1', '-i', src.path, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1']);
    await src.done();
    expect(await meanDiff(ours, theirs)).toBeLessThan(1.5);
    // Against a different frame the same measure is large: the threshold means something.
    const other = await fetch(`${srv.url}/t/so_2.5,f_png/${mp4File.id}`);
    expect(await meanDiff(Buffer.from(await other.arrayBuffer()), theirs)).toBeGreaterThan(3);

    const auto = await fetch(`${srv.url}/t/w_200,h_200,c_fill,e_grayscale/${mp4File.id}`, { headers: { accept: 'image/webp' } });
    expect(auto.status).toBe(200);
    expect(auto.headers.get('content-type')).toBe('image/webp');
    expect(auto.headers.get('vary')).toBe('Accept');
    const am = await sharp(Buffer.from(await auto.arrayBuffer())).metadata();
    expect([am.width, am.height]).toEqual([200, 200]);
    const again = await fetch(`${srv.url}/t/w_200,h_200,c_fill,e_grayscale/${mp4File.id}`, { headers: { accept: 'image/webp' } });
    expect(again.headers.get('x-cache')).toMatch(/^HIT/);
    // The default poster (no so_) renders too.
    expect((await fetch(`${srv.url}/t/w_100/${mp4File.id}.jpg`)).status).toBe(200);
  }, 60_000);

  test('a poster time the duration allows but past the last frame is a 400 on so (a 422 said the video could not be decoded)', async () => {
    // 3 s at 25 fps: the last frame starts at 2.96 s.
    const res = await fetch(`${srv.url}/t/so_2.99/${mp4File.id}.jpg`);
    const body = (await res.json()) as { error: string; details: { parameter: string } };
    expect([res.status, body.error, body.details.parameter]).toEqual([400, 'INVALID_TRANSFORMATION', 'so']);
    expect((await fetch(`${srv.url}/t/so_2.9/${mp4File.id}.jpg`)).status).toBe(200);
  });

  test('video keys where they mean nothing are refused with 400 INVALID_TRANSFORMATION', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
    const img = await upload(png, 'image/png', 'a.png');
    for (const url of [`/t/so_1/${img.body.file.id}`, `/t/w_10/${img.body.file.id}.mp4`, `/t/eo_2/${mp4File.id}`, `/t/e_blur:5/${mp4File.id}.mp4`, `/t/so_9/${mp4File.id}`, `/t/so_2,eo_1/${mp4File.id}.mp4`, `/t/so_5/${mp4File.id}.mp4`]) {
      const res = await fetch(srv.url + url);
      expect({ url, status: res.status, error: ((await res.json()) as { error: string }).error }).toEqual({ url, status: 400, error: 'INVALID_TRANSFORMATION' });
    }
  });

  test('a 320-px MP4 rendition trimmed with so_/eo_: 202 with Retry-After, then 200 from the cache; Range → 206; HEAD', async () => {
    const url = `${srv.url}/t/w_320,so_0.5,eo_2.5/${mp4File.id}.mp4`;
    const head0 = await fetch(url, { method: 'HEAD' });
    expect(head0.status).toBe(202);
    const first = await fetch(url);
    expect(first.status).toBe(202);
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
    // With its charset, as the API's errors (it was a bare `application/json`).
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await first.json()) as { status: string }).toMatchObject({ status: expect.stringMatching(/^(pending|running)$/) });
    const ready = await pastPreparing(url);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toBe('video/mp4');
    expect(ready.headers.get('accept-ranges')).toBe('bytes');
    expect(ready.headers.get('x-cache')).toBe('HIT-DISK');
    const body = new Uint8Array(await ready.arrayBuffer());
    const probed = await ffprobeBytes(body, 'mp4');
    const v = probed.streams.find((s) => s.codec_type === 'video');
    expect(v).toMatchObject({ codec_name: 'h264', width: 320, height: 180 });
    expect(probed.streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac')).toBe(true);
    expect(Number(probed.format.duration)).toBeCloseTo(2, 0);
    expect(Math.abs(Number(probed.format.duration) - 2)).toBeLessThan(0.15);

    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${body.byteLength}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(body.subarray(100, 200));
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.byteLength));
    // Revalidation: the ETag as sent, weakened by a proxy (W/) or in a list is 304; another is the bytes.
    const etag = ready.headers.get('etag')!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) expect((await fetch(url, { headers: { 'if-none-match': inm } })).status).toBe(304);
    const changed = await fetch(url, { headers: { 'if-none-match': '"other"' } });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
  }, 120_000);

  test('a private video: its rendition through a signed URL (POST /api/files/:id/signed-url with `w_160.mp4`), unsigned 404', async () => {
    const up = await api('/api/files?is_public=false', { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: new Uint8Array(mp4) });
    expect(up.status).toBe(201);
    const id = ((await up.json()) as { file: FileJson }).file.id;
    expect((await fetch(`${srv.url}/t/w_160/${id}.mp4`)).status).toBe(404);
    const signed = await api(`/api/files/${id}/signed-url`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transformations: 'w_160.mp4', expires_in: 600 }) });
    expect(signed.status).toBe(200);
    const { url } = (await signed.json()) as { url: string };
    expect(url).toEndWith(`/${id}.mp4`);
    const ready = await pastPreparing(srv.url + new URL(url).pathname);
    expect(ready.status).toBe(200);
    // Private and no longer than the URL lives (it was an hour, whatever `expires_in`).
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(ready.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(600);
    const v = (await ffprobeBytes(new Uint8Array(await ready.arrayBuffer()), 'mp4')).streams.find((s) => s.codec_type === 'video');
    expect(v).toMatchObject({ codec_name: 'h264', width: 160, height: 90 });
  }, 120_000);

  test('a muted VP9 WebM rendition with an fps cap', async () => {
    const url = `${srv.url}/t/w_160,ac_none,fps_10/${mp4File.id}.webm`;
    const ready = await pastPreparing(url);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toBe('video/webm');
    const probed = await ffprobeBytes(new Uint8Array(await ready.arrayBuffer()), 'webm');
    expect(probed.streams.map((s) => s.codec_type)).toEqual(['video']);
    expect(probed.streams[0]).toMatchObject({ codec_name: 'vp9', width: 160, height: 90 });
  }, 120_000);

  test('eager renditions at upload (`transformations=w_160.mp4`) are made by the queue without any GET; wrong kinds are 400 and nothing kept', async () => {
    const up = await api('/api/files?transformations=w_160.mp4', { method: 'POST', headers: { 'content-type': 'video/webm' }, body: new Uint8Array(await vp9Webm()) });
    expect(up.status).toBe(201);
    const id = ((await up.json()) as { file: FileJson }).file.id;
    // HEAD never starts a job: a 200 here can only come from the upload's own job.
    for (;;) {
      const head = await fetch(`${srv.url}/t/w_160/${id}.mp4`, { method: 'HEAD' });
      if (head.status === 200) break;
      expect(head.status).toBe(202);
      await Bun.sleep(250);
    }
    const before = { files: await count(), objects: await objects() };
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } }).png().toBuffer();
    const onImage = await api('/api/files?transformations=w_10.mp4', { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
    expect(onImage.status).toBe(400);
    const imageKeyOnVideo = await api('/api/files?transformations=w_10', { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: new Uint8Array(mp4) });
    expect(imageKeyOnVideo.status).toBe(400);
    const blurRendition = await api('/api/files?transformations=e_blur:5.mp4', { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: new Uint8Array(mp4) });
    expect(blurRendition.status).toBe(400);
    expect({ files: await count(), objects: await objects() }).toEqual(before);
  }, 120_000);

  test('bad input: a truncated MP4 is 415 and leaves nothing; PNG bytes named .mp4 are a PNG, or 415 when declared video', async () => {
    const before = { files: await count(), objects: await objects() };
    const truncated = await upload(mp4.subarray(0, Math.floor(mp4.byteLength * 0.6)), 'video/mp4', 'cut.mp4');
    expect(truncated.status).toBe(415);
    expect(truncated.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(truncated.body.message).toContain('video cannot be read');
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0f0' } }).png().toBuffer();
    const declared = await upload(png, 'video/mp4', 'fake.mp4');
    expect(declared.status).toBe(415);
    expect({ files: await count(), objects: await objects() }).toEqual(before);
    const form = new FormData();
    form.append('file', new Blob([png]), 'fake.mp4');
    const sniffed = await api('/api/files', { method: 'POST', body: form });
    expect(sniffed.status).toBe(201);
    expect(((await sniffed.json()) as { file: FileJson }).file.content_type).toBe('image/png');
  });

  test('bad input: a 10-hour sparse video is accepted and probed, its rendition refused over VIDEO_MAX_DURATION', async () => {
    const up = await upload(await tenHourSparse(), 'video/mp4', 'long.mp4');
    expect(up.status).toBe(201);
    expect(up.body.file.duration_s).toBeGreaterThan(35_000);
    const res = await fetch(`${srv.url}/t/w_64/${up.body.file.id}.mp4`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('VIDEO_MAX_DURATION');
  });
});

describe('a transcode past VIDEO_TIMEOUT_MS', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', VIDEO_TIMEOUT_MS: '1000', VIDEO_MAX_DURATION: '100000' } });
  }, 120_000);
  afterAll(() => srv?.close());

  test('fails the job with a readable error, kills ffmpeg, leaves no file, and later requests get 422', async () => {
    const res = await fetch(`${srv.url}/api/files`, {
      method: 'POST', headers: { 'x-api-key': srv.bootstrap!.api_key, 'content-type': 'video/mp4' }, body: new Uint8Array(await tenHourSparse()),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { file: FileJson }).file.id;
    const url = `${srv.url}/t/w_64/${id}.mp4`;
    expect((await fetch(url)).status).toBe(202);
    const last = await pastPreparing(url);
    expect(last.status).toBe(422);
    const err = (await last.json()) as { error: string; message: string; details: { job_id: string } };
    expect(err.message).toContain('VIDEO_TIMEOUT_MS');
    const jobs = (await (await fetch(`${srv.url}/api/queue/jobs?type=video_render`, { headers: { 'x-api-key': srv.bootstrap!.api_key } })).json()) as { results: { id: string; status: string; last_error: string }[] };
    expect(jobs.results.find((j) => j.id === err.details.job_id)).toMatchObject({ status: 'failed', last_error: expect.stringContaining('VIDEO_TIMEOUT_MS') });
    // No ffmpeg is left reading this server's files.
    const ps = Bun.spawnSync(['ps', '-eo', 'args']).stdout.toString();
    expect(ps.split('\n').filter((l) => l.includes(srv.dataDir) && l.includes('ffmpeg'))).toEqual([]);
    const cacheFiles = await filesUnder(join(srv.dataDir, 'cache'));
    expect(cacheFiles.filter((p) => p.endsWith('.part') || p.endsWith('.mp4'))).toEqual([]);
  }, 120_000);
});

describe('renditions and a small disk cache', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    // The disk tier keeps files up to an eighth of it: 2 KiB here, less than any rendition.
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', CACHE_DISK_BYTES: '16KiB' } });
  }, 120_000);
  afterAll(() => srv?.close());

  test('a rendition over what the disk cache keeps fails its job naming CACHE_DISK_BYTES, and no file is left (it stayed on disk, never counted nor evicted)', async () => {
    const res = await fetch(`${srv.url}/api/files`, {
      method: 'POST', headers: { 'x-api-key': srv.bootstrap!.api_key, 'content-type': 'video/mp4' }, body: new Uint8Array(await h264Mp4()),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { file: FileJson }).file.id;
    const url = `${srv.url}/t/w_160/${id}.mp4`;
    const last = await pastPreparing(url);
    expect(last.status).toBe(422);
    expect(((await last.json()) as { message: string }).message).toContain('CACHE_DISK_BYTES');
    const cacheFiles = await filesUnder(join(srv.dataDir, 'cache'));
    expect(cacheFiles.filter((p) => p.endsWith('.part') || p.endsWith('.mp4'))).toEqual([]);
  }, 120_000);
});

describe('renditions are bounded: output size, the transform bucket, and what one account may have queued', () => {
  let srv: RunningServer;
  let id: string;
  const key = () => srv.bootstrap!.api_key;
  // No worker (the jobs stay queued, nothing is transcoded); each client address has its own bucket.
  beforeAll(async () => {
    srv = await startServer({ env: { QUEUE_CONCURRENCY: '0', TRUST_PROXY: '1', RATE_LIMIT_TRANSFORM: '3/1m' } });
    const res = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key(), 'content-type': 'video/mp4' }, body: new Uint8Array(await h264Mp4()) });
    expect(res.status).toBe(201);
    id = ((await res.json()) as { file: FileJson }).file.id;
  }, 120_000);
  afterAll(() => srv?.close());
  const from = (ip: string, path: string, method = 'GET') => fetch(`${srv.url}${path}`, { method, headers: { 'x-forwarded-for': ip } });

  test('a width alone that would upscale past VIDEO_MAX_PIXELS is a 400 naming the frame, by URL and at upload (it ran ffmpeg at 8192×4608)', async () => {
    for (const steps of ['w_8192,c_scale', 'w_4000,c_fit', 'h_5000,c_scale', 'w_3900,h_2200,c_pad']) {
      const res = await from('10.9.0.1', `/t/${steps}/${id}.webm`);
      const body = (await res.json()) as { error: string; message: string };
      expect([steps, res.status, body.error]).toEqual([steps, 400, 'INVALID_TRANSFORMATION']);
      expect(body.message).toContain('VIDEO_MAX_PIXELS');
    }
    // The source's own size, and a downscale, are fine (202: queued).
    expect((await from('10.9.0.2', `/t/w_320/${id}.mp4`)).status).toBe(202);
    const up = await fetch(`${srv.url}/api/files?transformations=w_8192,c_scale.mp4`, {
      method: 'POST', headers: { 'x-api-key': key(), 'content-type': 'video/mp4' }, body: new Uint8Array(await h264Mp4()),
    });
    expect(up.status).toBe(400);
    expect(((await up.json()) as { message: string }).message).toContain('VIDEO_MAX_PIXELS');
  }, 120_000);

  test('each new rendition spends the caller\'s transform bucket (101 were queued past a 3/min limit); asking again about a queued one does not', async () => {
    for (const w of [100, 102, 104]) expect((await from('10.9.1.1', `/t/w_${w}/${id}.mp4`)).status).toBe(202);
    const limited = await from('10.9.1.1', `/t/w_106/${id}.mp4`);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { details: { bucket: string } }).details.bucket).toBe('transform');
    expect((await from('10.9.1.1', `/t/w_100/${id}.mp4`)).status).toBe(202);
  });

  test('at most 16 renditions of one account wait at once; the next is a 503 OVERLOADED with Retry-After, and nothing is queued for it', async () => {
    const queued = async () => ((await (await fetch(`${srv.url}/api/queue/jobs?type=video_render&limit=100`, { headers: { 'x-api-key': key() } })).json()) as { count: number }).count;
    let n = await queued();
    for (let w = 200; n < 16; w += 2, n++) expect((await from(`10.9.2.${w % 250}`, `/t/w_${w}/${id}.mp4`)).status).toBe(202);
    const refused = await from('10.9.3.1', `/t/w_500/${id}.mp4`);
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '30']);
    expect(((await refused.json()) as { error: string }).error).toBe('OVERLOADED');
    expect(await queued()).toBe(16);
  });
});

describe('a video deleted while its rendition is made', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', VIDEO_MAX_DURATION: '100000' } });
  }, 120_000);
  afterAll(() => srv?.close());
  const api = (path: string, init: RequestInit = {}) => fetch(`${srv.url}${path}`, { ...init, headers: { 'x-api-key': srv.bootstrap!.api_key, ...(init.headers as Record<string, string>) } });
  const jobsOf = async (type: string) =>
    ((await (await api(`/api/queue/jobs?type=${type}&limit=100`)).json()) as { results: { id: string; file_id: string | null; status: string; last_error: string | null }[] }).results;
  async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(50);
    }
  }

  test('leaves no rendition behind: the purge came first, so the finished file is not kept (it stayed on disk)', async () => {
    const up = await api('/api/files', { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: new Uint8Array(await tenHourSparse()) });
    expect(up.status).toBe(201);
    const id = ((await up.json()) as { file: FileJson }).file.id;
    // Long enough (75 000 frames) that it is still running when seen.
    expect((await fetch(`${srv.url}/t/w_64,eo_3000/${id}.mp4`)).status).toBe(202);
    // Hold ffmpeg where it is (SIGSTOP) while the video is deleted and purged, then let it finish.
    // The rendition's ffmpeg reports progress (`-progress`); the upload's poster render does not.
    const pid = await until('ffmpeg to start', async () => {
      const line = Bun.spawnSync(['ps', '-eo', 'pid,args']).stdout.toString().split('\n').find((l) => l.includes(srv.dataDir) && l.includes('ffmpeg') && l.includes('-progress'));
      return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
    });
    // Once its output exists it has opened the video (stopped before that, it found the file gone).
    const output = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!;
    await until('ffmpeg to create its output', async () => (existsSync(output) ? true : undefined));
    process.kill(pid, 'SIGSTOP');
    try {
      expect((await api(`/api/files/${id}`, { method: 'DELETE' })).status).toBe(204);
      await until('the purge', async () => ((await jobsOf('purge')).find((j) => j.file_id === id && j.status === 'completed') ? true : undefined));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const render = await until('the rendition job to end', async () => (await jobsOf('video_render')).find((j) => j.file_id === id && (j.status === 'completed' || j.status === 'failed')));
    expect(render).toMatchObject({ status: 'failed', last_error: expect.stringContaining('deleted while its rendition was made') });
    const left = (await filesUnder(join(srv.dataDir, 'cache'))).filter((p) => p.endsWith('.mp4') || p.endsWith('.part'));
    expect(left).toEqual([]);
  }, 180_000);
});
