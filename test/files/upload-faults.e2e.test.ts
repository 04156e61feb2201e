/**
 * Upload faults of issue #17 over real processes and HTTP: stalled uploads time out
 * (#17.4), multipart uploads a crash left open on S3 are aborted (#17.5), a second process
 * on the same DATA_DIR never removes a live sibling's temp file (#17.6), and a full disk
 * answers 507 `INSUFFICIENT_STORAGE` with readiness `degraded` (#17.12, on a real tmpfs).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_TAG } from '../../src/platform/process-owner';
import { createS3Storage } from '../../src/storage/s3';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (bytes: number, fill = 'a') => Buffer.alloc(bytes, fill);

/** Polls `fn` until it returns something other than undefined/false; fails naming `what` after `timeoutMs`. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: { error?: string; file?: { id: string; sha256: string; size: number; url: string } } }

/** An upload written piece by piece over one HTTP/1.1 request; `answer` settles when the server responds. */
function openUpload(base: string, path: string, headers: Record<string, string>) {
  const u = new URL(path, base);
  const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        let body: Answer['body'] = {};
        try {
          body = JSON.parse(raw) as Answer['body'];
        } catch {
          body = { error: `not JSON: ${raw.slice(0, 200)}` };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
  });
  answer.catch(() => {}); // awaited by the test; a reset after the answer is not a failure
  return {
    answer,
    write: (chunk: Uint8Array) => new Promise<void>((resolve, reject) => req.write(chunk, (err) => (err ? reject(err) : resolve()))),
    end: (chunk?: Uint8Array) => new Promise<void>((resolve) => req.end(chunk, () => resolve())),
    destroy: () => req.destroy(),
  };
}

/** Settles with `p`, or fails naming `what` when it has not settled within `ms` (the old code never answered). */
function within<T>(what: string, p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms);
    }),
  ]);
}

const BOUNDARY = 'xFAULTSx';
const partHead = (name = 'f.txt') =>
  Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: text/plain\r\n\r\n`);
const partTail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

/** Files anywhere under the fs driver's temp folder. */
async function tempFiles(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'files', '.tmp')).catch(() => [])) as string[];
}

function apiOf(srv: () => RunningServer, key: () => string) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${srv().url}${path}`, { ...init, headers: { authorization: `Bearer ${key()}`, ...(init.headers as Record<string, string>) } });
}

async function usageOf(api: ReturnType<typeof apiOf>) {
  const u = (await (await api('/api/usage')).json()) as { storage_bytes: number; files_count: number };
  return { storage_bytes: u.storage_bytes, files_count: u.files_count };
}

let minio: Minio | undefined;
afterAll(() => minio?.stop());

