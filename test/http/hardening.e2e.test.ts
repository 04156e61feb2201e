/**
 * Hostile input and transport faults over real HTTP (issue #17 points 9, 15, 16, 17), on
 * Postgres + Redis (Postgres is what refuses NUL bytes in text):
 * - NUL bytes in paths, queries and JSON strings are a 400 before any query, never a 500;
 * - `GET /i` and range requests carry `Content-Length` (no chunked framing): local files on Bun
 *   and Deno, S3 on Deno (Bun drops the length of any streamed body, oven-sh/bun#10507);
 * - API JSON, errors, `/docs` and `/openapi.json` carry the hardening headers; delivery keeps its own;
 * - a JSON answer too large for one corked write goes out as one chunk on Bun (one write instead of
 *   one per header piece); smaller ones and HEAD keep their length;
 * - a client that disconnects mid-upload is a debug line and a 499, not an error and a 500.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connect } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startMinio, type Minio } from '../helpers/minio';
import { parsePrometheus, sampleSum } from '../helpers/prometheus';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';
import { until } from '../helpers/until';

setDefaultTimeout(60_000);

const LIMITS = { RATE_LIMIT_REGISTER: '500/1h', RATE_LIMIT_LOGIN: '500/15m', RATE_LIMIT_LOGIN_IP: '100000/15m', RATE_LIMIT_API: '100000/60s' };

/** A PNG of noise, larger than one 256 KiB read of the fs driver. */
const noisePng = () => sharp(randomBytes(320 * 320 * 3), { raw: { width: 320, height: 320, channels: 3 } }).png().toBuffer();

