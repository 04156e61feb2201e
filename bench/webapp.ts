/**
 * The web app's library with 1 000 files (issue #20): time from navigation to the first visible
 * thumbnail, and to every thumbnail of the first screen, in headless Chromium. Cold: the `/t`
 * derivatives are not cached yet (each tile is a transform); warm: the same navigation again
 * (memory-cache hits, browser cache disabled). A figure, not a test.
 * Usage: ./node_modules/.bin/bun bench/webapp.ts [--files=1000] [--rounds=3]
 * Needs web/dist (npm run build:web) and Chromium at /usr/bin/chromium (CHROMIUM_PATH).
 */
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { cookiesOf, createClient } from '../test/helpers/client';
import { startServer } from '../test/helpers/server';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const total = arg('files', 1000);
const rounds = arg('rounds', 3);
const BATCH = 20; // files per upload request (the server takes at most 20)

const server = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
try {
  const base = `http://localhost:${server.port}`;
  const api = createClient(server.url);
  const reg = await api('POST', '/api/auth/register', { email: `bench-${Date.now()}@example.com`, password: 'bench password 1' });
  const { header: cookie, map } = cookiesOf(reg.headers);

  const t0 = performance.now();
  for (let start = 0; start < total; start += BATCH) {
    const form = new FormData();
    for (let i = start; i < Math.min(total, start + BATCH); i++) {
      const png = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 } } }).png().toBuffer();
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), `photo-${String(i).padStart(4, '0')}.png`);
    }
    const res = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { cookie, 'x-csrf-token': map.pictor_csrf! }, body: form });
    if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
  }
  console.log(`seeded ${total} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

  const measure = async () => {
    await page.goto(`${base}/`);
    // Milliseconds since navigation start (performance.now()) when the first / every visible thumbnail has loaded.
    const first = await page.waitForFunction(() => {
      const loaded = [...document.querySelectorAll<HTMLImageElement>('.thumb img')].some((i) => i.complete && i.naturalWidth > 0);
      return loaded ? performance.now() : null;
    }, null, { polling: 'raf', timeout: 60_000 });
    const screen = await page.waitForFunction(() => {
      const vis = [...document.querySelectorAll<HTMLImageElement>('.thumb img')].filter((i) => i.getBoundingClientRect().top < innerHeight);
      return vis.length > 0 && vis.every((i) => i.complete && i.naturalWidth > 0) ? [performance.now(), vis.length] : null;
    }, null, { polling: 'raf', timeout: 60_000 });
    const [all, count] = (await screen.jsonValue()) as [number, number];
    return { first: Math.round((await first.jsonValue()) as number), all: Math.round(all), count };
  };
  const cold = await measure();
  console.log(`cold: first thumbnail ${cold.first} ms, all ${cold.count} on screen ${cold.all} ms after navigation`);
  for (let r = 1; r <= rounds; r++) {
    const warm = await measure();
    console.log(`warm ${r}: first thumbnail ${warm.first} ms, all ${warm.count} on screen ${warm.all} ms after navigation`);
  }
  await context.close();
} finally {
  await browser.close();
  await server.close();
}
