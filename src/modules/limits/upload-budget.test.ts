/**
 * `upload_bytes` counts the bytes that arrive: an upload refused for its size, its type or its
 * metadata spends none of the budget (a raw upload or tus creation refused at a declared 5 GiB
 * spent the hour's 10 GiB, and a tus client's retries locked the account out of uploading), and
 * a declared length that would not fit is still refused before a byte is read.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { createApiKey } from '../keys/service';
import { users } from '../users/table';

const BUDGET = 1_000_000;
let h: TestApp;
let key = '';
let userId = '';

beforeAll(async () => {
  h = await makeTestApp({ env: { RATE_LIMIT_UPLOAD_BYTES: `${BUDGET}/1h`, MAX_UPLOAD_BYTES: '200KB', ALLOWED_TYPES: 'image/*' } });
  const [user] = await h.deps.db.insert(users).values({ email: 'budget@example.com', passwordHash: 'x' }).returning();
  userId = user!.id;
  key = (await createApiKey(h.deps.db, userId, { scopes: ['files:read', 'files:write'] })).key;
}, 60_000);
afterAll(() => h?.close());

const left = async () => (await h.deps.limiter.peek({ bucket: 'upload_bytes', key: userId, rule: h.deps.config.rateLimits.upload_bytes, weight: 0 })).remaining;
const raw = (body: Uint8Array, type: string, query = '') =>
  h.request(`/api/files${query}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': type, 'content-length': String(body.byteLength) }, body: new Uint8Array(body) });
const tus = (method: string, path: string, headers: Record<string, string>, body?: Uint8Array) =>
  h.request(path, { method, headers: { 'x-api-key': key, 'tus-resumable': '1.0.0', ...headers }, ...(body ? { body: new Uint8Array(body) } : {}) });
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('uploads refused for their size, type or metadata spend none of upload_bytes; stored bytes do', async () => {
  expect(await left()).toBe(BUDGET);
  // Over the 200 KB per-file limit, declared: 413 before a byte is read.
  expect((await raw(new Uint8Array(300_000), 'image/png')).status).toBe(413);
  expect((await tus('POST', '/api/uploads/tus', { 'upload-length': '300000' })).status).toBe(413);
  // Metadata the server refuses: 400.
  expect((await raw(new Uint8Array(150_000), 'image/png', '?folder=..')).status).toBe(400);
  expect((await tus('POST', '/api/uploads/tus', { 'upload-length': '150000', 'upload-metadata': `folder ${b64('..')}` })).status).toBe(400);
  expect(await left()).toBe(BUDGET);
  // Bytes no type allows: 415 from the first bytes; what was read of the body may count, not its 150 000.
  expect((await raw(new Uint8Array(150_000).fill(1), 'application/octet-stream')).status).toBe(415);
  expect(BUDGET - (await left())).toBeLessThan(65_536);
  const base = await left();

  // Stored files count their bytes, through either route.
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c00' }, }).png({ compressionLevel: 0 }).toBuffer();
  expect((await raw(png, 'image/png')).status).toBe(201);
  expect(await left()).toBe(base - png.byteLength);
  const created = await tus('POST', '/api/uploads/tus', { 'upload-length': String(png.byteLength) });
  expect(created.status).toBe(201);
  const at = new URL(created.headers.get('location')!, 'http://test.local').pathname;
  const half = Math.floor(png.byteLength / 2);
  const chunk = (from: number, to: number) => tus('PATCH', at, { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(from) }, png.subarray(from, to));
  expect((await chunk(0, half)).status).toBe(204);
  expect(await left()).toBe(base - png.byteLength - half);
  expect((await chunk(half, png.byteLength)).status).toBe(204);
  expect(await left()).toBe(base - 2 * png.byteLength);
}, 60_000);

test('a tus PATCH cut off midway keeps what arrived, and counts it (a chunk under a batch was kept uncounted)', async () => {
  const before = await left();
  const photo = await sharp({ create: { width: 80, height: 80, channels: 3, background: '#36c' } }).png({ compressionLevel: 0 }).toBuffer();
  const created = await tus('POST', '/api/uploads/tus', { 'upload-length': String(photo.byteLength) });
  expect(created.status).toBe(201);
  const at = new URL(created.headers.get('location')!, 'http://test.local').pathname;
  let sent = false;
  const dropped = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return c.error(new Error('the client went away'));
      sent = true;
      c.enqueue(new Uint8Array(photo.subarray(0, 5000)));
    },
  });
  const res = await h.request(at, {
    method: 'PATCH', headers: { 'x-api-key': key, 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: dropped, duplex: 'half',
  } as RequestInit);
  await res.arrayBuffer().catch(() => {});
  const head = await tus('HEAD', at, {});
  expect(head.headers.get('upload-offset')).toBe('5000');
  expect(before - (await left())).toBe(5000);
}, 60_000);

test('a declared length that does not fit what is left is still refused before a byte is read, and spends nothing', async () => {
  const before = await left();
  await h.deps.limiter.consume({ bucket: 'upload_bytes', key: userId, rule: h.deps.config.rateLimits.upload_bytes, weight: before - 10_000 });
  const over = await raw(new Uint8Array(20_000), 'image/png');
  expect(over.status).toBe(429);
  expect(((await over.json()) as { details: { bucket: string; remaining: number } }).details).toMatchObject({ bucket: 'upload_bytes', remaining: 10_000 });
  const tusOver = await tus('POST', '/api/uploads/tus', { 'upload-length': '20000' });
  expect(tusOver.status).toBe(429);
  expect(await left()).toBe(10_000);
}, 60_000);
