/**
 * Resumable uploads over tus (issue #22) with the real `tus-js-client` against a started server,
 * on disk and on S3 (MinIO): a connection killed mid-chunk and a server restarted between two
 * chunks both resume to a file whose sha256 is the source's; and the rules every upload obeys
 * (limit at creation and while receiving, sniffed type, quota, rate limits, checksum, expiry).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload, type HttpResponse } from 'tus-js-client';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { LEASE_MS } from '../../src/modules/tus/service';
import { TUS_RETRY_DELAYS } from '../../web/src/upload-queue';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Random hex text (sniffed as text/plain, an allowed type). */
const textBytes = (n: number) => Buffer.from(randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

interface RunOptions {
  endpoint: string;
  key: string;
  data: Buffer;
  chunkSize?: number;
  uploadUrl?: string;
  metadata?: Record<string, string>;
  /** Called with the upload and the bytes sent so far, on progress. */
  onProgress?: (u: Upload, sent: number) => void;
  onChunkComplete?: (u: Upload, accepted: number) => void;
}

/** Starts a tus-js-client upload; `done` settles with the last response (or the error), `upload` to abort or resume. */
function tus(o: RunOptions) {
  let settle!: (r: { response?: HttpResponse; error?: Error }) => void;
  const done = new Promise<{ response?: HttpResponse; error?: Error }>((r) => (settle = r));
  const upload: Upload = new Upload(o.data, {
    endpoint: o.endpoint,
    uploadUrl: o.uploadUrl ?? null,
    chunkSize: o.chunkSize ?? 5 * MiB,
    retryDelays: null,
    headers: { authorization: `Bearer ${o.key}` },
    metadata: o.metadata ?? { filename: 'big.txt', filetype: 'text/plain' },
    onProgress: (sent) => o.onProgress?.(upload, sent),
    onChunkComplete: (_size, accepted) => o.onChunkComplete?.(upload, accepted),
    onSuccess: ({ lastResponse }) => settle({ response: lastResponse }),
    onError: (error) => settle({ error }),
  });
  upload.start();
  return { upload, done };
}

async function fileOf(srv: RunningServer, key: string, id: string) {
  const res = await fetch(`${srv.url}/api/files/${id}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; sha256: string; size: number; name: string; folder: string; is_public: boolean };
}

async function storedSha(srv: RunningServer, key: string, id: string): Promise<string> {
  const res = await fetch(`${srv.url}/api/files/${id}/original`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return sha(new Uint8Array(await res.arrayBuffer()));
}

let minio: Minio | undefined;
afterAll(() => minio?.stop());

for (const driver of ['fs', 's3'] as const) {
  describe(`tus resumable uploads to ${driver}`, () => {
    let srv: RunningServer;
    let env: Record<string, string> = {};
    let key = '';
    let bucket = '';
    let firstDir = '';
    const endpoint = () => `${srv.url}/api/uploads/tus`;

    beforeAll(async () => {
      if (driver === 's3') {
        minio ??= await startMinio();
        bucket = await minio.createBucket();
        env = minio.env(bucket);
      }
      srv = await startServer({ env });
      key = srv.bootstrap!.api_key;
      firstDir = srv.dataDir;
    }, 120_000);
    afterAll(async () => {
      await srv?.close();
      await rm(firstDir, { recursive: true, force: true }); // the restarted server does not own it
    });

    test('50 MiB in 5 MiB chunks: the connection killed mid-chunk, resumed, same sha256', async () => {
      const data = textBytes(50 * MiB);
      let aborted = false;
      const first = tus({
        endpoint: endpoint(), key, data,
        onProgress: (u, sent) => {
          // Mid-chunk: 22 MiB is inside the fifth 5 MiB chunk.
          if (!aborted && sent >= 22 * MiB) {
            aborted = true;
            void u.abort();
          }
        },
      });
      await waitFor('the abort', async () => aborted);
      const url = first.upload.url as string;
      expect(url).toContain('/api/uploads/tus/');
      // The server kept what arrived of the cut chunk, or at least the chunks before it.
      const offset = await waitFor('a settled offset', async () => {
        const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0' } });
        expect(head.status).toBe(200);
        const n = Number(head.headers.get('upload-offset'));
        // Wait until the cut PATCH has finished on the server (its lease is free and the offset stable).
        const probe = await fetch(url, {
          method: 'PATCH', body: new Uint8Array(0),
          headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', 'upload-offset': String(n), 'content-type': 'application/offset+octet-stream' },
        });
        return probe.status === 204 ? n : undefined;
      });
      expect(offset).toBeGreaterThanOrEqual(20 * MiB);
      expect(offset).toBeLessThan(50 * MiB);
      const second = tus({ endpoint: endpoint(), key, data, uploadUrl: url });
      const { response, error } = await second.done;
      expect(error).toBeUndefined();
      const id = response!.getHeader('x-file-id') as string;
      const file = await fileOf(srv, key, id);
      expect(file.size).toBe(data.length);
      expect(file.sha256).toBe(sha(data));
      expect(await storedSha(srv, key, id)).toBe(sha(data));
      if (driver === 's3') expect(await minio!.pendingUploads(bucket)).toBe(0);
      else expect(await readdir(join(srv.dataDir, 'files', '.tus'))).toEqual([]);
    }, 180_000);

    test('the server restarted between two chunks: the upload goes on from its offset', async () => {
      const data = textBytes(50 * MiB);
      let stopAt = 0;
      const first = tus({
        endpoint: endpoint(), key, data,
        onChunkComplete: (u, accepted) => {
          if (!stopAt && accepted >= 15 * MiB) {
            stopAt = accepted;
            void u.abort();
          }
        },
      });
      await waitFor('three chunks', async () => stopAt > 0);
      const path = new URL(first.upload.url as string).pathname;
      await srv.stop();
      srv = await startServer({ env, dataDir: srv.dataDir });
      const second = tus({ endpoint: endpoint(), key, data, uploadUrl: `${srv.url}${path}` });
      const { response, error } = await second.done;
      expect(error).toBeUndefined();
      const id = response!.getHeader('x-file-id') as string;
      expect((await fileOf(srv, key, id)).sha256).toBe(sha(data));
      expect(await storedSha(srv, key, id)).toBe(sha(data));
    }, 240_000);

    test('a chunk refused by its checksum leaves the stored bytes as they were', async () => {
      // On S3 each of these chunks ends below a part: its bytes are sent as the tail while they
      // arrive, so the refused chunk has already replaced the stored tail with a longer one.
      const call = tusCall(srv.url, key);
      const data = textBytes(3 * MiB);
      const up = await call('POST', '/api/uploads/tus', { 'upload-length': String(data.length), 'upload-metadata': `filetype ${b64('text/plain')}` });
      expect(up.status).toBe(201);
      const path = up.headers.get('location')!;
      const patch = (from: number, to: number, checksum?: string) => call('PATCH', path, {
        ...OCTETS, 'upload-offset': String(from), ...(checksum ? { 'upload-checksum': `sha256 ${checksum}` } : {}),
      }, data.subarray(from, to));
      expect((await patch(0, MiB)).status).toBe(204);
      const wrong = createHash('sha256').update('not these bytes').digest('base64');
      expect((await patch(MiB, 2 * MiB, wrong)).status).toBe(460);
      expect((await call('HEAD', path)).headers.get('upload-offset')).toBe(String(MiB));
      expect((await patch(MiB, 2 * MiB)).status).toBe(204);
      const last = await patch(2 * MiB, 3 * MiB);
      expect(last.status).toBe(204);
      const id = last.headers.get('x-file-id')!;
      expect((await fileOf(srv, key, id)).sha256).toBe(sha(data));
      expect(await storedSha(srv, key, id)).toBe(sha(data));
    }, 120_000);
  });
}

/** One tus request by hand (exact headers and bodies the checks need). */
function tusCall(base: string, auth: string) {
  return async (method: string, path: string, headers: Record<string, string> = {}, body?: BodyInit) => {
    const res = await fetch(`${base}${path}`, {
      method, body, headers: { authorization: `Bearer ${auth}`, 'tus-resumable': '1.0.0', ...headers },
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as { error: string; details?: Record<string, unknown> }) : null };
  };
}
const b64 = (s: string) => Buffer.from(s).toString('base64');
const OCTETS = { 'content-type': 'application/offset+octet-stream' };

/** A PATCH body that sends `parts` in turn but holds after the first until `release()`: a PATCH the test catches mid-way. */
function heldBody(parts: Uint8Array[]): { body: ReadableStream<Uint8Array>; release: () => void; waiting: Promise<void> } {
  let release!: () => void;
  let reached!: () => void;
  const held = new Promise<void>((r) => (release = r));
  /** Settles once the first part is sent and the body waits to send the next. */
  const waiting = new Promise<void>((r) => (reached = r));
  let step = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (step === 1) {
        reached();
        await held;
      }
      if (step === parts.length) return c.close();
      c.enqueue(parts[step++]!);
    },
  });
  return { body, release, waiting };
}

describe('tus uploads obey the rules of every upload', () => {
  let srv: RunningServer;
  let n = 0;
  /** A fresh ordinary account (admins are exempt from account limits), signed in with a JWT. */
  async function account() {
    const res = await fetch(`${srv.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `tus${n++}-${Date.now()}@example.com`, password: 'correct horse 1' }),
    });
    expect(res.status).toBe(201);
    const token = ((await res.json()) as { session: { access_token: string } }).session.access_token;
    return Object.assign(tusCall(srv.url, token), { token });
  }
  const tusFiles = () => readdir(join(srv.dataDir, 'files', '.tus')).catch(() => [] as string[]);
  async function create(call: ReturnType<typeof tusCall>, headers: Record<string, string>) {
    const res = await call('POST', '/api/uploads/tus', headers);
    return { ...res, path: res.headers.get('location') ?? '' };
  }

  beforeAll(async () => {
    srv = await startServer({
      env: { MAX_UPLOAD_BYTES: '4MiB', STORAGE_QUOTA_BYTES: '6MiB', RATE_LIMIT_UPLOAD_COUNT: '3/10m', RATE_LIMIT_REGISTER: '100/1h' },
    });
  }, 120_000);
  afterAll(() => srv?.close());

  test('OPTIONS lists the version, extensions, max size and checksum algorithm', async () => {
    const res = await fetch(`${srv.url}/api/uploads/tus`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')!.split(',')).toEqual(['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration', 'checksum']);
    expect(res.headers.get('tus-checksum-algorithm')).toBe('sha256');
  });

  test('an Upload-Length over the limit is refused at creation (413)', async () => {
    const call = await account();
    const res = await create(call, { 'upload-length': String(4 * MiB + 1) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'FILE_TOO_LARGE', details: { max_bytes: 4 * MiB } });
  });

  test('a lying length is cut off while receiving and leaves nothing', async () => {
    const call = await account();
    // Deferred length, then 5 MiB streamed without Content-Length: refused as it crosses 4 MiB.
    const up = await create(call, { 'upload-defer-length': '1' });
    expect(up.status).toBe(201);
    const chunk = textBytes(256 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 5 * MiB) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const res = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, body);
    expect(res.status).toBe(413);
    expect((await call('HEAD', up.path)).status).toBe(404);
    // A declared length, then more bytes than it: refused too.
    const two = await create(call, { 'upload-length': '1000' });
    const over = await call('PATCH', two.path, { ...OCTETS, 'upload-offset': '0' }, textBytes(2000));
    expect(over.status).toBe(413);
    expect((await call('HEAD', two.path)).status).toBe(404);
    expect(await tusFiles()).toEqual([]);
  });

  test('a stale retry from offset 0 answers 409 and keeps what arrived, even when it would run past the length', async () => {
    const call = await account();
    const data = textBytes(1000);
    const up = await create(call, { 'upload-length': String(data.length) });
    expect((await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, data.subarray(0, 600))).status).toBe(204);
    // A client whose answer was lost resends the whole file from 0: 600 + 1000 > 1000 removed the upload (413).
    const stale = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, data);
    expect({ status: stale.status, error: stale.body?.error }).toEqual({ status: 409, error: 'CONFLICT' });
    expect((await call('HEAD', up.path)).headers.get('upload-offset')).toBe('600');
    const rest = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '600' }, data.subarray(600));
    expect(rest.status).toBe(204);
    expect((await call('GET', `/api/files/${rest.headers.get('x-file-id')}`)).body).toMatchObject({ size: data.length, sha256: sha(data) });
  });

  test('a refused type is answered 415 after the first chunk, with nothing left', async () => {
    const call = await account();
    const up = await create(call, { 'upload-length': String(64 * 1024), 'upload-metadata': `filename ${b64('x.exe')}` });
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff', 'latin1'), Buffer.alloc(16 * 1024 - 16, 0)]);
    const res = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, exe);
    expect(res.status).toBe(415);
    expect(res.body?.error).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await call('HEAD', up.path)).status).toBe(404);
    expect(await tusFiles()).toEqual([]);
  });

  test('eager transformations the type cannot take are a 400 at the first chunk, with nothing left (it took every chunk, then refused the last and dropped them all)', async () => {
    const call = await account();
    const up = await create(call, { 'upload-length': String(64 * 1024), 'upload-metadata': `filename ${b64('doc.pdf')},transformations ${b64('w_100')}` });
    expect(up.status).toBe(201);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(16 * 1024 - 9, 0x20)]);
    const res = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, pdf);
    expect([res.status, res.body?.error, (res.body?.details as { parameter?: string } | undefined)?.parameter]).toEqual([400, 'INVALID_TRANSFORMATION', 'transformations']);
    expect((await call('HEAD', up.path)).status).toBe(404);
    expect(await tusFiles()).toEqual([]);
  });

  test('a checksum mismatch answers 460 and discards the chunk; metadata sets name, folder, visibility and expiry', async () => {
    const call = await account();
    const data = textBytes(300 * 1024);
    const meta = [
      `name ${b64('notes.txt')}`, `folder ${b64('/tus/docs')}`, `visibility ${b64('private')}`, `expires_in ${b64('3600')}`, `filetype ${b64('text/plain')}`,
      `tags ${b64('Trip,notes')}`, `metadata ${b64('{"camera":"none"}')}`,
    ].join(',');
    // The upload fields the other routes take are applied over tus too, and refused the same way.
    for (const [key, value] of [['tags', '#bad tag'], ['metadata', 'not json'], ['expires_at', 'yesterday'], ['transformations', 'w_nope']]) {
      // A fresh account each: this server allows three uploads per account (RATE_LIMIT_UPLOAD_COUNT).
      const refused = await create(await account(), { 'upload-length': '10', 'upload-metadata': `${key} ${b64(value as string)}` });
      expect({ key, status: refused.status }).toEqual({ key, status: 400 });
    }
    const up = await create(call, { 'upload-length': String(data.length), 'upload-metadata': meta });
    expect(up.status).toBe(201);
    expect(up.headers.get('upload-expires')).toBeTruthy();
    const first = data.subarray(0, 100 * 1024);
    const wrong = createHash('sha256').update(data.subarray(1, 100 * 1024 + 1)).digest('base64');
    const bad = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', 'upload-checksum': `sha256 ${wrong}` }, first);
    expect(bad.status).toBe(460);
    expect(bad.body?.error).toBe('CHECKSUM_MISMATCH');
    // Malformed rather than mismatched: a digest of another length, a trailing word, an offset past 2^53 (was rounded).
    const short = Buffer.from(wrong, 'base64').subarray(1).toString('base64');
    for (const [name, value] of [['upload-checksum', `sha256 ${short}`], ['upload-checksum', `sha256 ${wrong} extra`], ['upload-offset', '9007199254740993']] as const) {
      const malformed = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', [name]: value }, first);
      expect({ value, status: malformed.status, error: malformed.body?.error }).toEqual({ value, status: 400, error: 'VALIDATION_ERROR' });
    }
    expect((await call('HEAD', up.path)).headers.get('upload-offset')).toBe('0');
    const right = createHash('sha256').update(first).digest('base64');
    const ok = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', 'upload-checksum': `sha256 ${right}` }, first);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('upload-offset')).toBe(String(first.length));
    const stale = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, first);
    expect(stale.status).toBe(409);
    const last = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': String(first.length) }, data.subarray(first.length));
    expect(last.status).toBe(204);
    const id = last.headers.get('x-file-id')!;
    const file = await call('GET', `/api/files/${id}`);
    expect(file.body).toMatchObject({ name: 'notes.txt', folder: '/tus/docs', is_public: false, size: data.length, sha256: sha(data), content_type: 'text/plain', tags: ['trip', 'notes'], custom_metadata: { camera: 'none' } });
    expect((file.body as unknown as { expires_at: string }).expires_at).toBeTruthy();
    expect((await call('HEAD', up.path)).headers.get('x-file-id')).toBe(id); // finished: see below
  });

  test('a finished upload\'s URL says it is whole and which file it became (a lost last answer made clients start again: a 404)', async () => {
    const call = await account();
    const data = textBytes(20_000);
    const up = await create(call, { 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('whole.txt')}` });
    const last = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, data);
    const id = last.headers.get('x-file-id');
    expect([last.status, typeof id]).toEqual([204, 'string']);
    const head = await call('HEAD', up.path);
    expect([head.status, head.headers.get('upload-offset'), head.headers.get('upload-length'), head.headers.get('x-file-id')]).toEqual([200, '20000', '20000', id]);
    // The last PATCH sent again (no bytes): the same answer. Anything else: a 409 naming the file.
    const again = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '20000' }, new Uint8Array(0));
    expect([again.status, again.headers.get('x-file-id')]).toEqual([204, id]);
    expect((await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, data)).status).toBe(409);
    const terminate = await call('DELETE', up.path);
    expect(terminate.status).toBe(409);
    expect((await call('GET', `/api/files/${id}`)).status).toBe(200);
    // Another account learns nothing.
    expect((await (await account())('HEAD', up.path)).status).toBe(404);
    // tus-js-client resuming the finished URL succeeds at once, with the file's id, sending nothing again.
    const resumed = await tus({ endpoint: `${srv.url}/api/uploads/tus`, key: call.token, data: Buffer.from(data), uploadUrl: `${srv.url}${up.path}` }).done;
    expect(resumed.error).toBeUndefined();
    expect(resumed.response?.getHeader('x-file-id')).toBe(id ?? '');
    expect(((await call('GET', '/api/files?q=whole')).body as unknown as { count: number }).count).toBe(1);
  });

  test('the storage quota and the upload_count rate limit apply', async () => {
    const call = await account();
    const three = textBytes(3 * MiB);
    const up = await create(call, { 'upload-length': String(three.length) });
    expect((await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, three)).status).toBe(204);
    // 3 MiB stored of a 6 MiB quota: 4 MiB more does not fit.
    const over = await create(call, { 'upload-length': String(4 * MiB) });
    expect(over.status).toBe(507);
    expect(over.body?.error).toBe('QUOTA_EXCEEDED');
    // Three uploads counted (two created, one refused by quota after counting): the next is over 3/10m.
    const fresh = await account();
    for (let i = 0; i < 3; i++) expect((await create(fresh, { 'upload-length': '10' })).status).toBe(201);
    const limited = await create(fresh, { 'upload-length': '10' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'RATE_LIMITED', details: { bucket: 'upload_count' } });
  });

  test('uploads under way count toward the quota at creation: two that cannot both fit are not both let in (the second found out after its last byte)', async () => {
    const call = await account();
    const first = await create(call, { 'upload-length': String(4 * MiB) });
    expect(first.status).toBe(201);
    // 4 MiB promised of a 6 MiB quota: another 4 MiB is refused now, saying why.
    const second = await create(call, { 'upload-length': String(4 * MiB) });
    expect({ status: second.status, error: second.body?.error, pending: second.body?.details?.pending_uploads }).toEqual({ status: 507, error: 'QUOTA_EXCEEDED', pending: 1 });
    expect((await call('DELETE', first.path)).status).toBe(204);
    expect((await create(call, { 'upload-length': String(4 * MiB) })).status).toBe(201);
  });

  test('uploads under way count toward the quota of raw and multipart uploads too (one was stored, and the tus upload then failed at its last byte)', async () => {
    const call = await account();
    const first = await create(call, { 'upload-length': String(4 * MiB) });
    expect(first.status).toBe(201);
    const bytes = Buffer.alloc(4 * MiB, 0x20);
    const raw = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${call.token}`, 'content-type': 'text/plain' }, body: bytes });
    expect([raw.status, ((await raw.json()) as { error: string }).error]).toEqual([507, 'QUOTA_EXCEEDED']);
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'text/plain' }), 'a.txt');
    const multi = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${call.token}` }, body: form });
    expect([multi.status, ((await multi.json()) as { error: string }).error]).toEqual([507, 'QUOTA_EXCEEDED']);
  });

  test('a deferred length is bound by the quota while receiving and when set: two such uploads could park past it until they expired', async () => {
    const call = await account();
    const first = await create(call, { 'upload-defer-length': '1' });
    const second = await create(call, { 'upload-defer-length': '1' });
    const third = await create(call, { 'upload-defer-length': '1' });
    expect([first.status, second.status, third.status]).toEqual([201, 201, 201]);
    expect((await call('PATCH', first.path, { ...OCTETS, 'upload-offset': '0' }, textBytes(3 * MiB))).status).toBe(204);
    // 3 MiB under way of a 6 MiB quota: a second upload's chunk of 4 MiB would cross it.
    const over = await call('PATCH', second.path, { ...OCTETS, 'upload-offset': '0' }, textBytes(4 * MiB));
    expect({ status: over.status, error: over.body?.error, pending: over.body?.details?.pending_bytes }).toEqual({ status: 507, error: 'QUOTA_EXCEEDED', pending: 3 * MiB });
    // The chunk is discarded, the upload kept: what fits is taken, and it can end there.
    expect((await call('HEAD', second.path)).headers.get('upload-offset')).toBe('0');
    const fits = textBytes(2 * MiB);
    expect((await call('PATCH', second.path, { ...OCTETS, 'upload-offset': '0', 'upload-length': String(fits.length) }, fits)).status).toBe(204);
    // Setting a length that the quota cannot hold is refused when it is set.
    const setOver = await call('PATCH', third.path, { ...OCTETS, 'upload-offset': '0', 'upload-length': String(2 * MiB) }, new Uint8Array(0));
    expect({ status: setOver.status, error: setOver.body?.error }).toEqual({ status: 507, error: 'QUOTA_EXCEEDED' });
    expect((await call('HEAD', third.path)).headers.get('upload-defer-length')).toBe('1');
    // Other tests count the partial files on disk.
    for (const up of [first, third]) expect((await call('DELETE', up.path)).status).toBe(204);
  });

  test('deferred-length chunks sent at once share what the quota leaves (each took all of it: three parked 9 MiB under a 6 MiB quota)', async () => {
    const call = await account();
    const ups = await Promise.all([0, 1, 2].map(() => create(call, { 'upload-defer-length': '1' })));
    expect(ups.map((u) => u.status)).toEqual([201, 201, 201]);
    const answers = await Promise.all(ups.map((u) => call('PATCH', u.path, { ...OCTETS, 'upload-offset': '0' }, textBytes(3 * MiB))));
    const statuses = answers.map((a) => a.status).sort();
    // Two chunks of 3 MiB fit a 6 MiB quota; the third is a 507 and is dropped, its upload kept.
    expect(statuses).toEqual([204, 204, 507]);
    const offsets = await Promise.all(ups.map(async (u) => Number((await call('HEAD', u.path)).headers.get('upload-offset'))));
    expect(offsets.reduce((a, b) => a + b, 0)).toBe(6 * MiB);
    for (const u of ups) expect((await call('DELETE', u.path)).status).toBe(204);
  });

  test('the web app\'s tus retries outlast the lease of a PATCH whose server died (they gave up at 19 s, the lease holds 30 s)', () => {
    const total = TUS_RETRY_DELAYS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(LEASE_MS + 5_000);
  });

  test('a PATCH in progress holds its upload (423 to another), and frees it when its offset is saved', async () => {
    const call = await account();
    const up = await create(call, { 'upload-length': '300000' });
    const part = textBytes(100_000);
    // The first half now, the rest once the test has seen the upload held.
    const { body, release: finish } = heldBody([part.subarray(0, 50_000), part.subarray(50_000)]);
    const first = call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', 'content-length': '100000' }, body);
    // An empty PATCH changes nothing; once the first holds the upload it is refused.
    const busy = await waitFor('the upload to be held', async () => {
      const r = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, new Uint8Array(0));
      expect([204, 423]).toContain(r.status);
      return r.status === 423 ? r : undefined;
    });
    expect(busy.body?.error).toBe('LOCKED');
    // Says how long the lease may still hold it (30 s at most: what a dead holder costs).
    const wait = Number(busy.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(LEASE_MS / 1000);
    finish();
    const done = await first;
    expect(done.status).toBe(204);
    expect(done.headers.get('upload-offset')).toBe('100000');
    // Free at once: the next chunk is taken without waiting for the lease to run out.
    const next = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '100000' }, textBytes(100_000));
    expect(next.status).toBe(204);
    expect(next.headers.get('upload-offset')).toBe('200000');
    expect((await call('DELETE', up.path)).status).toBe(204);
  });

  test('tus 1.0 where it was loose: HEAD without Tus-Resumable → 412, Upload-Concat → 400 (a partial upload became a file), a 405 carries Tus-Resumable', async () => {
    const call = await account();
    const up = await create(call, { 'upload-length': '10' });
    const bare = (method: string, path: string, headers: Record<string, string> = {}) =>
      fetch(`${srv.url}${path}`, { method, headers: { authorization: `Bearer ${call.token}`, ...headers } });
    for (const version of [undefined, '0.2.2']) {
      const head = await bare('HEAD', up.path, version ? { 'tus-resumable': version } : {});
      expect([version, head.status, head.headers.get('tus-version')]).toEqual([version, 412, '1.0.0']);
    }
    for (const concat of ['partial', `final;${up.path}`]) {
      const refused = await create(call, { 'upload-length': '10', 'upload-concat': concat });
      expect([concat, refused.status, refused.body?.error]).toEqual([concat, 400, 'VALIDATION_ERROR']);
    }
    for (const [method, path] of [['GET', up.path], ['POST', up.path], ['GET', '/api/uploads/tus']]) {
      const wrong = await bare(method as string, path as string, { 'tus-resumable': '1.0.0' });
      expect([method, path, wrong.status, wrong.headers.get('tus-resumable')]).toEqual([method, path, 405, '1.0.0']);
    }
    // A 401 carries Tus-Resumable too (the creation's had none), and tells a bad key from none
    // (an upload URL's said "Authentication required." to a revoked key).
    for (const [method, path] of [['POST', '/api/uploads/tus'], ['HEAD', up.path], ['PATCH', up.path], ['DELETE', up.path]] as const) {
      for (const auth of [{}, { authorization: 'Bearer pk_notakey' }] as Record<string, string>[]) {
        const res = await fetch(`${srv.url}${path}`, { method, headers: { 'tus-resumable': '1.0.0', 'upload-length': '10', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', ...auth } });
        const challenge = res.headers.get('www-authenticate') ?? '';
        expect([method, res.status, res.headers.get('tus-resumable'), challenge.includes('invalid_token')]).toEqual([method, 401, '1.0.0', 'authorization' in auth]);
      }
    }
    expect((await call('DELETE', up.path)).status).toBe(204);
  });

  test('a PATCH refused because another holds the upload (423) does not set its deferred length (it did: offset past length, an upload that could never end)', async () => {
    const call = await account();
    const up = await create(call, { 'upload-defer-length': '1' });
    const part = textBytes(100_000);
    const { body, release: finish } = heldBody([part.subarray(0, 50_000), part.subarray(50_000)]);
    const first = call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', 'content-length': '100000' }, body);
    await waitFor('the upload to be held', async () => {
      const r = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, new Uint8Array(0));
      return r.status === 423 ? r : undefined;
    });
    const refused = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', 'upload-length': '1000' }, new Uint8Array(0));
    expect(refused.status).toBe(423);
    finish();
    expect((await first).status).toBe(204);
    const head = await call('HEAD', up.path);
    expect([head.headers.get('upload-offset'), head.headers.get('upload-length'), head.headers.get('upload-defer-length')]).toEqual(['100000', null, '1']);
    const last = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '100000', 'upload-length': '150000' }, textBytes(50_000));
    expect([last.status, Boolean(last.headers.get('x-file-id'))]).toEqual([204, true]);
  });

  test('Upload-Metadata: a NUL, bytes that are not UTF-8, a key given twice, or two names for one thing that differ are a 400 naming the key (a NUL was a 500)', async () => {
    const raw = (bytes: number[]) => Buffer.from(bytes).toString('base64');
    const cases: [string, string, string][] = [
      [`filename ${b64('a\0b.png')}`, '/Upload-Metadata/filename', 'NUL'],
      [`name ${raw([0xff, 0xfe, 0x41])}`, '/Upload-Metadata/name', 'UTF-8'],
      [`name ${b64('a.txt')},name ${b64('b.txt')}`, '/Upload-Metadata/name', 'more than once'],
      [`visibility ${b64('private')},is_public`, '/Upload-Metadata/visibility', 'both is_public and visibility'],
      [`is_public ${b64('false')},visibility ${b64('private')}`, '/Upload-Metadata/visibility', 'both is_public and visibility'],
      [`name ${b64('first.txt')},filename ${b64('second.txt')}`, '/Upload-Metadata/filename', 'different values'],
      ['is_public', '/Upload-Metadata/is_public', 'needs a value'],
    ];
    for (const [meta, path, words] of cases) {
      // A fresh account each: this server allows three uploads per account (RATE_LIMIT_UPLOAD_COUNT).
      const refused = await create(await account(), { 'upload-length': '10', 'upload-metadata': meta });
      const body = refused.body as { error?: string; message?: string; details?: { fields: { path: string }[] } } | null;
      expect({ meta, status: refused.status, error: body?.error, path: body?.details?.fields[0]?.path }).toEqual({ meta, status: 400, error: 'VALIDATION_ERROR', path });
      expect(body?.message).toContain(words);
    }
    expect(await tusFiles()).toEqual([]);
    // Uppy sends name and filename (type and filetype) alike: agreeing, they are one value.
    const call = await account();
    const data = textBytes(1000);
    const up = await create(call, { 'upload-length': String(data.length), 'upload-metadata': `name ${b64('same.txt')},filename ${b64('same.txt')},type ${b64('text/plain')},filetype ${b64('text/plain')}` });
    expect(up.status).toBe(201);
    const done = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, data);
    expect((await call('GET', `/api/files/${done.headers.get('x-file-id')}`)).body).toMatchObject({ name: 'same.txt' });
  });

  test('DELETE while a PATCH is receiving stops that PATCH (410) and removes everything; no 500, no bytes left', async () => {
    const call = await account();
    const up = await create(call, { 'upload-length': '300000' });
    const part = textBytes(50_000);
    const { body, release: finish } = heldBody([part, part, part, part]);
    const writing = call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0', 'content-length': '200000' }, body);
    await waitFor('the PATCH to hold the upload', async () => {
      const r = await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, new Uint8Array(0));
      return r.status === 423;
    });
    const terminated = await call('DELETE', up.path);
    finish(); // the rest of the body, if the server still reads it
    expect(terminated.status).toBe(204);
    const patched = await writing;
    expect({ status: patched.status, error: patched.body?.error }).toEqual({ status: 410, error: 'GONE' });
    expect((await call('HEAD', up.path)).status).toBe(404);
    expect(await tusFiles()).toEqual([]);
    expect(srv.logs.filter((l) => l.level === 'error' || l.msg === 'unhandled error')).toEqual([]);
  });

  test('an empty upload (Upload-Length: 0) is a 415 as an empty file is elsewhere (it was created and could never end); a creation body of another type is a 415, not dropped unread', async () => {
    const empty = await create(await account(), { 'upload-length': '0' });
    expect({ status: empty.status, error: empty.body?.error, detected: empty.body?.details?.detected }).toEqual({ status: 415, error: 'UNSUPPORTED_MEDIA_TYPE', detected: 'application/x-empty' });
    const png = await create(await account(), { 'upload-length': '10', 'content-type': 'image/png' });
    expect(png.status).toBe(201); // no body: the type says nothing
    const withBody = await (await account())('POST', '/api/uploads/tus', { 'upload-length': '10', 'content-type': 'image/png' }, textBytes(10));
    expect({ status: withBody.status, error: withBody.body?.error }).toEqual({ status: 415, error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(withBody.headers.get('location')).toBeNull();
  });

  test('Tus-Max-Size is the caller\'s own limit with credentials, the largest plan\'s without', async () => {
    const anonymous = await fetch(`${srv.url}/api/uploads/tus`, { method: 'OPTIONS' });
    expect(Number(anonymous.headers.get('tus-max-size'))).toBeGreaterThan(4 * MiB);
    const call = await account();
    const mine = await call('OPTIONS', '/api/uploads/tus');
    expect(mine.headers.get('tus-max-size')).toBe(String(4 * MiB));
  });

  test('a presigned URL whose tus upload is refused or terminated works again; the stored file spends it (a refused upload burnt it)', async () => {
    const call = await account();
    const presigned = await call('POST', '/api/uploads/presign', { 'content-type': 'application/json' }, JSON.stringify({ content_types: ['text/plain'] }));
    expect(presigned.status).toBe(201);
    const endpoint = `${new URL((presigned.body as unknown as { url: string }).url).pathname}/tus`;
    const anon = async (method: string, path: string, headers: Record<string, string> = {}, body?: BodyInit) => {
      const res = await fetch(`${srv.url}${path}`, { method, body, headers: { 'tus-resumable': '1.0.0', ...headers } });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as { error: string }) : null };
    };
    // Discovery where a client is pointed: the presigned endpoint answers OPTIONS too (it was a 405).
    const discovered = await anon('OPTIONS', endpoint);
    expect([discovered.status, discovered.headers.get('tus-version')]).toEqual([204, '1.0.0']);
    const png = Buffer.from(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer());
    const first = await anon('POST', endpoint, { 'upload-length': String(png.length) });
    expect(first.status).toBe(201);
    // In use meanwhile: another use of the URL is a 409.
    expect((await anon('POST', endpoint, { 'upload-length': '10' })).status).toBe(409);
    const refused = await anon('PATCH', first.headers.get('location')!, { ...OCTETS, 'upload-offset': '0' }, png);
    expect(refused.status).toBe(415);
    const second = await anon('POST', endpoint, { 'upload-length': '100' });
    expect(second.status).toBe(201);
    expect((await anon('DELETE', second.headers.get('location')!)).status).toBe(204);
    const data = textBytes(100);
    const third = await anon('POST', endpoint, { 'upload-length': String(data.length) });
    expect(third.status).toBe(201);
    const stored = await anon('PATCH', third.headers.get('location')!, { ...OCTETS, 'upload-offset': '0' }, data);
    expect(stored.status).toBe(204);
    expect(stored.headers.get('x-file-id')).toBeTruthy();
    expect((await anon('POST', endpoint, { 'upload-length': '10' })).status).toBe(409);
  });

  test('DELETE terminates an upload and removes its bytes', async () => {
    const call = await account();
    const up = await create(call, { 'upload-length': '100000' });
    expect((await call('PATCH', up.path, { ...OCTETS, 'upload-offset': '0' }, textBytes(50000))).status).toBe(204);
    expect(await tusFiles()).toHaveLength(1);
    expect((await call('DELETE', up.path)).status).toBe(204);
    expect((await call('HEAD', up.path)).status).toBe(404);
    expect(await tusFiles()).toEqual([]);
  });
});

for (const driver of ['fs', 's3'] as const) {
  test(`an abandoned upload is removed after its expiry on ${driver}: bytes, row and S3 multipart`, async () => {
    let env: Record<string, string> = {};
    let bucket = '';
    if (driver === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = minio.env(bucket);
    }
    const srv = await startServer({ env: { ...env, ABANDONED_UPLOAD_AFTER: '3' } });
    try {
      const call = tusCall(srv.url, srv.bootstrap!.api_key);
      const up = await call('POST', '/api/uploads/tus', { 'upload-length': String(20 * MiB) });
      const path = up.headers.get('location')!;
      // Two parts' worth and a tail on S3; a partial file on disk.
      expect((await call('PATCH', path, { ...OCTETS, 'upload-offset': '0' }, textBytes(9 * MiB))).status).toBe(204);
      if (driver === 's3') expect(await minio!.pendingUploads(bucket)).toBe(1);
      else expect(await readdir(join(srv.dataDir, 'files', '.tus'))).toHaveLength(1);
      await waitFor('the upload to be removed', async () => (await call('HEAD', path)).status === 404);
      if (driver === 's3') {
        expect(await minio!.pendingUploads(bucket)).toBe(0);
        const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
        const listed = await minio!.client.send(new ListObjectsV2Command({ Bucket: bucket }));
        expect(listed.Contents ?? []).toEqual([]);
      } else {
        expect(await readdir(join(srv.dataDir, 'files', '.tus'))).toEqual([]);
      }
    } finally {
      await srv.close();
    }
  }, 120_000);
}

describe('tus on Postgres, two server processes sharing the database and the storage', () => {
  let db: TestDatabase;
  let dataDir = '';
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'pictor-tus-pg-'));
    const env = { DATABASE_URL: db.url, MAX_UPLOAD_BYTES: '4MiB', STORAGE_QUOTA_BYTES: '6MiB', RATE_LIMIT_REGISTER: '100/1h' };
    servers.push(await startServer({ env, dataDir }));
    servers.push(await startServer({ env, dataDir }));
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.close();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });
  async function account(srv: RunningServer) {
    const res = await fetch(`${srv.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `pg${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse 1' }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { session: { access_token: string } }).session.access_token;
  }

  test('an upload begun on one process goes on on the other, and becomes the same file', async () => {
    const token = await account(servers[0]!);
    const [a, b] = [tusCall(servers[0]!.url, token), tusCall(servers[1]!.url, token)];
    const data = textBytes(3 * MiB);
    const up = await a('POST', '/api/uploads/tus', { 'upload-length': String(data.length) });
    expect(up.status).toBe(201);
    const path = up.headers.get('location')!;
    expect((await a('PATCH', path, { ...OCTETS, 'upload-offset': '0' }, data.subarray(0, MiB))).status).toBe(204);
    expect((await b('HEAD', path)).headers.get('upload-offset')).toBe(String(MiB));
    const last = await b('PATCH', path, { ...OCTETS, 'upload-offset': String(MiB) }, data.subarray(MiB));
    expect(last.status).toBe(204);
    expect((await fileOf(servers[1]!, token, last.headers.get('x-file-id')!)).sha256).toBe(sha(data));
  }, 60_000);

  test('deferred-length chunks received at once by both processes share what the quota leaves (each took all of it)', async () => {
    const token = await account(servers[0]!);
    const calls = [tusCall(servers[0]!.url, token), tusCall(servers[1]!.url, token), tusCall(servers[0]!.url, token)];
    const paths = await Promise.all(calls.map(async (call) => (await call('POST', '/api/uploads/tus', { 'upload-defer-length': '1' })).headers.get('location')!));
    // Each PATCH sends its first MiB and holds the rest until all three have sent theirs, so the
    // three are received together (the result does not depend on it; the old code's did).
    const held = paths.map(() => heldBody([textBytes(MiB), textBytes(2 * MiB)]));
    const answers = paths.map((path, i) => calls[i]!('PATCH', path, { ...OCTETS, 'upload-offset': '0', 'content-length': String(3 * MiB) }, held[i]!.body));
    await Promise.all(held.map((h) => h.waiting));
    for (const h of held) h.release();
    expect((await Promise.all(answers)).map((r) => r.status).sort()).toEqual([204, 204, 507]);
    const offsets = await Promise.all(paths.map(async (path) => Number((await calls[0]!('HEAD', path)).headers.get('upload-offset'))));
    expect(offsets.reduce((x, y) => x + y, 0)).toBe(6 * MiB);
  }, 60_000);
});
