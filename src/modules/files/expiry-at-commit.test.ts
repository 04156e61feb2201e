/**
 * `expires_in` counts from when the file is stored: a raw upload or a tus upload that took longer
 * than its `expires_in` was answered 201 for a file already expired (410 at once, then purged).
 * An `expires_at` that passes while the bytes arrive is a 400 and nothing is kept.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { createApiKey } from '../keys/service';
import { users } from '../users/table';

const T0 = 1_900_000_000_000;
let now = T0;
let h: TestApp;
let key = '';
let png: Buffer;

beforeAll(async () => {
  h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true' }, clock: { now: () => now } });
  const [user] = await h.deps.db.insert(users).values({ email: 'slow@example.com', passwordHash: 'x' }).returning();
  key = (await createApiKey(h.deps.db, user!.id, { scopes: ['files:read', 'files:write'] })).key;
  png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#08f' } }).png().toBuffer();
}, 60_000);
afterAll(() => h?.close());

/** The PNG as a body whose second half arrives `ms` later on the server's clock. */
const slowBody = (ms: number) => {
  let step = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (step === 0) c.enqueue(new Uint8Array(png.subarray(0, 100)));
      else if (step === 1) {
        now += ms;
        c.enqueue(new Uint8Array(png.subarray(100)));
      } else c.close();
      step++;
    },
  });
};
const rawSlow = (query: string, ms: number) => h.request(`/api/files${query}`, {
  method: 'POST', headers: { 'x-api-key': key, 'content-type': 'image/png' }, body: slowBody(ms), duplex: 'half',
} as RequestInit);
const fileCount = async () => ((await (await h.request('/api/files?limit=1', { headers: { 'x-api-key': key } })).json()) as { count: number }).count;

test('a raw upload slower than its expires_in is stored with expires_in from then, and is there', async () => {
  now = T0;
  const res = await rawSlow('?expires_in=3', 10_000);
  expect(res.status).toBe(201);
  const file = ((await res.json()) as { file: { id: string; created_at: string; expires_at: string } }).file;
  expect(new Date(file.expires_at).getTime()).toBe(now + 3000);
  expect((await h.request(`/i/${file.id}`)).status).toBe(200);
});

test('an expires_at that passes while the bytes arrive is a 400 naming it, and nothing is kept', async () => {
  now = T0 + 100_000;
  const before = await fileCount();
  const at = new Date(now + 5000).toISOString();
  const res = await rawSlow(`?expires_at=${encodeURIComponent(at)}`, 10_000);
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: string; details: { fields: { path: string }[] } };
  expect(body.error).toBe('VALIDATION_ERROR');
  expect(body.details.fields[0]?.path).toBe('/expires_at');
  expect(await fileCount()).toBe(before);
});

test('a tus upload finished after its expires_in is stored with expires_in from its last byte', async () => {
  now = T0 + 200_000;
  const tus = (method: string, path: string, headers: Record<string, string>, body?: Uint8Array<ArrayBuffer>) =>
    h.request(path, { method, headers: { 'x-api-key': key, 'tus-resumable': '1.0.0', ...headers }, ...(body ? { body } : {}) });
  const created = await tus('POST', '/api/uploads/tus', { 'upload-length': String(png.byteLength), 'upload-metadata': `expires_in ${Buffer.from('3').toString('base64')}` });
  expect(created.status).toBe(201);
  now += 60_000;
  const done = await tus('PATCH', new URL(created.headers.get('location')!, 'http://test.local').pathname,
    { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, new Uint8Array(png));
  expect(done.status).toBe(204);
  const id = done.headers.get('x-file-id')!;
  const file = (await (await h.request(`/api/files/${id}`, { headers: { 'x-api-key': key } })).json()) as { file?: { expires_at: string }; expires_at?: string };
  expect(new Date((file.file ?? file).expires_at as string).getTime()).toBe(now + 3000);
  expect((await h.request(`/i/${id}`)).status).toBe(200);
});

test('a tus upload whose expires_at passes before its next chunk is refused at that chunk, not after its last byte', async () => {
  now = T0 + 300_000;
  const tus = (method: string, path: string, headers: Record<string, string>, body?: Uint8Array<ArrayBuffer>) =>
    h.request(path, { method, headers: { 'x-api-key': key, 'tus-resumable': '1.0.0', ...headers }, ...(body ? { body } : {}) });
  const at = new Date(now + 10_000).toISOString();
  const created = await tus('POST', '/api/uploads/tus', { 'upload-length': String(png.byteLength), 'upload-metadata': `expires_at ${Buffer.from(at).toString('base64')}` });
  expect(created.status).toBe(201);
  const path = new URL(created.headers.get('location')!, 'http://test.local').pathname;
  const half = Math.floor(png.byteLength / 2);
  const chunk = (from: number, to: number) => tus('PATCH', path, { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(from) }, new Uint8Array(png.subarray(from, to)));
  expect((await chunk(0, half)).status).toBe(204);
  now += 60_000;
  const late = await chunk(half, half + 1);
  expect(late.status).toBe(400);
  expect(((await late.json()) as { details: { fields: { path: string }[] } }).details.fields[0]?.path).toBe('/Upload-Metadata/expires_at');
  expect((await tus('HEAD', path, {})).status).toBe(404);
});
