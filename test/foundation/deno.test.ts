/**
 * Deno smoke test: the same app and handler under `Deno.serve` on embedded defaults.
 * Later features extend the list of checks.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash, randomFillSync } from 'node:crypto';
import sharp from 'sharp';
import { rawRequest } from '../helpers/raw-http';
import { startServer, type RunningServer } from '../helpers/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ runtime: 'deno', timeoutMs: 60_000 });
});
afterAll(() => server?.close());

test('Deno: /health, /openapi.json and the error envelope', async () => {
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { status: string }).status).toBe('ok');

  const spec = await fetch(`${server.url}/openapi.json`);
  expect(spec.status).toBe(200);
  expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\./);

  const missing = await fetch(`${server.url}/nope`);
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: string }).error).toBe('NOT_FOUND');
  expect(missing.headers.get('x-request-id')).toBeTruthy();

  const ready = await fetch(`${server.url}/health/ready`);
  expect(ready.status).toBe(200);
  expect(server.bootstrap?.api_key).toMatch(/^pk_/);
});

test('Deno: upload (raw and multipart), original, transform MISS → HIT, delete', async () => {
  const key = server.bootstrap!.api_key;
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3a6' } }).png().toBuffer();
  const raw = await fetch(`${server.url}/api/files`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'image/png', 'x-file-name': 'raw.png' },
    body: png,
  });
  expect(raw.status).toBe(201);
  const { file } = (await raw.json()) as { file: { id: string; sha256: string; width: number } };
  expect(file.width).toBe(300);

  const form = new FormData();
  form.append('image', new Blob([png], { type: 'image/png' }), 'form.png');
  const multipart = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key }, body: form });
  expect(multipart.status).toBe(201);

  const original = await fetch(`${server.url}/i/${file.id}.png`);
  expect(original.status).toBe(200);
  expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);

  const miss = await fetch(`${server.url}/t/w_100,f_webp/${file.id}`);
  expect(miss.status).toBe(200);
  expect(miss.headers.get('x-cache')).toBe('MISS');
  expect((await sharp(Buffer.from(await miss.arrayBuffer())).metadata()).width).toBe(100);
  const hit = await fetch(`${server.url}/t/w_100,f_webp/${file.id}`);
  expect(hit.headers.get('x-cache')).toBe('HIT-MEMORY');
  await hit.arrayBuffer();

  const del = await fetch(`${server.url}/api/files/${file.id}`, { method: 'DELETE', headers: { 'x-api-key': key } });
  expect(del.status).toBe(204);
  expect((await fetch(`${server.url}/i/${file.id}.png`)).status).toBe(404);
  await Bun.sleep(50);
  expect(server.logs.filter((l) => l.level === 'error')).toEqual([]);
});

/** `n` bytes of printable ASCII (text/plain, an allowed type), different in every run. */
function randomText(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  randomFillSync(bytes);
  for (let i = 0; i < n; i++) bytes[i] = 0x21 + ((bytes[i] as number) % 94);
  return bytes;
}

test('Deno: 5 MiB and 50 MiB uploads, raw and multipart, come back byte for byte; the 5 MiB photo transforms', async () => {
  // Uploads of a MiB or more go through the writer thread (platform/file-sink.ts), which under
  // Deno must open the file itself: the request thread's descriptor is not valid in a worker.
  const key = server.bootstrap!.api_key;
  // Noise does not compress: a 1400×1300 PNG of it is over 5 MiB.
  const photo = await sharp({ create: { width: 1400, height: 1300, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
  expect(photo.byteLength).toBeGreaterThan(5 * 1024 * 1024);
  const cases: [string, Uint8Array<ArrayBuffer>, string][] = [
    ['photo.png', new Uint8Array(photo), 'image/png'],
    ['big.txt', randomText(50 * 1024 * 1024), 'text/plain'],
  ];
  const ids: string[] = [];
  for (const [name, bytes, type] of cases) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    for (const [how, res] of [
      ['raw', await fetch(`${server.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': type, 'x-file-name': name }, body: bytes })],
      ['multipart', await fetch(`${server.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key }, body: form })],
    ] as const) {
      const body = (await res.json()) as { file: { id: string; size: number; sha256: string } };
      expect([name, how, res.status]).toEqual([name, how, 201]);
      expect(body.file.size).toBe(bytes.byteLength);
      expect(body.file.sha256).toBe(sha256);
      const back = await fetch(`${server.url}/d/${body.file.id}`, { headers: { 'x-api-key': key } });
      expect(back.status).toBe(200);
      expect(createHash('sha256').update(new Uint8Array(await back.arrayBuffer())).digest('hex')).toBe(sha256);
      ids.push(body.file.id);
    }
  }
  const thumb = await fetch(`${server.url}/t/w_200,f_webp/${ids[0]}`);
  expect(thumb.status).toBe(200);
  const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
  expect([meta.format, meta.width]).toEqual(['webp', 200]);
  expect(server.logs.filter((l) => l.level === 'error')).toEqual([]);
}, 180_000);

test('Deno: an upload with no body at all (no Content-Length) is the 400 it is on Bun (it was a 415 application/x-empty)', async () => {
  const res = await rawRequest(server.port, { method: 'POST', path: '/api/files', host: 'localhost', headers: { 'x-api-key': server.bootstrap!.api_key, 'content-type': 'text/plain' } });
  expect([res.status, (JSON.parse(res.body) as { message: string }).message]).toEqual([400, 'The request body is empty.']);
});

test('Deno: SIGTERM exits 0', async () => {
  expect(await server.stop('SIGTERM')).toBe(0);
});