async function upload(server: RunningServer, png: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'noise.png');
  const res = await fetch(`${server.url}/api/files`, { method: 'POST', body: form, headers: { 'x-api-key': server.bootstrap!.api_key } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
}

/** `Content-Length` equals the bytes received, with no chunked framing; returns the bytes. */
async function expectSized(res: Response, status: number): Promise<Uint8Array> {
  expect(res.status).toBe(status);
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(res.headers.get('transfer-encoding')).toBeNull();
  expect(res.headers.get('content-length')).toBe(String(bytes.byteLength));
  return bytes;
}

async function expectContentLength(server: RunningServer, id: string, png: Buffer): Promise<void> {
  for (const path of [`/i/${id}`, `/i/${id}.png`, `/d/${id}`]) {
    expect(Buffer.from(await expectSized(await fetch(`${server.url}${path}`), 200)).equals(png)).toBe(true);
    const part = await expectSized(await fetch(`${server.url}${path}`, { headers: { range: 'bytes=1000-300999' } }), 206);
    expect(Buffer.from(part).equals(png.subarray(1000, 301000))).toBe(true);
    const tail = await expectSized(await fetch(`${server.url}${path}`, { headers: { range: 'bytes=-100' } }), 206);
    expect(Buffer.from(tail).equals(png.subarray(png.length - 100))).toBe(true);
  }
  // A Range the answer ignores (If-Range names another version; malformed, or several ranges):
  // the whole file, not the range, and sized (it went out chunked, without Content-Length).
  for (const headers of <Record<string, string>[]>[{ range: 'bytes=0-9', 'if-range': '"other"' }, { range: 'bytes=5-2' }, { range: 'bytes=0-1,5-6' }, { range: 'bytes=abc' }, { range: 'items=0-1' }]) {
    const whole = await expectSized(await fetch(`${server.url}/i/${id}`, { headers }), 200);
    expect(Buffer.from(whole).equals(png)).toBe(true);
  }
  // First position past the end and a last one before it: a 416 in the envelope (Bun answered it, empty and typed image/png).
  for (const path of [`/i/${id}`, `/d/${id}`]) {
    const past = await fetch(`${server.url}${path}`, { headers: { range: `bytes=${png.length + 10}-5` } });
    expect([path, past.status, past.headers.get('content-type'), past.headers.get('content-range'), ((await past.json()) as { error: string }).error])
      .toEqual([path, 416, 'application/json; charset=utf-8', `bytes */${png.length}`, 'RANGE_NOT_SATISFIABLE']);
  }
  // The unit's name is case-insensitive (RFC 9110 §14.1).
  expect(Buffer.from(await expectSized(await fetch(`${server.url}/i/${id}`, { headers: { range: 'BYTES=0-9' } }), 206)).equals(png.subarray(0, 10))).toBe(true);
}

/**
 * Cuts an upload off mid-body, then checks it was a 499 (request metrics and the request log),
 * counted in pictor_http_client_aborts_total, logged at debug, and nothing at error level.
 */
async function expectQuietDisconnect(server: RunningServer, png: Buffer): Promise<void> {
  const key = server.bootstrap!.api_key;
  const boundary = '----hardening';
  const head = `POST /api/files HTTP/1.1\r\nHost: localhost\r\nX-API-Key: ${key}\r\n`
    + `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n`;
  const part = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.png"\r\nContent-Type: image/png\r\n\r\n`;
  const tmp = join(server.dataDir, 'files', '.tmp');
  const before = new Set(await readdir(tmp).catch(() => [] as string[]));
  await new Promise<void>((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write(head + part);
      // Then part of the bytes, and the client goes away once the server is writing them (its temp file is there).
      socket.write(png.subarray(0, 200_000), () => {
        until('the server to be writing the upload', async () => ((await readdir(tmp).catch(() => [] as string[])).some((n) => !before.has(n)) ? true : null))
          .then(() => socket.destroy(), reject);
      });
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  const metrics = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    return parsePrometheus(await res.text());
  };
  // Wait until the cut-off upload is counted (uploads in beforeAll were counted already).
  const uploads = (f: Awaited<ReturnType<typeof metrics>>) => sampleSum(f, 'pictor_http_requests_total', { route: '/api/files/', method: 'POST' });
  const families = await until('the cut-off upload to be counted', async () => {
    const f = await metrics();
    return uploads(f) >= 2 ? f : null;
  });
  expect(sampleSum(families, 'pictor_http_requests_total', { status: '500' })).toBe(0);
  expect(sampleSum(families, 'pictor_http_requests_total', { route: '/api/files/', method: 'POST', status: '499' })).toBe(1);
  expect(sampleSum(families, 'pictor_http_client_aborts_total', { route: '/api/files/' })).toBe(1);
  // Written by the logger's own stream, read from the server's stdout: waited for.
  await until('the debug line on the closed request', async () => (server.logs.some((l) => l.level === 'debug' && l.msg === 'client closed the request') ? true : null));
  expect(server.logs.filter((l) => l.level === 'error')).toEqual([]);
  // The request log (batched) records it as 499 too.
  const logged = await until('the request log to record the 499', async () => {
    const res = await fetch(`${server.url}/api/logs?status=4xx&method=POST`, { headers: { 'x-api-key': key } });
    const found = ((await res.json()) as { results: { status_code: number; method: string }[] }).results.filter((r) => r.status_code === 499);
    return found.length > 0 ? found : null;
  });
  expect(logged.length).toBe(1);
}

const HARDENED = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
};

describe('hardening on Postgres + Redis', () => {
  let db: TestDatabase;
  let server: RunningServer;
  let key: string;
  let id: string;
  let png: Buffer;

  beforeAll(async () => {
    await requireRedis();
    db = await createTestDatabase();
    server = await startServer({ env: { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: 'debug', ...LIMITS } });
    key = server.bootstrap!.api_key;
    png = await noisePng();
    id = await upload(server, png);
  }, 90_000);
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const errorsLogged = () => server.logs.filter((l) => l.level === 'error');

  test('a JSON answer too large for one corked write leaves as one chunk (platform/small-body.ts); small ones and HEAD keep their length', async () => {
    const get = (path: string, method = 'GET') => fetch(`${server.url}${path}`, { method, headers: { 'x-api-key': key } });
    // 60 more files (rows only), so that a page of them is ~30 KB, as a default list page.
    const userId = ((await (await get('/api/profile')).json()) as { user: { id: string } }).user.id;
    const sqlc = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await sqlc`insert into files (id, user_id, name, folder, content_type, size, sha256, is_public, storage_key, created_at, updated_at)
        select 'rows' || lpad(g::text, 8, '0'), ${userId}::uuid, 'row-' || g || '.png', '/rows', 'image/png', 1000, repeat('0', 64), false,
          'missing/' || g, now() - (g || ' seconds')::interval, now() from generate_series(1, 60) g`;
      await sqlc`update users set files_count = files_count + 60 where id = ${userId}::uuid`;
    } finally {
      await sqlc.end();
    }
    const page = await get('/api/files?folder=/rows&limit=60');
    const text = await page.text();
    expect(Buffer.byteLength(text)).toBeGreaterThan(16 * 1024);
    expect([page.status, page.headers.get('transfer-encoding'), page.headers.get('content-length')]).toEqual([200, 'chunked', null]);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect((JSON.parse(text) as { results: unknown[] }).results.length).toBe(60);
    for (const [path, status] of [['/api/profile', 200], [`/api/files/${id}`, 200], ['/api/files?limit=2', 200], ['/api/files/nosuchfile00', 404]] as const) {
      const res = await get(path);
      const bytes = Buffer.byteLength(await res.text());
      expect({ path, status: res.status, chunked: res.headers.get('transfer-encoding'), length: res.headers.get('content-length') })
        .toEqual({ path, status, chunked: null, length: String(bytes) });
    }
    const head = await get('/api/files?folder=/rows&limit=60', 'HEAD');
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(Buffer.byteLength(text))]);
  });

  test('HEAD answers carry Date as GET answers do (RFC 9110 §6.6.1; Bun left it out of HEAD)', async () => {
    for (const path of ['/health', `/i/${id}`, `/t/w_20/${id}`, '/api/profile']) {
      const [get, head] = await Promise.all(['GET', 'HEAD'].map((method) => fetch(`${server.url}${path}`, { method, headers: { 'x-api-key': key } })));
      await get!.arrayBuffer();
      expect({ path, get: get!.headers.has('date'), head: Number.isNaN(Date.parse(head!.headers.get('date') ?? '')) }).toEqual({ path, get: true, head: false });
    }
  });

  test('NUL bytes in paths, queries and JSON strings: 400 VALIDATION_ERROR naming where, never a 500', async () => {
    const get = (path: string) => fetch(`${server.url}${path}`, { headers: { 'x-api-key': key } });
    const cases: [string, 'path' | 'query'][] = [
      [`/api/files/${id}%00`, 'path'],
      ['/api/files/%00', 'path'],
      ['/api/folders?parent=%2Fa%00b', 'query'],
      ['/api/files?q=a%00', 'query'],
      [`/i/${id}%00`, 'path'],
      [`/d/${id}%00.png`, 'path'],
      [`/t/w_10/${id}%00`, 'path'],
      [`/t/w_10%00/${id}`, 'path'],
      [`/i/${id}?v=%00`, 'query'],
    ];
    for (const [path, where] of cases) {
      const res = await get(path);
      const body = (await res.json()) as { error: string; details?: { fields?: { in: string; path: string }[] } };
      expect({ path, status: res.status, error: body.error, in: body.details?.fields?.[0]?.in }).toEqual({ path, status: 400, error: 'VALIDATION_ERROR', in: where });
    }
    const json = (method: string, path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bodies: [string, string, unknown, string][] = [
      ['POST', '/api/auth/register', { email: 'nul\u0000@example.com', password: 'correct horse 1' }, '/email'],
      ['POST', '/api/auth/login', { email: 'admin@localhost', password: 'x\u0000y' }, '/password'],
      ['PATCH', '/api/settings', { public_url_base: 'https://cdn.example.com/\u0000' }, '/public_url_base'],
      ['POST', '/api/files/bulk-delete', { ids: ['a', `${id}\u0000`] }, '/ids/1'],
    ];
    for (const [method, path, body, pointer] of bodies) {
      const res = await json(method, path, body);
      const out = (await res.json()) as { error: string; details?: { fields?: { in: string; path: string; message: string }[] } };
      expect({ path, status: res.status, error: out.error, field: out.details?.fields?.[0] }).toEqual({
        path, status: 400, error: 'VALIDATION_ERROR', field: { in: 'body', path: pointer, message: 'contains a NUL byte' },
      });
    }
    // The six characters `\u0000` (an escaped backslash) are text, not a NUL: accepted.
    const literal = await json('POST', '/api/auth/register', { email: `literal-${Date.now()}@example.com`, password: 'correct \\u0000 horse' });
    expect(literal.status).toBe(201);
    expect(errorsLogged()).toEqual([]);
  });

  test('a JSON body that is not UTF-8, declares another charset, or escapes half a character: 400/415, not stored as U+FFFD', async () => {
    const { file } = (await (await fetch(`${server.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'image/png', 'x-file-name': 'utf.png' }, body: new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } }).png().toBuffer()) })).json()) as { file: { id: string; name: string } };
    const patch = (body: Uint8Array<ArrayBuffer> | string, type = 'application/json') =>
      fetch(`${server.url}/api/files/${file.id}`, { method: 'PATCH', headers: { 'x-api-key': key, 'content-type': type }, body });
    const refused = async (res: Response, status: number, error: string, field?: { in: string; path: string; message: string }) => {
      const out = (await res.json()) as { error: string; details: { fields?: unknown[] } };
      expect({ status: res.status, error: out.error }).toEqual({ status, error });
      if (field) expect(out.details.fields?.[0]).toEqual(field);
    };
    const bytes = (...parts: (string | number[])[]) => new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));
    await refused(await patch(bytes('{"name":"', [0xff, 0xfe], '.png"}')), 400, 'VALIDATION_ERROR', { in: 'body', path: '/', message: 'not valid UTF-8' });
    await refused(await patch(bytes('{"name":"', [0xc0, 0xaf], '.png"}')), 400, 'VALIDATION_ERROR', { in: 'body', path: '/', message: 'not valid UTF-8' });
    await refused(await patch('{"name":"a\\ud800.png"}'), 400, 'VALIDATION_ERROR', { in: 'body', path: '/name', message: 'lone surrogate' });
    await refused(await patch('{"custom_metadata":{"k\\udc00":"v"}}'), 400, 'VALIDATION_ERROR', { in: 'body', path: '/custom_metadata/k\udc00', message: 'lone surrogate' });
    await refused(await patch('{"name":"b.png"}', 'application/json; charset=latin1'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(((await (await fetch(`${server.url}/api/files/${file.id}`, { headers: { 'x-api-key': key } })).json()) as { name: string }).name).toBe('utf.png');
    // A pair of escapes is one character, and UTF-8 in any case is UTF-8.
    const ok = await patch('{"name":"\\ud83d\\udcf7 caf\u00e9.png"}', 'application/json; charset="UTF-8"');
    expect([ok.status, ((await ok.json()) as { name: string }).name]).toEqual([200, '📷 café.png']);
    // US-ASCII is UTF-8's first half: taken, and it takes effect.
    const ascii = await patch('{"name":"plain.png"}', 'application/json; charset=US-ASCII');
    expect([ascii.status, ((await ascii.json()) as { name: string }).name]).toEqual([200, 'plain.png']);
    expect(errorsLogged()).toEqual([]);
  });

  test('a path segment whose percent-escapes do not decode is a 400 in the API\'s words (it was the validator\'s "Expected property \'id\' to be string but found: null")', async () => {
    // `%FF` has its two hex digits: the message names UTF-8 too (it spoke of the digits only).
    for (const path of ['/i/%ZZ', '/v/%ZZ', '/t/w_100/%ZZ', `/api/files/%E0%A4%A`, '/i/%FF', '/api/files/a%C0%AFb']) {
      const res = await fetch(`${server.url}${path}`, { headers: { 'x-api-key': key } });
      const out = (await res.json()) as { error: string; message: string; details: { fields: { in: string; message: string }[] } };
      expect({ path, status: res.status, error: out.error, field: out.details.fields[0] }).toEqual({
        path, status: 400, error: 'VALIDATION_ERROR', field: expect.objectContaining({ in: 'path', message: 'is not valid percent-encoding (each % starts two hex digits, and together they spell UTF-8)' }),
      });
    }
  });

  test('a JSON body nested thousands deep is a 400 in the envelope (5 000 `[` in a field overflowed the validator\'s message: Bun\'s plain-text 500)', async () => {
    for (const levels of [5000, 100_000]) {
      const res = await fetch(`${server.url}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: `{"email":${'['.repeat(levels)}${']'.repeat(levels)},"password":"x"}`,
      });
      const out = (await res.json().catch(() => null)) as { error: string; message: string } | null;
      expect({ levels, status: res.status, error: out?.error, id: res.headers.get('x-request-id') !== null }).toEqual({ levels, status: 400, error: 'VALIDATION_ERROR', id: true });
      expect(out?.message).toContain('deeper than 32 levels');
    }
    // Ordinary nesting (a settings patch with its watermark map) is untouched.
    const patched = await fetch(`${server.url}/api/settings`, {
      method: 'PATCH', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ watermarks: {} }),
    });
    expect(patched.status).toBe(200);
    expect(errorsLogged()).toEqual([]);
  });

  test('GET /i and range requests carry Content-Length equal to the bytes sent (fs storage, Bun)', async () => {
    await expectContentLength(server, id, png);
  });

  test('API JSON, errors, /docs and /openapi.json carry the hardening headers; delivery keeps its own', async () => {
    const auth = { 'x-api-key': key };
    const responses: [string, Response][] = [
      ['/api/profile', await fetch(`${server.url}/api/profile`, { headers: auth })],
      ['401', await fetch(`${server.url}/api/profile`)],
      ['404', await fetch(`${server.url}/no/such/route`)],
      ['400', await fetch(`${server.url}/api/files?nope=1`, { headers: auth })],
      ['/docs', await fetch(`${server.url}/docs`)],
      ['/openapi.json', await fetch(`${server.url}/openapi.json`)],
      ['/health', await fetch(`${server.url}/health`)],
    ];
    for (const [what, res] of responses) {
      await res.arrayBuffer();
      const got = Object.fromEntries(Object.keys(HARDENED).map((h) => [h, res.headers.get(h)]));
      // /docs names itself to its own origin only, so a sign-in sent from it keeps the browser's session (auth/cookies.ts).
      const want = what === '/docs' ? { ...HARDENED, 'referrer-policy': 'same-origin' } : HARDENED;
      expect({ what, ...got }).toEqual({ what, ...want });
    }
    // The reset page keeps its stricter policy (which also forbids framing).
    const page = await fetch(`${server.url}/reset-password?token=abc`);
    await page.arrayBuffer();
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    // Delivery: embeddable bytes, nosniff, no framing headers; its errors still get nosniff.
    for (const path of [`/i/${id}`, `/t/w_20/${id}`]) {
      const res = await fetch(`${server.url}${path}`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBeNull();
      expect(res.headers.get('content-security-policy')).toBeNull();
    }
    const missing = await fetch(`${server.url}/i/AAAAAAAAAAAA`);
    await missing.arrayBuffer();
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('a client that disconnects mid-upload: debug line, status 499 and pictor_http_client_aborts_total, no error and no 500', async () => {
    await expectQuietDisconnect(server, png);
  });
});

describe('on Deno', () => {
  let server: RunningServer;
  let id: string;
  let png: Buffer;
  beforeAll(async () => {
    server = await startServer({ runtime: 'deno', timeoutMs: 60_000, env: { LOG_LEVEL: 'debug' } });
    png = await noisePng();
    id = await upload(server, png);
  }, 90_000);
  afterAll(() => server?.close());

  test('GET /i and range requests carry Content-Length equal to the bytes sent (fs storage, Deno)', async () => {
    await expectContentLength(server, id, png);
  });

  test('a client that disconnects mid-upload on Deno: status 499, counted, no error and no 500', async () => {
    await expectQuietDisconnect(server, png);
  });
});

describe('on Deno with S3 storage', () => {
  let minio: Minio;
  let server: RunningServer;
  let id: string;
  let png: Buffer;
  beforeAll(async () => {
    minio = await startMinio();
    server = await startServer({ runtime: 'deno', timeoutMs: 60_000, env: minio.env(await minio.createBucket()) });
    png = await noisePng();
    id = await upload(server, png);
  }, 90_000);
  afterAll(async () => {
    await server?.close();
    await minio?.stop();
  });

  test('GET /i and range requests carry Content-Length equal to the bytes sent (S3 storage, Deno)', async () => {
    await expectContentLength(server, id, png);
  });
});
