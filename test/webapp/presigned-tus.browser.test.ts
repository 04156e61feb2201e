/**
 * A presigned resumable upload from a page on another site, as the README offers it: Chromium
 * on a page of another origin (a second local server) runs tus-js-client (its browser bundle) against
 * `<presigned url>/tus`, pauses after the first chunk and resumes (HEAD, then PATCH), all
 * without credentials. Its preflight was a 405 and the answers carried no CORS header, so the
 * browser refused every step.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server';
import { launch, png } from './browser';

setDefaultTimeout(120_000);
let server: RunningServer;
let browser: Browser;
/** The other site: its page and the tus-js-client bundle, on a port of its own (another origin). */
let shop: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  server = await startServer();
  browser = await launch();
  const bundle = await readFile(resolve(import.meta.dir, '../../node_modules/tus-js-client/dist/tus.min.js'), 'utf8');
  shop = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (req) => new URL(req.url).pathname === '/tus.min.js'
      ? new Response(bundle, { headers: { 'content-type': 'text/javascript' } })
      : new Response('<!doctype html><title>Shop</title><script src="/tus.min.js"></script>', { headers: { 'content-type': 'text/html' } }),
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await shop?.stop(true);
});

test('tus-js-client on another site uploads through a presigned URL, paused and resumed', async () => {
  const key = server.bootstrap!.api_key;
  const made = await fetch(`${server.url}/api/uploads/presign`, {
    method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ folder: '/from-shop' }),
  });
  expect(made.status).toBe(201);
  const { url } = (await made.json()) as { url: string };
  const photo = await png('shop.png', 300, 300, true); // noise: a few hundred KB, several chunks
  expect(photo.bytes.byteLength).toBeGreaterThan(3 * 64 * 1024);

  const context = await browser.newContext();
  const page = await context.newPage();
  const methods: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(new URL(url).origin)) methods.push(r.method());
  });
  await page.goto(`http://127.0.0.1:${shop.port}/`);
  expect(new URL(url).origin).not.toBe(`http://127.0.0.1:${shop.port}`);
  const outcome = await page.evaluate(async ({ endpoint, bytes }) => {
    const tus = (window as unknown as { tus: typeof import('tus-js-client') }).tus;
    const file = new Blob([new Uint8Array(bytes)], { type: 'image/png' });
    let paused = false;
    return await new Promise<{ ok: boolean; error?: string; fileId?: string | null }>((done) => {
      const upload: import('tus-js-client').Upload = new tus.Upload(file, {
        endpoint,
        chunkSize: 64 * 1024,
        retryDelays: [],
        storeFingerprintForResuming: false,
        metadata: { filename: 'from-shop.png', filetype: 'image/png' },
        onChunkComplete: () => {
          if (paused) return;
          paused = true;
          // Pause after the first chunk, resume from the offset the server reports (HEAD).
          void upload.abort().then(() => upload.start());
        },
        onAfterResponse: (_req, res) => {
          const id = res.getHeader('X-File-Id');
          if (id) (upload as unknown as { fileId: string }).fileId = id;
        },
        onSuccess: () => done({ ok: true, fileId: (upload as unknown as { fileId?: string }).fileId ?? null }),
        onError: (err) => done({ ok: false, error: String(err) }),
      });
      upload.start();
    });
  }, { endpoint: `${url}/tus`, bytes: [...photo.bytes] });
  expect(outcome.error).toBeUndefined();
  expect(outcome.ok).toBe(true);
  expect(methods).toContain('HEAD');
  expect(methods.filter((m) => m === 'PATCH').length).toBeGreaterThanOrEqual(3);
  // The file the page read from X-File-Id (an exposed header) is in the policy's folder, whole.
  expect(outcome.fileId).toBeString();
  const stored = await fetch(`${server.url}/api/files/${outcome.fileId}`, { headers: { 'x-api-key': key } });
  expect(stored.status).toBe(200);
  expect(await stored.json()).toMatchObject({ folder: '/from-shop', name: 'from-shop.png', size: photo.bytes.byteLength });
  await context.close();
});