describe('stalled uploads time out (#17.4)', () => {
  let srv: RunningServer;
  let key = '';
  const api = apiOf(() => srv, () => key);

  beforeAll(async () => {
    // Three upload slots, so three stalled uploads hold all of them.
    srv = await startServer({ env: { UPLOAD_IDLE_TIMEOUT: '1', RATE_LIMIT_UPLOAD_CONCURRENCY: '3', MAX_UPLOAD_BYTES: '16MiB' } });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(() => srv?.close());

  /** A raw, a multipart and a presigned upload that each send 1 KB and then nothing. */
  async function stallThree() {
    const presigned = (await (await api('/api/uploads/presign', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}),
    })).json()) as { url: string };
    const length = String(1024 * 1024);
    const raw = openUpload(srv.url, '/api/files', { authorization: `Bearer ${key}`, 'content-type': 'text/plain', 'content-length': length });
    const multi = openUpload(srv.url, '/api/files', { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length });
    const pre = openUpload(srv.url, new URL(presigned.url).pathname, { 'content-type': 'text/plain', 'content-length': length });
    await raw.write(text(1024));
    await multi.write(Buffer.concat([partHead(), text(1024)]));
    await pre.write(text(1024));
    return [raw, multi, pre];
  }

  test('raw, multipart and presigned uploads that stop sending get 408, leave nothing and free their slots', async () => {
    const before = await usageOf(api);
    for (let round = 0; round < 2; round++) {
      // Round 2 needs all three slots again: a slot kept by a round-1 upload would answer 429 here.
      const uploads = await stallThree();
      const answers = await within('stalled uploads', Promise.all(uploads.map((u) => u.answer)));
      for (const a of answers) {
        expect(a.status).toBe(408);
        expect(a.body.error).toBe('REQUEST_TIMEOUT');
        // The connection ends with it: the rest of a body that comes late is not read as a request.
        expect(a.headers.connection).toBe('close');
      }
      uploads.forEach((u) => u.destroy());
      expect(await tempFiles(srv.dataDir)).toEqual([]);
    }
    expect(await usageOf(api)).toEqual(before);
    const ok = await api('/api/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text(2048) });
    expect(ok.status).toBe(201);
  }, 90_000);

  test('a tus creation whose first chunk stalls answers 408 with the Location to resume from (there was none: the upload could not be reached, holding its quota for an hour); one whose chunk is dropped leaves no upload', async () => {
    const tusFiles = () => readdir(join(srv.dataDir, 'files', '.tus')).catch(() => [] as string[]);
    const before = await tusFiles();
    const headers = { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', 'upload-length': String(1024 * 1024), 'content-type': 'application/offset+octet-stream', 'content-length': String(1024 * 1024) };
    const kept = openUpload(srv.url, '/api/uploads/tus', headers);
    await kept.write(text(4096));
    const a = await within('a stalled creation', kept.answer);
    kept.destroy();
    expect([a.status, a.body.error, a.headers['upload-offset']]).toEqual([408, 'REQUEST_TIMEOUT', '4096']);
    const location = String(a.headers.location);
    expect(location).toMatch(/^\/api\/uploads\/tus\/[A-Za-z0-9]{32}$/);
    const rest = text(1024 * 1024 - 4096);
    const resumed = await fetch(`${srv.url}${location}`, { method: 'PATCH', headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', 'upload-offset': '4096', 'content-type': 'application/offset+octet-stream' }, body: rest });
    expect(resumed.status).toBe(204);
    const file = (await (await api(`/api/files/${resumed.headers.get('x-file-id')}`)).json()) as { sha256: string };
    expect(file.sha256).toBe(sha(Buffer.concat([text(4096), rest])));
    // With a checksum the stalled chunk cannot be verified and is dropped: nothing is left to resume, so no upload is kept.
    const checked = openUpload(srv.url, '/api/uploads/tus', { ...headers, 'upload-checksum': `sha256 ${createHash('sha256').update(text(1024 * 1024)).digest('base64')}` });
    await checked.write(text(4096));
    const b = await within('a stalled creation with a checksum', checked.answer);
    checked.destroy();
    expect([b.status, b.headers.location]).toEqual([408, undefined]);
    expect(await tusFiles()).toEqual(before);
  }, 60_000);

  test('a presigned tus creation that stalls keeps its URL spent while its upload can be resumed (it was given back: a second file could be stored with it)', async () => {
    const presigned = (await (await api('/api/uploads/presign', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}) })).json()) as { url: string };
    const endpoint = `${new URL(presigned.url).pathname}/tus`;
    const data = text(64 * 1024, 'p');
    const up = openUpload(srv.url, endpoint, { 'tus-resumable': '1.0.0', 'upload-length': String(data.length), 'content-type': 'application/offset+octet-stream', 'content-length': String(data.length) });
    await up.write(data.subarray(0, 1024));
    const a = await within('a stalled presigned creation', up.answer);
    up.destroy();
    expect([a.status, a.headers['upload-offset']]).toEqual([408, '1024']);
    for (const path of [new URL(presigned.url).pathname, endpoint]) {
      const again = await fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10', 'content-type': 'text/plain' }, body: path === endpoint ? undefined : 'x' });
      expect([path, again.status]).toEqual([path, 409]);
    }
    const rest = await fetch(`${srv.url}${String(a.headers.location)}`, { method: 'PATCH', headers: { 'tus-resumable': '1.0.0', 'upload-offset': '1024', 'content-type': 'application/offset+octet-stream' }, body: data.subarray(1024) });
    expect([rest.status, Boolean(rest.headers.get('x-file-id'))]).toEqual([204, true]);
  }, 60_000);

  test('a JSON body that stops arriving gets a 408 in the envelope (no answer: Bun closed the connection after 60 s, Deno never did)', async () => {
    const req = openUpload(srv.url, '/api/auth/login', { 'content-type': 'application/json', 'content-length': '100' });
    await req.write(Buffer.from('{"email":"a@b.c",'));
    const a = await within('a stalled JSON body', req.answer);
    req.destroy();
    expect([a.status, a.body.error, a.headers.connection]).toEqual([408, 'REQUEST_TIMEOUT', 'close']);
  }, 60_000);
});

