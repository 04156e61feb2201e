/**
 * Deno smoke test: the same app under `Deno.serve(app.fetch)` on embedded defaults.
 * Later features extend the list of checks.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import sharp from 'sharp';
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

test('Deno: SIGTERM exits 0', async () => {
  expect(await server.stop('SIGTERM')).toBe(0);
});
