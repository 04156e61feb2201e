/**
 * `/docs` renders in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * and lists the API's operations. The UI bundle is served by Pictor itself, so this works
 * offline.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: RunningServer;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('/docs renders the API reference with its operations', async () => {
  const page = await browser.newPage();
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) external.push(r.url());
  });
  const res = await page.goto(`${server.url}/docs`);
  expect(res?.status()).toBe(200);
  // Scalar fetches /openapi.json, then lists tags in the sidebar; opening one shows its operations.
  await page.getByText('Pictor API').first().waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'health' }).first().click();
  await page.getByText('Liveness').first().waitFor({ timeout: 10_000 });
  await page.getByRole('button', { name: 'reference' }).first().click();
  await page.getByText('Content types accepted for upload').first().waitFor({ timeout: 10_000 });
  const text = await page.locator('body').innerText();
  expect(text).toContain('Readiness');
  // Everything the page loaded came from Pictor itself (no CDN, fonts or telemetry).
  expect(external).toEqual([]);
  expect(failed.filter((u) => u.startsWith(server.url))).toEqual([]);
  await page.close();
});
