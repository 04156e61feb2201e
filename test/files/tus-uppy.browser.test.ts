/**
 * Issue #22, acceptance 2: Uppy with its Tus plugin, in a real headless Chromium, uploads a file
 * to Pictor; the test takes the browser offline mid-upload (`context.setOffline`) and back
 * online, and the upload completes with the source's sha256. The page (Uppy bundled here with
 * Bun.build) is served on the server's own origin through Playwright's routing, as the web app is.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MiB = 1024 * 1024;
let browser: Browser;
let srv: RunningServer;
let bundleDir = '';
let script = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  bundleDir = await mkdtemp(join(tmpdir(), 'pictor-uppy-'));
  const built = await Bun.build({ entrypoints: [join(import.meta.dir, 'fixtures/uppy-tus-page.ts')], outdir: bundleDir, target: 'browser', minify: true });
  if (!built.success) throw new Error(`bundling Uppy failed: ${built.logs.join('\n')}`);
  script = await readFile(built.outputs[0]!.path, 'utf8');
  srv = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

/** The bytes the page generates (same formula), to check the stored file against. */
function pageBytes(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 31 + (i >> 10)) % 26);
  return b;
}

test('Uppy + Tus in Chromium: an offline period mid-upload, then the upload completes with the right sha256', async () => {
  const size = 24 * MiB;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    // Proof the offline period interrupted the upload: tus requests that failed, and a HEAD to resume.
    const failed: string[] = [];
    const heads: string[] = [];
    page.on('requestfailed', (r) => r.url().includes('/api/uploads/tus') && failed.push(r.method()));
    page.on('request', (r) => r.url().includes('/api/uploads/tus/') && r.method() === 'HEAD' && heads.push(r.url()));
    await page.route(`${srv.url}/__uppy__/**`, (route) => {
      const isScript = route.request().url().endsWith('.js');
      return route.fulfill({
        status: 200,
        contentType: isScript ? 'text/javascript' : 'text/html',
        body: isScript ? script : '<!doctype html><title>uppy</title><script type="module" src="/__uppy__/page.js"></script>',
      });
    });
    await page.goto(`${srv.url}/__uppy__/index.html`);
    await page.waitForFunction(() => typeof window.uploadWithUppy === 'function');
    const result = page.evaluate(
      (o) => window.uploadWithUppy(o),
      { endpoint: `${srv.url}/api/uploads/tus`, key: srv.bootstrap!.api_key, size, chunkSize: MiB },
    );
    result.catch(() => {}); // awaited below
    await page.waitForFunction(() => window.uppyProgress > 0.25, undefined, { timeout: 60_000, polling: 50 });
    await context.setOffline(true);
    const atDrop = await page.evaluate(() => window.uppyProgress);
    await Bun.sleep(2000); // an offline period: the pause itself, nothing timed is asserted
    await context.setOffline(false);
    const { id, sha256 } = await result;
    expect(atDrop).toBeLessThan(1);
    expect(failed.length).toBeGreaterThan(0);
    expect(heads.length).toBeGreaterThan(0);
    const expected = createHash('sha256').update(pageBytes(size)).digest('hex');
    expect(sha256).toBe(expected);
    const file = await fetch(`${srv.url}/api/files/${id}`, { headers: { authorization: `Bearer ${srv.bootstrap!.api_key}` } });
    expect(file.status).toBe(200);
    expect(await file.json()).toMatchObject({ id, size, sha256: expected, content_type: 'text/plain', name: 'uppy.txt' });
  } finally {
    await context.close();
  }
}, 180_000);
