/**
 * A multipart body counts as a whole, not only its files: bytes around the parts (a preamble, an
 * epilogue, which the form ignores) were read without end when the body came chunked, and spent
 * none of `upload_bytes`.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { createApiKey } from '../keys/service';
import { users } from '../users/table';

const BUDGET = 50_000_000;
let h: TestApp;
let key = '';
let userId = '';
let png: Buffer;

beforeAll(async () => {
  // 16 KiB per file, 20 files: a request may carry 20 × 16 KiB + 1 MiB.
  h = await makeTestApp({ env: { MAX_UPLOAD_BYTES: '16KiB', RATE_LIMIT_UPLOAD_BYTES: `${BUDGET}/1h` } });
  const [user] = await h.deps.db.insert(users).values({ email: 'form@example.com', passwordHash: 'x' }).returning();
  userId = user!.id;
  key = (await createApiKey(h.deps.db, userId, { scopes: ['files:read', 'files:write'] })).key;
  png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#0a0' } }).png().toBuffer();
}, 60_000);
afterAll(() => h?.close());

const BOUNDARY = 'xYzBoundary';
/** A form of one PNG part, with `junk` bytes before its first boundary and after its last. */
const form = (preamble: number, epilogue: number) => Buffer.concat([
  Buffer.alloc(preamble, 0x61), Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
  png, Buffer.from(`\r\n--${BOUNDARY}--\r\n`), Buffer.alloc(epilogue, 0x62),
]);
/** As a chunked body: no Content-Length to refuse it by. */
const chunked = (bytes: Buffer) => {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      c.enqueue(new Uint8Array(bytes.subarray(at, at + 65_536)));
      at += 65_536;
    },
  });
};
const post = (body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer>) => h.request('/api/files', {
  method: 'POST', headers: { 'x-api-key': key, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body, duplex: 'half',
} as RequestInit);
const count = async () => ((await (await h.request('/api/files?limit=1', { headers: { 'x-api-key': key } })).json()) as { count: number }).count;
const left = async () => (await h.deps.limiter.peek({ bucket: 'upload_bytes', key: userId, rule: h.deps.config.rateLimits.upload_bytes, weight: 0 })).remaining;

test('a chunked form that runs past what its files may fill is a 413 while it streams, and nothing is kept', async () => {
  const before = await count();
  const res = await post(chunked(form(0, 3 * 1024 * 1024)));
  expect(res.status).toBe(413);
  const body = (await res.json()) as { error: string; details: { max_request_bytes: number } };
  expect(body.error).toBe('FILE_TOO_LARGE');
  expect(body.details.max_request_bytes).toBe(20 * 16 * 1024 + 1024 * 1024);
  expect(await count()).toBe(before);
});

test('the bytes around the parts count toward upload_bytes, not only the file', async () => {
  const before = await left();
  const bytes = form(400_000, 100_000);
  const res = await post(new Uint8Array(bytes));
  expect(res.status).toBe(201);
  expect(before - (await left())).toBeGreaterThanOrEqual(500_000);
});
