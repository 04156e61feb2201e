/**
 * Hostile input over real HTTP (issue #17 points 7, 8, 11, 13, 14): malformed multipart bodies,
 * too many parts, out-of-range dates, bidi and invisible characters in names, and truncated or
 * corrupt images. Each answer is a 4xx in the error envelope, never a 500, and a refused upload
 * leaves no object and no row behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';

interface ErrorJson { error: string; message: string; details?: Record<string, unknown> }
interface FileJson { id: string; name: string; folder: string; expires_at: string | null }

const png = (w = 24, h = 16, background = '#3366cc') => sharp({ create: { width: w, height: h, channels: 3, background } }).png().toBuffer();
const CRLF = '\r\n';
const B = 'hostileBoundary42';

/** One multipart part: raw header lines (as given) and a body. */
function part(headers: string[], body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`--${B}${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}`, 'latin1'), Buffer.from(body), Buffer.from(CRLF)]);
}
const filePart = (bytes: Buffer, filename = 'a.png', field = 'file') =>
  part([`Content-Disposition: form-data; name="${field}"; filename="${filename}"`, 'Content-Type: image/png'], bytes);
const closing = Buffer.from(`--${B}--${CRLF}`);

describe('hostile input (issue #17)', () => {
  let srv: RunningServer;
  let key: string;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
  const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  /** POSTs a hand-built multipart body under `contentType` (default: this file's boundary). */
  const postForm = (body: Buffer, contentType = `multipart/form-data; boundary=${B}`) =>
    api('/api/files', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType } });
  const filesCount = async () => ((await (await api('/api/files?limit=1')).json()) as { count: number }).count;
  /** Stored objects outside the fs driver's temp dir, and what the temp dir still holds. */
  const objects = async () => {
    const root = join(srv.dataDir, 'files');
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).length;
  };
  const usage = async () => (await (await api('/api/usage')).json()) as { storage_bytes: number; files_count: number };
  /** What a refused upload must not change; the read-side counters (image_ops, bytes_served) move with earlier tests' background derive jobs. */
  const snapshot = async () => {
    const { storage_bytes, files_count } = await usage();
    return { files: await filesCount(), objects: await objects(), usage: { storage_bytes, files_count } };
  };
  /** Expects `res` to be `status` with `code` in the envelope; returns the body. */
  const expectError = async (res: Response, status: number, code: string): Promise<ErrorJson> => {
    const text = await res.text();
    // A 500 shows the server's own account of it (its error log lines) in the failure.
    const serverErrors = res.status >= 500 ? srv.logs.filter((l) => l.level === 'error').slice(-3) : [];
    expect({ status: res.status, text, serverErrors }).toMatchObject({ status });
    const body = JSON.parse(text) as ErrorJson;
    expect(body.error).toBe(code);
    expect(typeof body.message).toBe('string');
    return body;
  };
  const upload = async (bytes: Buffer, filename = 'a.png', extra: Record<string, string> = {}) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(extra)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(bytes)]), filename);
    return api('/api/files', { method: 'POST', body: form });
  };

  beforeAll(async () => {
    srv = await startServer({ env: { MAX_UPLOAD_BYTES: '4MiB', DISABLE_RATE_LIMIT: 'true' } });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(() => srv?.close());

  describe('point 7: truncated or corrupt images never answer 500', () => {
    const noise = (w: number, h: number) => sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } });
    const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
    const rawUpload = (bytes: Buffer, type: string) => api('/api/files', { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': type } });

    test('truncated JPEG, PNG, AVIF and unreadable GIF/WebP → 415 with the reason at upload; nothing stored', async () => {
      const before = await snapshot();
      const jpeg = await noise(200, 150).jpeg().toBuffer();
      const cases: [string, Buffer, RegExp][] = [
        ['a.jpg', half(jpeg), /end-of-image marker/],
        ['b.jpg', jpeg.subarray(0, jpeg.length - 2), /end-of-image marker/],
        ['c.png', half(await noise(200, 150).png().toBuffer()), /ends inside its "IDAT" chunk/],
        ['d.avif', half(await noise(200, 150).avif({ effort: 0 }).toBuffer()), /ends inside its/],
        ['e.gif', half(await noise(200, 150).gif().toBuffer()), /gif/i],
        ['f.webp', half(await noise(200, 150).webp().toBuffer()), /webp/i],
      ];
      for (const [name, bytes, reason] of cases) {
        const body = await expectError(await upload(bytes, name), 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect({ name, reason: body.details?.reason }).toEqual({ name, reason: expect.stringMatching(reason) });
        expect(body.message).toContain('cannot be decoded');
      }
      await expectError(await rawUpload(half(jpeg), 'image/jpeg'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await snapshot()).toEqual(before);
    });

    test('whole images with data after the JPEG end marker, or a PNG without IEND, are accepted and render', async () => {
      const png = await noise(60, 40).png().toBuffer();
      for (const bytes of [Buffer.concat([await noise(60, 40).jpeg().toBuffer(), randomBytes(4096)]), png.subarray(0, png.length - 12)]) {
        const res = await upload(bytes, 'ok.img');
        expect(res.status).toBe(201);
        const { file } = (await res.json()) as { file: FileJson };
        const t = await fetch(`${srv.url}/t/w_20/${file.id}`);
        expect(t.status).toBe(200);
        expect((await sharp(Buffer.from(await t.arrayBuffer())).metadata()).width).toBe(20);
      }
    });

    test('an image corrupt inside its data: stored, then 422 UNPROCESSABLE_IMAGE for every variant, remembered, never re-rendered', async () => {
      // Damage inside the first IDAT chunk's data: lengths intact, so only decoding can tell.
      const png = Buffer.from(await noise(400, 300).png().toBuffer());
      randomBytes(500).copy(png, png.indexOf('IDAT') + 4 + 1000);
      const res = await upload(png, 'corrupt.png');
      expect(res.status).toBe(201);
      const { file } = (await res.json()) as { file: FileJson };
      const renders = async () => ((await (await api('/api/cache/stats')).json()) as { transforms: { completed: number } }).transforms.completed;

      const first = await expectError(await fetch(`${srv.url}/t/w_50/${file.id}`), 422, 'UNPROCESSABLE_IMAGE');
      expect(first.details?.reason).toMatch(/png/i);
      expect(first.message).toContain('cannot be decoded');
      // Derive jobs render too (a failed render counts as completed): this upload's, and those of
      // the earlier tests' uploads, which wait until the server has had no upload for a moment
      // (QUEUE_DEFER_MS). Count only once every one of them has finished.
      const ended = new Set(['completed', 'failed', 'cancelled']);
      for (;;) {
        const jobs = (await (await api('/api/queue/jobs?type=derive&limit=200')).json()) as { results: { file_id: string | null; status: string }[] };
        if (jobs.results.some((j) => j.file_id === file.id) && jobs.results.every((j) => ended.has(j.status))) break;
        await Bun.sleep(50);
      }
      const done = await renders();
      for (const variant of ['w_50', 'w_60,f_webp', 'h_10,f_jpg', 'f_auto']) {
        const again = await expectError(await fetch(`${srv.url}/t/${variant}/${file.id}`), 422, 'UNPROCESSABLE_IMAGE');
        expect(again.details?.reason).toBe(first.details?.reason);
      }
      expect(await renders()).toBe(done); // answered from memory: no render ran
      // The original itself is still served as uploaded.
      expect((await fetch(`${srv.url}/i/${file.id}`)).status).toBe(200);
    });
  });

  describe('point 8: malformed multipart bodies → 400 VALIDATION_ERROR, nothing stored', () => {
    test('no boundary, an empty boundary, a boundary the body does not use', async () => {
      const before = await snapshot();
      const body = Buffer.concat([filePart(await png()), closing]);
      const none = await expectError(await postForm(body, 'multipart/form-data'), 400, 'VALIDATION_ERROR');
      expect(none.message).toMatch(/boundary/i);
      await expectError(await postForm(body, 'multipart/form-data; boundary='), 400, 'VALIDATION_ERROR');
      const wrong = await expectError(await postForm(body, 'multipart/form-data; boundary=notTheOneUsed'), 400, 'VALIDATION_ERROR');
      expect(wrong.message).toMatch(/malformed multipart/i);
      expect(await snapshot()).toEqual(before);
    });

    test('a part without a name, file or field: said in words (it was a TypeError\'s)', async () => {
      const before = await snapshot();
      for (const headers of [['Content-Disposition: form-data; filename="a.txt"'], ['Content-Disposition: form-data']]) {
        const res = await expectError(await postForm(Buffer.concat([part(headers, 'hello'), closing])), 400, 'VALIDATION_ERROR');
        expect(res.message).toMatch(/has no name/);
        expect(res.message).not.toMatch(/undefined|evaluating/);
        // The refused part's stream was destroyed with no one listening: the process ended.
        expect((await fetch(`${srv.url}/health`)).status).toBe(200);
      }
      expect(await snapshot()).toEqual(before);
      expect(srv.proc.exitCode).toBeNull();
    });

    test('a file part without the closing boundary (body ends mid-form)', async () => {
      const before = await snapshot();
      const res = await expectError(await postForm(filePart(await png())), 400, 'VALIDATION_ERROR');
      expect(res.message).toMatch(/unexpected end of form/i);
      // A text field first, then a file part cut off inside its bytes.
      const cut = Buffer.concat([part(['Content-Disposition: form-data; name="folder"'], '/x'), filePart(await png()).subarray(0, 200)]);
      await expectError(await postForm(cut), 400, 'VALIDATION_ERROR');
      expect(await snapshot()).toEqual(before);
    });

    test('CR, LF or NUL inside a part header, an oversized header block, 2000 header lines', async () => {
      const before = await snapshot();
      const bodies = [
        part(['Content-Disposition: form-data; name="file"; filename="a\r.png"', 'Content-Type: image/png'], await png()),
        part(['Content-Disposition: form-data; name="file"; filename="a\n.png"', 'Content-Type: image/png'], await png()),
        part(['Content-Disposition: form-data; name="file"; filename="a\u0000.png"', 'Content-Type: image/png'], await png()),
        part(['Content-Disposition: form-data; name="fi\u0000le"; filename="a.png"', 'Content-Type: image/png'], await png()),
        part(['Content-Disposition: form-data; name="file"; filename="a.png"', `X-Pad: ${'p'.repeat(20_000)}`], await png()),
        part(['Content-Disposition: form-data; name="file"; filename="a.png"', ...Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`)], await png()),
      ];
      for (const [i, p] of bodies.entries()) {
        const res = await postForm(Buffer.concat([p, closing]));
        const text = await res.text();
        // Each is refused with 400 naming what was wrong; none is a 5xx and none is stored.
        expect({ i, status: res.status }).toEqual({ i, status: 400 });
        const body = JSON.parse(text) as ErrorJson;
        expect(body.error).toBe('VALIDATION_ERROR');
        expect(body.message.length).toBeGreaterThan(10);
      }
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('point 11: more file parts than the limit → 400, nothing stored, never dropped silently', () => {
    test('1000 and 21 file parts are refused whole; 20 are accepted', async () => {
      const before = await snapshot();
      const one = await png(4, 4);
      const form = (n: number) => Buffer.concat([...Array.from({ length: n }, (_, i) => filePart(one, `p${i}.png`)), closing]);
      for (const n of [1000, 21]) {
        const body = await expectError(await postForm(form(n)), 400, 'VALIDATION_ERROR');
        expect(body.message).toContain('At most 20 files per request');
        expect(await snapshot()).toEqual(before);
      }
      const ok = await postForm(form(20));
      expect(ok.status).toBe(201);
      const j = (await ok.json()) as { count: number; errors: unknown[] };
      expect(j).toMatchObject({ count: 20, errors: [] });
      expect(await filesCount()).toBe(before.files + 20);
    });

    test('a text field longer than the field limit is refused, not cut', async () => {
      const before = await snapshot();
      // Cut at 8 KiB and then to 255 characters, this name used to be stored silently.
      const body = Buffer.concat([part(['Content-Disposition: form-data; name="name"'], `${'a'.repeat(9000)}.png`), filePart(await png()), closing]);
      const res = await expectError(await postForm(body), 400, 'VALIDATION_ERROR');
      expect(res.message).toMatch(/longer than/);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('point 13: dates out of range → 400 VALIDATION_ERROR', () => {
    const far = ['9999-12-31T23:59:59Z', '+275760-09-13T00:00:00.000Z', '10000-01-01T00:00:00Z', new Date(Date.now() + 101 * 365 * 86_400_000).toISOString()];

    test('upload expires_at (multipart field and raw query): far future and past refused, nothing stored', async () => {
      const before = await snapshot();
      for (const at of [...far, '2000-01-01T00:00:00Z']) {
        const body = await expectError(await upload(await png(), 'a.png', { expires_at: at }), 400, 'VALIDATION_ERROR');
        expect(body.details?.fields).toEqual([expect.objectContaining({ path: '/expires_at' })]);
        await expectError(
          await api(`/api/files?expires_at=${encodeURIComponent(at)}`, { method: 'POST', body: new Uint8Array(await png()), headers: { 'content-type': 'image/png' } }),
          400, 'VALIDATION_ERROR',
        );
      }
      expect(await snapshot()).toEqual(before);
      const inRange = new Date(Date.now() + 50 * 365 * 86_400_000).toISOString();
      const ok = await upload(await png(), 'a.png', { expires_at: inRange });
      expect(ok.status).toBe(201);
      expect(((await ok.json()) as { file: FileJson }).file.expires_at).toBe(inRange);
    });

    test('an upload refuses what it would have dropped without a word: both expiries, a day that does not exist, a one-value field sent twice', async () => {
      const before = await snapshot();
      const both = { expires_in: '3600', expires_at: new Date(Date.now() + 86_400_000).toISOString() };
      // expires_in won (and expires_in=0 cleared an expires_at); 2030-02-30 was stored as 2 March.
      const body = await expectError(await upload(await png(), 'a.png', both), 400, 'VALIDATION_ERROR');
      expect(body.message).toBe('Send expires_in or expires_at, not both.');
      await expectError(await api(`/api/files?${new URLSearchParams(both)}`, { method: 'POST', body: new Uint8Array(await png()), headers: { 'content-type': 'image/png' } }), 400, 'VALIDATION_ERROR');
      await expectError(await upload(await png(), 'a.png', { expires_at: '2030-02-30T00:00:00Z' }), 400, 'VALIDATION_ERROR');
      for (const [field, values] of [['folder', ['/a', '/b']], ['metadata', ['{"a":"1"}', '{"b":"2"}']], ['expires_in', ['60', '0']]] as const) {
        const form = new FormData();
        for (const v of values) form.append(field, v);
        form.append('file', new Blob([new Uint8Array(await png())]), 'a.png');
        const twice = await expectError(await api('/api/files', { method: 'POST', body: form }), 400, 'VALIDATION_ERROR');
        expect(twice.details?.fields).toEqual([expect.objectContaining({ path: `/${field}` })]);
      }
      expect(await snapshot()).toEqual(before);
      // Tags and transformations may repeat, as documented.
      const tags = new FormData();
      tags.append('tags', 'a');
      tags.append('tags', 'b');
      tags.append('file', new Blob([new Uint8Array(await png())]), 'a.png');
      const tagged = await api('/api/files', { method: 'POST', body: tags });
      expect(tagged.status).toBe(201);
      expect(((await tagged.json()) as { file: { tags: string[] } }).file.tags).toEqual(['a', 'b']);
    });

    test('PATCH /api/files/:id and POST /api/auth/api-keys refuse far-future expires_at; the file is unchanged', async () => {
      const res = await upload(await png());
      expect(res.status).toBe(201);
      const { file } = (await res.json()) as { file: FileJson };
      for (const at of far) {
        const r = await api(`/api/files/${file.id}`, json('PATCH', { expires_at: at }));
        expect(r.status).toBe(400);
        expect(((await r.json()) as ErrorJson).error).toBe('VALIDATION_ERROR');
      }
      expect(((await (await api(`/api/files/${file.id}`)).json()) as FileJson).expires_at).toBeNull();

      // API keys are managed with a session: sign in as the bootstrap admin.
      const login = await fetch(`${srv.url}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: srv.bootstrap!.email, password: srv.bootstrap!.initial_password }),
      });
      expect(login.status).toBe(200);
      const token = ((await login.json()) as { session: { access_token: string } }).session.access_token;
      for (const at of far) {
        const r = await fetch(`${srv.url}/api/auth/api-keys`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ expires_at: at }),
        });
        expect({ at, status: r.status }).toEqual({ at, status: 400 });
        expect(((await r.json()) as ErrorJson).error).toBe('VALIDATION_ERROR');
      }
    });

    test('the request log\'s since= with a six-digit year is a 400 (the fuzz found a 500: Postgres refused the time)', async () => {
      for (const at of ['+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '0000-01-01T00:00:00Z']) {
        const r = await api(`/api/logs?since=${encodeURIComponent(at)}`);
        expect({ at, status: r.status }).toEqual({ at, status: 400 });
        expect(((await r.json()) as ErrorJson).error).toBe('VALIDATION_ERROR');
      }
      expect((await api(`/api/logs?since=${encodeURIComponent('9999-12-31T23:59:59Z')}`)).status).toBe(200);
      expect((await api(`/api/logs?since=${encodeURIComponent('2026-01-15T12:00:00+02:00')}`)).status).toBe(200);
    });
  });

  describe('point 13: durations out of range → 400 on every route that takes one', () => {
    test('upload expires_in, settings default_expires_in, presign, signed-url and invite expires_in; presign max_size', async () => {
      const before = await snapshot();
      // Decimal only: `0x10`, `1e2`, ` 60` and `+60` were read as 16, 100 and 60 seconds.
      for (const v of ['1e20', '99999999999999999999', '-5', '3153600001', '1.5', '0x10', '1e2', ' 60', '+60']) {
        await expectError(await upload(await png(), 'a.png', { expires_in: v }), 400, 'VALIDATION_ERROR');
        await expectError(
          await api(`/api/files?expires_in=${v}`, { method: 'POST', body: new Uint8Array(await png()), headers: { 'content-type': 'image/png' } }),
          400, 'VALIDATION_ERROR',
        );
      }
      expect(await snapshot()).toEqual(before);
      const me = ((await (await api('/api/profile')).json()) as { user: { id: string } }).user.id;
      const { file } = (await (await upload(await png())).json()) as { file: FileJson };
      const huge = [1e20, 2 ** 53, -1, 0];
      for (const n of huge) {
        for (const [path, body] of [
          ['/api/settings', { default_expires_in: n }],
          ['/api/uploads/presign', { expires_in: n }],
          [`/api/files/${file.id}/signed-url`, { expires_in: n }],
          [`/api/admin/users/${me}/invites`, { expires_in: n }],
        ] as const) {
          const r = await api(path, json(path === '/api/settings' ? 'PATCH' : 'POST', body));
          expect({ path, n, status: r.status }).toEqual({ path, n, status: 400 });
          expect(((await r.json()) as ErrorJson).error).toBe('VALIDATION_ERROR');
        }
      }
      // A presign's max_size beyond what a bigint and a double both hold exactly was a 500.
      for (const n of [1e308, 1e19, 2 ** 63, 2 ** 53, 0, -1, 1.5]) {
        const r = await api('/api/uploads/presign', json('POST', { max_size: n }));
        expect({ n, status: r.status }).toEqual({ n, status: 400 });
        expect(((await r.json()) as ErrorJson).error).toBe('VALIDATION_ERROR');
      }
      expect((await api('/api/uploads/presign', json('POST', { max_size: 2 ** 53 - 1 }))).status).toBe(201);
    });
  });

  describe('point 14: bidi overrides and invisible characters are stripped from names', () => {
    test('multipart filename, X-File-Name, the name field and a rename', async () => {
      const spoof = 'invoice\u202Efdp\u200B\u2066.exe';
      const viaPart = await upload(await png(), spoof);
      expect(viaPart.status).toBe(201);
      const { file } = (await viaPart.json()) as { file: FileJson };
      expect(file.name).toBe('invoicefdp.exe');

      // Names are read as the UTF-8 browsers send: accents and right-to-left scripts stay as they are.
      const intl = await upload(await png(), 'Résumé صورة.png');
      expect(((await intl.json()) as { file: FileJson }).file.name).toBe('Résumé صورة.png');

      const viaField = await upload(await png(), 'x.png', { name: 'a\u200Fb\u061C\u00ADc\u0085.png' });
      expect(((await viaField.json()) as { file: FileJson }).file.name).toBe('abc.png');

      const raw = await api('/api/files', {
        method: 'POST', body: new Uint8Array(await png()),
        headers: { 'content-type': 'image/png', 'x-file-name': `UTF-8''${encodeURIComponent('photo\u202Egnp.js\u2069')}` },
      });
      expect(raw.status).toBe(201);
      expect(((await raw.json()) as { file: FileJson }).file.name).toBe('photognp.js');

      // A rename is the caller's own words: refused rather than changed (a folder is, too).
      await expectError(await api(`/api/files/${file.id}`, json('PATCH', { name: 'pay\u200Dpal\u202D\u2067.pdf' })), 400, 'VALIDATION_ERROR');
      const renamed = await api(`/api/files/${file.id}`, json('PATCH', { name: 'paypal.pdf' }));
      expect(renamed.status).toBe(200);
      expect(((await renamed.json()) as FileJson).name).toBe('paypal.pdf');
      const download = await fetch(`${srv.url}/d/${file.id}`);
      expect(decodeURIComponent(download.headers.get('content-disposition') ?? '')).not.toMatch(/[\u200B-\u200F\u202A-\u202E\u2066-\u2069]/);

      await expectError(await api(`/api/files/${file.id}`, json('PATCH', { folder: '/a\u202Eb' })), 400, 'VALIDATION_ERROR');
    });
  });

  describe('names of Object properties (`__proto__`, `constructor`, …) are plain names', () => {
    test('a /t extension, a list filter, tus metadata, a form field and a declared type: 4xx or ignored, and the process is not poisoned', async () => {
      const { file } = (await (await upload(await png())).json()) as { file: FileJson };
      // `.__proto__` found Object.prototype as the output format, and the parser's deepFreeze froze it for the whole
      // process: every later request that set a key named like one of its members answered 500.
      for (const ext of ['__proto__', 'constructor', 'toString']) {
        const res = await fetch(`${srv.url}/t/w_10/${file.id}.${ext}`);
        expect((await expectError(res, 400, 'INVALID_TRANSFORMATION')).message).toContain(ext);
      }
      for (const name of ['constructor', 'toString', 'valueOf']) {
        const listed = await api(`/api/files?meta=${name}:1`);
        expect({ name, status: listed.status }).toEqual({ name, status: 200 });
        expect(((await listed.json()) as { count: number }).count).toBe(0);

        const metadata = `${name} ${btoa('x')},__proto__ ${btoa('y')},filename ${btoa('t.bin')}`;
        const created = await api('/api/uploads/tus', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '3', 'upload-metadata': metadata } });
        expect({ name, status: created.status }).toEqual({ name, status: 201 });
        expect((await api(new URL(created.headers.get('location')!, srv.url).pathname, { method: 'DELETE', headers: { 'tus-resumable': '1.0.0' } })).status).toBe(204);

        // An unknown form field like any other, named in the answer.
        const form = await expectError(await upload(await png(), 'a.png', { [name]: 'x' }), 400, 'VALIDATION_ERROR');
        expect(JSON.stringify(form)).toContain(`/${name}`);
      }
      const declared = await api('/api/files', { method: 'POST', body: new Uint8Array(await png()), headers: { 'content-type': '__proto__' } });
      expect((await expectError(declared, 415, 'UNSUPPORTED_MEDIA_TYPE')).message).toContain('__proto__');
    });
  });
});
