/**
 * Uploads and delivery end to end over real HTTP, on local disk and on a real MinIO
 * (API.md §4–§5, issue #4 acceptance 1–4 and 6).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import sharp from 'sharp';
import { startMinio, type Minio } from '../helpers/minio';
import { parsePrometheus, sampleSum } from '../helpers/prometheus';
import { rawRequest } from '../helpers/raw-http';
import { startServer, type RunningServer } from '../helpers/server';

let minio: Minio | undefined;
afterAll(() => minio?.stop());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const png = (w = 64, h = 48) => sharp({ create: { width: w, height: h, channels: 3, background: '#3366cc' } }).png().toBuffer();

/** A PNG that declares width×height but carries one tiny IDAT: a decompression bomb's header. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const idat = Buffer.from('789c030000000001', 'hex');
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

interface FileJson { id: string; sha256: string; size: number; url: string; content_type: string; width: number | null; name: string; folder: string; created_at: string; expires_at: string | null }

/** Files left in the temp dir of the fs driver. */
async function tempFiles(dataDir: string): Promise<number> {
  return (await readdir(join(dataDir, 'files', '.tmp')).catch(() => [])).length;
}

/** Stored objects outside `.tmp` (fs), so a half-written upload left in place is caught too. */
async function storedFiles(dataDir: string): Promise<number> {
  const entries = await readdir(join(dataDir, 'files'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !join(e.parentPath, e.name).includes(`${join(dataDir, 'files', '.tmp')}`)).length;
}

/** Sends `total` bytes of a raw upload, then destroys the socket halfway; resolves when the server saw it. */
function abortedUpload(url: string, path: string, headers: Record<string, string>, first: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const u = new URL(path, url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers });
    req.on('error', () => resolve());
    req.write(first, () => setTimeout(() => {
      req.destroy();
      resolve();
    }, 300));
  });
}