describe('a slow upload that keeps sending (#17.4)', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    // An idle timeout far above the gaps between chunks: a loaded machine must not turn a gap into a stall.
    srv = await startServer({ env: { UPLOAD_IDLE_TIMEOUT: '3', DISABLE_RATE_LIMIT: 'true' } });
  }, 60_000);
  afterAll(() => srv?.close());

  test('a chunk every 250 ms, 4 s in all (longer than UPLOAD_IDLE_TIMEOUT), is not cut off', async () => {
    const chunk = text(1024, 'b');
    const up = openUpload(srv.url, '/api/files', { authorization: `Bearer ${srv.bootstrap!.api_key}`, 'content-type': 'text/plain', 'content-length': String(chunk.length * 17) });
    for (let i = 0; i < 16; i++) {
      await up.write(chunk);
      await Bun.sleep(250);
    }
    await up.end(chunk);
    const a = await within('slow upload', up.answer);
    expect(a.status).toBe(201);
    expect(a.body.file?.size).toBe(chunk.length * 17);
    expect(a.body.file?.sha256).toBe(sha(Buffer.concat(Array.from({ length: 17 }, () => chunk))));
  }, 60_000);
});

describe('S3: stalled and crashed uploads leave no multipart upload (#17.4, #17.5)', () => {
  /** A fresh bucket per test: what one test leaves open cannot be counted by the next. */
  let bucket = '';
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    minio ??= await startMinio();
  }, 60_000);
  beforeEach(async () => {
    bucket = await minio!.createBucket();
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  const pending = async () =>
    ((await minio!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []);

  test('a stalled upload whose first part is already on S3: 408 and its multipart upload aborted', async () => {
    const srv = await startServer({ env: { ...minio!.env(bucket), UPLOAD_IDLE_TIMEOUT: '3', MAX_UPLOAD_BYTES: '64MiB', DISABLE_RATE_LIMIT: 'true' } });
    servers.push(srv);
    const up = openUpload(srv.url, '/api/files', { authorization: `Bearer ${srv.bootstrap!.api_key}`, 'content-type': 'text/plain', 'content-length': String(32 * 1024 * 1024) });
    let answered = false;
    let sawOpen = false;
    void up.answer.finally(() => (answered = true));
    await up.write(text(12 * 1024 * 1024));
    while (!answered && !sawOpen) {
      sawOpen = (await pending()).length > 0;
      await Bun.sleep(50);
    }
    const a = await within('stalled S3 upload', up.answer);
    expect(sawOpen).toBe(true); // the stall came after parts had reached S3
    up.destroy();
    expect(a.status).toBe(408);
    expect(a.body.error).toBe('REQUEST_TIMEOUT');
    // The driver may still be sending the abort as the answer goes out.
    await waitFor('the stalled upload\'s multipart upload to be aborted', async () => (await pending()).length === 0);
    await srv.close();
  }, 90_000);

  test('a multipart upload left by a SIGKILLed server is aborted when a server starts', async () => {
    const env = { ...minio!.env(bucket), MAX_UPLOAD_BYTES: '64MiB', DISABLE_RATE_LIMIT: 'true', ABANDONED_UPLOAD_AFTER: '1' };
    const first = await startServer({ env });
    servers.push(first);
    const up = openUpload(first.url, '/api/files', { authorization: `Bearer ${first.bootstrap!.api_key}`, 'content-type': 'text/plain', 'content-length': String(48 * 1024 * 1024) });
    up.answer.catch(() => {});
    await up.write(text(16 * 1024 * 1024));
    await waitFor('the upload to reach S3 as a multipart upload', async () => (await pending()).length === 1);
    await first.stop('SIGKILL');
    up.destroy();
    const left = await pending();
    expect(left.length).toBe(1); // nobody is left to abort it
    // The sweep takes only uploads begun more than ABANDONED_UPLOAD_AFTER (1 s) before it runs: a
    // server up within that second (a quiet machine) rightly leaves this one alone.
    await waitFor('the abandoned upload to be older than ABANDONED_UPLOAD_AFTER', async () => Date.now() - left[0]!.Initiated!.getTime() > 1500);
    const second = await startServer({ env, dataDir: first.dataDir });
    servers.push(second);
    await waitFor('the start-up sweep to abort the abandoned multipart upload', async () => (await pending()).length === 0);
    await waitFor('the sweep\'s log line', async () => second.logs.some((l) => l.msg === 'removed uploads abandoned by a crash' && l.removed === 1));
  }, 120_000);

  test('the sweep aborts multipart uploads under the prefix begun before the bound, and only those', async () => {
    const prefix = `sweep-${Date.now().toString(36)}`;
    const create = async (Key: string) =>
      (await minio!.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }))).UploadId!;
    const old = await create(`${prefix}/user/old`);
    const outside = await create(`elsewhere-${prefix}/user/old`);
    // MinIO's `Initiated` may be whole seconds: the young one starts in a later second.
    await Bun.sleep(1100);
    const young = await create(`${prefix}/user/young`);
    const uploads = await pending();
    const youngStarted = uploads.find((u) => u.UploadId === young)!.Initiated!;
    const storage = createS3Storage({
      endpoint: minio!.endpoint, region: 'us-east-1', bucket, accessKeyId: minio!.accessKeyId,
      secretAccessKey: minio!.secretAccessKey, forcePathStyle: true, prefix,
    });
    try {
      // The bound, injected: everything begun before the young upload is "old".
      expect(await storage.sweepAbandoned(youngStarted)).toBe(1);
      const left = (await pending()).map((u) => u.UploadId);
      expect(left).not.toContain(old);
      expect(left).toContain(young);
      expect(left).toContain(outside);
      expect(await storage.sweepAbandoned(youngStarted)).toBe(0); // idempotent
    } finally {
      for (const [Key, UploadId] of [[`${prefix}/user/young`, young], [`elsewhere-${prefix}/user/old`, outside]] as const) {
        await minio!.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId })).catch(() => {});
      }
      await storage.close();
    }
  }, 60_000);
});

