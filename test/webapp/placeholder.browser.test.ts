/**
 * A library tile shows the file's blurhash as a `data:` image until its `/t` thumbnail loads
 * (issue #20). The thumbnail requests are held by the test (page.route) so the placeholder can
 * be seen without racing the image; released, the thumbnail loads and the placeholder goes.
 * Private images get signed thumbnail URLs, one request for the tiles on screen.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, Route } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { launch, quads } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

let server: RunningServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  server = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  base = `http://localhost:${server.port}`;
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('a tile shows the blurhash as a data: URL placeholder until the thumbnail loads', async () => {
  const api = createClient(server.url);
  const res = await api('POST', '/api/auth/register', { email: `bh-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  const auth = { cookie: header, 'x-csrf-token': map.pictor_csrf! };

  const image = await quads('quads.png', 120, 90);
  const up = await fetch(`${server.url}/api/files?is_public=true`, { method: 'POST', body: new Uint8Array(image.bytes), headers: { ...auth, 'content-type': image.type } });
  expect(up.status).toBe(201);
  const { file } = (await up.json()) as { file: { id: string } };
  // The upload's derive job computes the blurhash; wait for it on the API.
  const end = Date.now() + 60_000;
  for (;;) {
    const got = (await (await fetch(`${server.url}/api/files/${file.id}`, { headers: auth })).json()) as { blurhash: string | null };
    if (typeof got.blurhash === 'string') break;
    if (Date.now() > end) throw new Error('timed out waiting for the blurhash');
    await Bun.sleep(100);
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  const held: Route[] = [];
  let released = false;
  await context.route('**/t/**', (route) => (released ? route.continue() : void held.push(route)));
  const page = await context.newPage();
  try {
    await page.goto(`${base}/`);
    const placeholder = page.locator('.thumb img.placeholder');
    await placeholder.first().waitFor(WAIT);
    expect(await placeholder.count()).toBe(1);
    expect(await placeholder.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    // It decoded to real pixels, not a broken image.
    expect(await placeholder.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(32);
    expect(await page.locator('.thumb.loaded').count()).toBe(0);

    // Release the thumbnails (and any asked for later): the tile loads and the placeholder goes.
    released = true;
    for (const r of held.splice(0)) await r.continue();
    await page.locator('.thumb.loaded').first().waitFor(WAIT);
    await placeholder.waitFor({ state: 'detached', ...WAIT });
  } finally {
    await context.close();
  }
});

test('private images show their thumbnails too: the tiles on screen are signed in one request; a text file says Text', async () => {
  const api = createClient(server.url);
  const res = await api('POST', '/api/auth/register', { email: `pv-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  const auth = { cookie: header, 'x-csrf-token': map.pictor_csrf! };
  for (const name of ['a.png', 'b.png', 'c.png']) {
    const image = await quads(name, 120, 90);
    const up = await fetch(`${server.url}/api/files?is_public=false`, { method: 'POST', body: new Uint8Array(image.bytes), headers: { ...auth, 'content-type': image.type, 'x-file-name': name } });
    expect(up.status).toBe(201);
  }
  const text = await fetch(`${server.url}/api/files`, { method: 'POST', body: 'notes\n', headers: { ...auth, 'content-type': 'text/plain', 'x-file-name': 'notes.txt' } });
  expect(text.status).toBe(201);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  const page = await context.newPage();
  const signings: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/files/') && r.url().includes('signed-url')) signings.push(r.url());
  });
  try {
    await page.goto(`${base}/`);
    // Before, a private tile was a grey box with its kind ("Image · private").
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.thumb img:not(.placeholder)')]
      .filter((i) => i.complete && i.naturalWidth > 0).length === 3, null, WAIT);
    const srcs = await page.locator('.thumb img:not(.placeholder)').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).getAttribute('src')));
    for (const src of srcs) expect(src).toMatch(/^\/authenticated\/s--[A-Za-z0-9_-]+\/[^/]*exp_\d+[^/]*\/[A-Za-z0-9_-]+$/);
    expect(signings).toEqual([`${base}/api/files/signed-urls`]);
    expect(await page.locator('.badge-private').count()).toBe(3);
    // Only the text file shows its kind, in a word ("PLAIN" before).
    expect(await page.locator('.kind').allTextContents()).toEqual(['Text']);
  } finally {
    await context.close();
  }
});
