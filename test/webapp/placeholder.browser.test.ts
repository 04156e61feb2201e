/**
 * A library tile shows the file's blurhash as a `data:` image until its `/t` thumbnail loads
 * (issue #20). The thumbnail requests are held by the test (page.route) so the placeholder can
 * be seen without racing the image; released, the thumbnail loads and the placeholder goes.
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