describe('two processes on one DATA_DIR (#17.6)', () => {
  let db: TestDatabase;
  let dataDir = '';
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'pictor-shared-'));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a second process starting mid-upload keeps the first one\'s temp file; it removes only a dead process\'s', async () => {
    // The upload waits, silent, while the second server starts (up to 90 s on a loaded machine): not a stall.
    const env = { DATABASE_URL: db.url, MAX_UPLOAD_BYTES: '64MiB', DISABLE_RATE_LIMIT: 'true', UPLOAD_IDLE_TIMEOUT: '3600' };
    const first = await startServer({ env, dataDir });
    servers.push(first);
    const key = first.bootstrap!.api_key;

    // A temp file of a process of this host that is gone, and one of another host sharing the volume.
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const tmp = join(dataDir, 'files', '.tmp');
    const deadFile = `${HOST_TAG}~${dead.pid}~leftover`;
    const foreignFile = 'other-host.1~42~inflight';
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, deadFile), 'x');
    await writeFile(join(tmp, foreignFile), 'x');
    // The derivative cache's temp folder is shared the same way: a derivative the first server is writing, and a dead one's.
    const cacheTmp = join(dataDir, 'cache', 'tmp');
    const liveDerivative = `${HOST_TAG}~${first.proc.pid}~rendering.part`;
    const deadDerivative = `${HOST_TAG}~${dead.pid}~rendering.part`;
    await writeFile(join(cacheTmp, liveDerivative), 'x');
    await writeFile(join(cacheTmp, deadDerivative), 'x');

    const body = Buffer.concat([text(8 * 1024 * 1024, 'c'), text(8 * 1024 * 1024, 'd')]);
    const up = openUpload(first.url, '/api/files', { authorization: `Bearer ${key}`, 'content-type': 'text/plain', 'content-length': String(body.length) });
    await up.write(body.subarray(0, 8 * 1024 * 1024));
    const mine = await waitFor('the first server\'s temp file', async () =>
      (await tempFiles(dataDir)).find((n) => n !== deadFile && n !== foreignFile));

    const second = await startServer({ env, dataDir });
    servers.push(second);
    const left = await tempFiles(dataDir);
    expect(left).toContain(mine);
    expect(left).toContain(foreignFile); // young, and not ours to judge by pid
    expect(left).not.toContain(deadFile);
    // The cache sweeps its temp folder in the background once it opens (startServer may return first).
    const cacheLeft = await waitFor('the dead process\'s derivative temp file to be swept', async () => {
      const names = await readdir(cacheTmp);
      return names.includes(deadDerivative) ? undefined : names;
    });
    expect(cacheLeft).toContain(liveDerivative);

    await up.end(body.subarray(8 * 1024 * 1024));
    const a = await within('the upload to the first server', up.answer);
    expect(a.status).toBe(201);
    expect(a.body.file?.sha256).toBe(sha(body));
    const served = await fetch(`${second.url}${new URL(a.body.file!.url).pathname}`);
    expect(served.status).toBe(200);
    expect(sha(new Uint8Array(await served.arrayBuffer()))).toBe(sha(body));
  }, 120_000);
});

