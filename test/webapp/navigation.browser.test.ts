/**
 * Moving around the web app by keyboard and history. Back from a file returns to the same place
 * in the library (scroll position, and the files loaded past the first page) with the focus on
 * the tile that was opened, as a photo library does; Forward returns to the top of the file's
 * page. The skip links move the focus to the content and to the files.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { launch } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const FILES = 150; // more than the library's first page of 100

let server: RunningServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  server = await startServer({ env: { RATE_LIMIT_UPLOAD_COUNT: '1000/10m' } });
  base = `http://localhost:${server.port}`;
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function signedIn(files: number) {
  const api = createClient(server.url);
  const res = await api('POST', '/api/auth/register', { email: `nav-${Date.now().toString(36)}-${files}@example.com`, password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  for (let i = 0; i < files; i++) {
    const up = await fetch(`${base}/api/files`, {
      method: 'POST',
      headers: { cookie: header, 'x-csrf-token': map.pictor_csrf!, 'content-type': 'text/plain', 'x-file-name': `note-${String(i).padStart(3, '0')}.txt` },
      body: `note ${i}`,
    });
    expect(up.status).toBe(201);
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  return context;
}

const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.slice(0, 40) ?? '');

test('the skip links move the focus to the content and to the files, with no new history entry', async () => {
  const context = await signedIn(3);
  const page = await context.newPage();
  await page.goto(`${base}/settings`);
  await page.locator('h1', { hasText: 'Settings' }).waitFor(WAIT);
  const entries = await page.evaluate(() => history.length);
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('Skip to content');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'main', null, WAIT);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.closest('main') !== null)).toBe(true);
  expect(await page.evaluate(() => history.length)).toBe(entries);

  await page.goto(`${base}/`);
  await page.locator('.cell').first().waitFor(WAIT);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('Skip to the files');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('Select note-002.txt');
  await context.close();
});

test('Back from a file returns to the same place in the library, focus on its tile', async () => {
  const context = await signedIn(FILES);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.locator('.status-line', { hasText: `${FILES} files` }).waitFor(WAIT);

  // Newest first: note-010 is the 140th file, past the first page, reached by scrolling down.
  const tile = page.locator('.cell a.open[title="note-010.txt"]');
  for (let i = 0; i < 40 && (await tile.count()) === 0; i++) await page.mouse.wheel(0, 1500);
  await tile.scrollIntoViewIfNeeded();
  const left = await page.evaluate(() => Math.round(scrollY));
  expect(left).toBeGreaterThan(2000);
  await tile.focus();
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'note-010.txt' }).waitFor(WAIT);
  await page.waitForFunction(() => scrollY === 0, null, WAIT);

  await page.goBack();
  await page.waitForFunction(() => document.activeElement?.getAttribute('title') === 'note-010.txt', null, WAIT);
  expect(await page.evaluate(() => Math.round(scrollY))).toBe(left);
  // Keyboard users carry on from the tile they opened: the next Tab reaches the tile after it.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Select note-009.txt');

  await page.goForward();
  await page.locator('h1', { hasText: 'note-010.txt' }).waitFor(WAIT);
  expect(await page.evaluate(() => scrollY)).toBe(0);
  await context.close();
});