/**
 * Polls until `check` holds: clean-up after an aborted upload and expiry happen on the
 * server's own time, which a loaded machine stretches (a fixed sleep made these flaky).
 */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe.each(['fs', 's3'] as const)('uploads and delivery on %s', (driver) => {
  let srv: RunningServer;
  let key: string;
  let bucket = '';
  const auth = () => ({ authorization: `Bearer ${key}` });
  const api = (path: string, init: RequestInit = {}) => fetch(`${srv.url}${path}`, { ...init, headers: { ...auth(), ...(init.headers as Record<string, string>) } });
  /** Live files as listed, plus the users-table counters themselves (`GET /api/usage` reads them directly). */
  const usage = async () => {
    const listed = ((await (await api('/api/files?limit=1')).json()) as { count: number }).count;
    const u = (await (await api('/api/usage')).json()) as { storage_bytes: number; files_count: number };
    return { listed, storage_bytes: u.storage_bytes, files_count: u.files_count };
  };
  /** The server's own address for a URL built from PUBLIC_URL. */
  const local = (u: string) => srv.url + new URL(u).pathname;
  const leftovers = async () => (driver === 'fs' ? tempFiles(srv.dataDir) : minio!.pendingUploads(bucket));
  /** Uploads the server saw cut off by their client (499): until it has, "nothing left" proves nothing. */
  const aborts = async () => sampleSum(parsePrometheus(await (await api('/metrics')).text()), 'pictor_http_client_aborts_total', { route: '/api/files/' });
  /** Objects in storage: an aborted upload must not leave one behind (completed, but with no row). */
  const objects = async () => (driver === 'fs'
    ? storedFiles(srv.dataDir)
    : (await minio!.client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0);

  beforeAll(async () => {
    let env: Record<string, string> = { MAX_UPLOAD_BYTES: '4MiB', PROMOTED_MAX_UPLOAD_BYTES: '64MiB', DISABLE_RATE_LIMIT: 'true' };
    if (driver === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
    srv = await startServer({ env });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(() => srv?.close());

  test('multipart with `image` and `file` parts, and a raw upload: 201, sha256 matches, /i returns the bytes', async () => {
    const a = await png(10, 10);
    const b = await png(20, 30);
    const one = new FormData();
    one.append('folder', '/holidays//2026/');
    one.append('image', new Blob([a], { type: 'image/png' }), 'a.png');
    const r1 = await api('/api/files', { method: 'POST', body: one });
    expect(r1.status).toBe(201);
    const j1 = (await r1.json()) as { file: FileJson; message: string };
    expect(j1.message).toBe('File uploaded');
    expect(j1.file).toMatchObject({ name: 'a.png', folder: '/holidays/2026', content_type: 'image/png', size: a.length, sha256: sha(a), width: 10 });
    expect(j1.file.id).toMatch(/^[A-Za-z0-9]{12}$/);

    const many = new FormData();
    many.append('file', new Blob([a]), 'x.png');
    many.append('image', new Blob([b]), 'y.png');
    many.append('is_public', 'true'); // a field after the files
    const r2 = await api('/api/files', { method: 'POST', body: many });
    expect(r2.status).toBe(201);
    const j2 = (await r2.json()) as { results: FileJson[]; count: number; errors: unknown[] };
    expect(j2.count).toBe(2);
    expect(j2.results.map((f) => f.sha256).sort()).toEqual([sha(a), sha(b)].sort());

    const r3 = await api('/api/files?folder=/raw', { method: 'POST', body: b, headers: { 'content-type': 'image/png', 'x-file-name': "UTF-8''%E2%82%AC%20..%2Fx.png" } });
    expect(r3.status).toBe(201);
    const j3 = (await r3.json()) as { file: FileJson };
    expect(j3.file.sha256).toBe(sha(b));
    expect(j3.file.name).toBe('x.png');
    const served = await fetch(local(j3.file.url));
    expect(served.status).toBe(200);
    expect(served.headers.get('etag')).toBe(`"${sha(b)}"`);
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).equals(b)).toBe(true);

    // Raw UTF-8 in the header, as many scripted clients send it (it was stored as "hÃ©llo wÃ¶rld æ¥æ¬.txt").
    const utf8 = await rawRequest(Number(new URL(srv.url).port), {
      method: 'POST', path: '/api/files', host: 'localhost', body: 'hello\n',
      headers: { ...auth(), 'content-type': 'text/plain', 'x-file-name': 'héllo wörld 日本.txt' },
    });
    expect([utf8.status, (JSON.parse(utf8.body) as { file: FileJson }).file.name]).toEqual([201, 'héllo wörld 日本.txt']);
    // Over the 1024 characters the OpenAPI document allows: 400 (it was taken, and cut to 255).
    const long = await api('/api/files', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain', 'x-file-name': `${'a'.repeat(1025)}.txt` } });
    expect([long.status, ((await long.json()) as { error: string }).error]).toEqual([400, 'VALIDATION_ERROR']);
  });

  test('client aborts halfway (raw and multipart): nothing left, no row, counters unchanged', async () => {
    const before = await usage();
    const stored = await objects();
    const cut = await aborts();
    const big = new Uint8Array(3 * 1024 * 1024);
    big.set(await png(), 0);
    // Declared within MAX_UPLOAD_BYTES (4 MiB), so that the server reads them: declared over it, both
    // were refused unread (413) and nothing here was ever cut off.
    const declared = String(big.length + 512 * 1024);
    await abortedUpload(srv.url, '/api/files', { ...auth(), 'content-type': 'image/png', 'content-length': declared }, big);
    const boundary = 'xBOUNDARYx';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n`);
    await abortedUpload(srv.url, '/api/files', { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': declared }, Buffer.concat([head, big]));
    await eventually('the server to see both uploads cut off', async () => (await aborts()) === cut + 2);
    await eventually('the aborted uploads to be cleaned up', async () => (await leftovers()) === 0);
    expect(await objects()).toBe(stored);
    expect(await usage()).toEqual(before);
  }, 90_000);

  test('a big upload aborted after several parts were stored (S3: a multipart upload open): nothing left', async () => {
    // Promoted for 64 MiB, so 20 MiB stream in: on S3 that is two 8 MiB parts already sent.
    const me = ((await (await api('/api/profile')).json()) as { user: { id: string } }).user.id;
    const promote = (promoted: boolean) => api(`/api/admin/users/${me}/promote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ promoted }) });
    expect((await promote(true)).status).toBe(200);
    try {
      const before = await usage();
      const stored = await objects();
      const cut = await aborts();
      const big = new Uint8Array(20 * 1024 * 1024);
      big.set(await png(), 0);
      await abortedUpload(srv.url, '/api/files', { ...auth(), 'content-type': 'image/png', 'content-length': String(40 * 1024 * 1024) }, big);
      await eventually('the server to see the upload cut off', async () => (await aborts()) === cut + 1);
      await eventually('the aborted upload to be cleaned up', async () => (await leftovers()) === 0);
      expect(await objects()).toBe(stored);
      expect(await usage()).toEqual(before);
    } finally {
      expect((await promote(false)).status).toBe(200);
    }
  }, 90_000);

  test('over-limit stream without Content-Length → 413 and nothing left; over-limit Content-Length → 413 unread', async () => {
    const before = await usage();
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (pulled === 0) c.enqueue(await png());
        else c.enqueue(new Uint8Array(256 * 1024));
        if (++pulled > 64) c.close(); // 16 MiB in total, the limit is 4 MiB
      },
    });
    const res = await api('/api/files', { method: 'POST', body: stream, headers: { 'content-type': 'image/png' }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string; details: { max_bytes: number } }).details.max_bytes).toBe(4 * 1024 * 1024);
    expect(await leftovers()).toBe(0);
    expect(await usage()).toEqual(before);

    // Declares 100 MiB and sends only a few bytes, never ending the body: an answer at all means
    // it was refused from the header alone (reading on would wait for bytes that never come).
    const byLength = await new Promise<number>((resolve, reject) => {
      const u = new URL('/api/files', srv.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { ...auth(), 'content-type': 'image/png', 'content-length': String(100 * 1024 * 1024) } }, (r) => resolve(r.statusCode ?? 0));
      req.on('error', reject);
      req.write(Buffer.alloc(16));
    });
    expect(byLength).toBe(413);
  }, 30_000);

  test('type checks: HTML declared as PNG → 415 with details.detected; SVG sandboxed; zip as attachment; pixel bomb refused', async () => {
    const html = await api('/api/files', { method: 'POST', body: '<!DOCTYPE html><html><script>alert(1)</script></html>', headers: { 'content-type': 'image/png' } });
    expect(html.status).toBe(415);
    expect(((await html.json()) as { details: { detected: string } }).details.detected).toBe('text/html');

    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>';
    const s = (await (await api('/api/files', { method: 'POST', body: svg, headers: { 'content-type': 'image/svg+xml' } })).json()) as { file: FileJson };
    const sres = await fetch(local(s.file.url));
    expect(sres.headers.get('content-type')).toBe('image/svg+xml');
    expect(sres.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");

    // A minimal stored zip with one empty entry.
    const zip = Buffer.from('504b03040a0000000000000000000000000000000000000000000100000061504b01023f000a00000000000000000000000000000000000000000001000000000000000000000000000000000061504b050600000000010001002f0000001f0000000000', 'hex');
    const z = await api('/api/files', { method: 'POST', body: zip, headers: { 'x-file-name': 'a.zip' } });
    expect(z.status).toBe(201);
    const zf = ((await z.json()) as { file: FileJson }).file;
    expect(zf.content_type).toBe('application/zip');
    const zres = await fetch(local(zf.url));
    expect(zres.headers.get('content-disposition')).toStartWith('attachment;');

    // Header only, no pixel data: a 415 (not a decoding error) means it was refused from the header.
    const bomb = pngHeaderOnly(30000, 30000);
    const b = await api('/api/files', { method: 'POST', body: new Uint8Array(bomb), headers: { 'content-type': 'image/png' } });
    expect(b.status).toBe(415);
    expect(await leftovers()).toBe(0);
  }, 60_000);

  test('delivery: HEAD, 304, ranges 206/416, private 404, expired 410, deleted 404', async () => {
    const bytes = await png(100, 100);
    const up = async (query = '') => ((await (await api(`/api/files${query}`, { method: 'POST', body: bytes, headers: { 'content-type': 'image/png' } })).json()) as { file: FileJson }).file;
    const f = await up();
    const head = await fetch(local(f.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const etag = head.headers.get('etag')!;
    expect((await fetch(local(f.url), { headers: { 'if-none-match': etag } })).status).toBe(304);

    // A HEAD's 304 had `Content-Length: 0` (RFC 9110 §8.6: absent, or the 200's length).
    for (const path of [new URL(f.url).pathname, `/d/${f.id}`]) {
      const notModified = await rawRequest(Number(new URL(srv.url).port), { method: 'HEAD', path, host: 'localhost', headers: { 'if-none-match': etag } });
      expect([path, notModified.status, notModified.headers['content-length']]).toEqual([path, 304, undefined]);
    }

    const part = await fetch(local(f.url), { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
    const tail = await fetch(local(f.url), { headers: { range: 'bytes=-5' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 5))).toBe(true);
    const bad = await fetch(local(f.url), { headers: { range: `bytes=${bytes.length}-` } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${bytes.length}`);

    const d = await fetch(`${srv.url}/d/${f.id}`);
    expect(d.headers.get('content-disposition')).toMatch(/^attachment; filename=/);

    const priv = await up('?is_public=false');
    expect((await fetch(local(priv.url))).status).toBe(404);

    // expires_in sets expires_at; once it has passed the file answers 410 (waited for, not timed).
    const exp = await up('?expires_in=1');
    // A stored value (expires_at − created_at), not a measured duration.
    const span = Date.parse(exp.expires_at!) - Date.parse(exp.created_at);
    expect(span).toBeGreaterThan(0);
    expect(span).toBeLessThanOrEqual(1000);
    await eventually('the 1 s file to expire', async () => (await fetch(local(exp.url))).status === 410);

    expect((await api(`/api/files/${f.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(local(f.url))).status).toBe(404);
    expect((await api(`/api/files/${f.id}`)).status).toBe(404);
  }, 30_000);
});