describe('disk full (#17.12, a real 8 MiB tmpfs as DATA_DIR)', () => {
  let db: TestDatabase;
  let mountDir = '';
  let cacheDir = '';
  let srv: RunningServer;
  let key = '';
  const api = apiOf(() => srv, () => key);

  beforeAll(async () => {
    mountDir = await mkdtemp(join(tmpdir(), 'pictor-full-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountDir], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`this suite mounts a small tmpfs (needs root or CAP_SYS_ADMIN): ${mount.stderr}`);
    cacheDir = await mkdtemp(join(tmpdir(), 'pictor-full-cache-'));
    db = await createTestDatabase();
    srv = await startServer({
      dataDir: mountDir,
      env: { DATABASE_URL: db.url, CACHE_DIR: cacheDir, MAX_UPLOAD_BYTES: '64MiB', DISABLE_RATE_LIMIT: 'true', MIN_FREE_DISK: '50%' },
    });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    await db?.drop();
    spawnSync('umount', [mountDir]);
    await rm(mountDir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  });

  const readiness = async () => {
    const res = await fetch(`${srv.url}/health/ready`);
    const body = (await res.json()) as { status: string; checks: { storage: { status: string; free_bytes?: number } } };
    return { http: res.status, status: body.status, storage: body.checks.storage };
  };

  test('readiness turns degraded below MIN_FREE_DISK; a write that finds the disk full is 507 and leaves nothing', async () => {
    const empty = await readiness();
    expect(empty.status).toBe('ok');
    expect(empty.storage.status).toBe('ok');

    const first = await api('/api/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text(5 * 1024 * 1024) });
    expect(first.status).toBe(201);
    const full = await readiness();
    expect(full.http).toBe(200); // degraded still serves
    expect(full.status).toBe('degraded');
    expect(full.storage.status).toBe('degraded');
    expect(full.storage.free_bytes).toBeLessThan(4 * 1024 * 1024);
    const before = await usageOf(api);

    const raw = openUpload(srv.url, '/api/files', { authorization: `Bearer ${key}`, 'content-type': 'text/plain', 'content-length': String(5 * 1024 * 1024) });
    raw.end(text(5 * 1024 * 1024)).catch(() => {});
    const rawAnswer = await within('the raw upload', raw.answer);
    expect(rawAnswer.status).toBe(507);
    expect(rawAnswer.body.error).toBe('INSUFFICIENT_STORAGE');

    const multi = openUpload(srv.url, '/api/files', { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` });
    multi.end(Buffer.concat([partHead(), text(5 * 1024 * 1024), partTail])).catch(() => {});
    const multiAnswer = await within('the multipart upload', multi.answer);
    expect(multiAnswer.status).toBe(507);
    expect(multiAnswer.body.error).toBe('INSUFFICIENT_STORAGE');

    expect(await tempFiles(srv.dataDir)).toEqual([]);
    expect(await usageOf(api)).toEqual(before);
    // The space the failed writes took is free again: a small upload still fits.
    const small = await api('/api/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text(64 * 1024) });
    expect(small.status).toBe(201);
  }, 90_000);
});
