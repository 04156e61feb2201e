/**
 * `/docs` renders in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * and lists the API's operations. The UI bundle is served by Pictor itself, so this works
 * offline.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EXAMPLE_PASSWORD } from '../../src/modules/auth/model';
import { cookiesOf } from '../helpers/client';
import { quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server: RunningServer;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  server = await startServer({ env: { RATE_LIMIT_REGISTER: '20/1h' } });
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

test('/docs shows no stray text above the reference: its meta description is one short, escaped attribute', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/docs`);
  const metas = await page.locator('meta[name="description"], meta[name="og:description"]').evaluateAll(
    (els) => els.map((e) => e.getAttribute('content') ?? ''),
  );
  expect(metas).toHaveLength(2);
  for (const content of metas) expect(content).toStartWith('Pictor API reference');
  // Before, a `"` in the grammar ended the attribute and the rest showed as page text.
  await page.getByText('Pictor API').first().waitFor({ timeout: 30_000 });
  const text = await page.locator('body').innerText();
  expect(text).not.toContain('" />');
  expect(text).not.toContain('| preset | transformation | eager |');
  await page.close();
});

/** Opens an operation's "Test Request" client in /docs (Scalar) and returns its dialog. */
async function openTryIt(page: Page, tag: string, summary: string) {
  // The default PUBLIC_URL is http://localhost:<port>: the page must be on that origin for "Try it" to call it.
  await page.goto(`${server.url.replace('127.0.0.1', 'localhost')}/docs/`);
  await page.getByText('Pictor API').first().waitFor({ timeout: 30_000 });
  // The tag's group in the sidebar ("account" alone would also match the operation "Create an account").
  await page.getByRole('button', { name: new RegExp(`^${tag}\\s*(Open|Close) Group$`) }).first().click();
  await page.getByText(summary, { exact: true }).first().click();
  const section = page.locator('section', { has: page.getByRole('heading', { name: summary, exact: true }) }).last();
  await section.getByRole('button', { name: /Test Request/ }).first().click();
  return page.getByRole('dialog');
}

test('/docs/ "Try it" signs in with the example body, and uploads a file through the multipart form', async () => {
  // The account of the documented example (`ada@example.com`, the example password).
  const credentials = { email: 'ada@example.com', password: EXAMPLE_PASSWORD };
  const registered = await fetch(`${server.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) });
  expect(registered.status).toBe(201);

  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const answerTo = (method: string, path: string) =>
    page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path, { timeout: 30_000 });

  let dialog = await openTryIt(page, 'auth', 'Sign in');
  let answer = answerTo('POST', '/api/auth/login');
  await dialog.getByRole('button', { name: /^Send/ }).first().click();
  const login = await answer;
  const loginBody = await login.text();
  expect(login.status(), loginBody).toBe(200);
  // 200 only for the example's email and password (anything else is 401): the form sent the example body.
  const token = (JSON.parse(loginBody) as { session: { access_token: string } }).session.access_token;
  await page.keyboard.press('Escape');
  // Sent from the reference, the sign-in set no cookies (next test); the upload sends the bearer token.
  expect(await page.context().cookies()).toEqual([]);

  const file = join(await mkdtemp(join(tmpdir(), 'pictor-docs-')), 'upload.png');
  await quadrants(40, 30).png().toFile(file);
  dialog = await openTryIt(page, 'files', 'Upload files');
  await dialog.getByPlaceholder('Token').fill(token);
  // The form lists both file part names; only `file` carries one here (an empty `image` part is a 400).
  for (const field of ['image']) {
    await dialog.locator(`tr[id="${field}"] input[type=checkbox]`).last().setChecked(false, { force: true });
  }
  // Scalar pre-fills `Content-Type: multipart/form-data` without a boundary; left out, the browser sets it with one.
  await dialog.locator('tr[id="Content-Type"] input[type=checkbox]').first().setChecked(false, { force: true });
  const chooser = page.waitForEvent('filechooser');
  await dialog.locator('tr[id="file"]').last().getByRole('button', { name: /Select File/ }).click();
  await (await chooser).setFiles(file);
  await dialog.locator('tr[id="file"]').last().getByText('upload.png').first().waitFor({ timeout: 10_000 });
  // The request the client will send, as its curl snippet: wait until it carries the file part.
  await dialog.getByRole('button', { name: /Code Snippet/ }).first().click();
  await dialog.getByText(/file=@upload\.png/).first().waitFor({ timeout: 10_000 });
  answer = answerTo('POST', '/api/files');
  await dialog.getByRole('button', { name: /^Send/ }).first().click();
  const upload = await answer;
  const uploadBody = await upload.text();
  expect(upload.status(), uploadBody).toBe(201);
  expect(upload.request().headers()['content-type']).toStartWith('multipart/form-data; boundary=');
  expect(JSON.parse(uploadBody)).toMatchObject({ file: { content_type: 'image/png', width: 40, height: 30 }, message: 'File uploaded' });
  await page.close();
}, 120_000);

test('/docs/ "Try it" with the browser\'s session: a write sends the session\'s CSRF token (it was 403 CSRF_INVALID)', async () => {
  const origin = server.url.replace('127.0.0.1', 'localhost');
  const res = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `docs-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' }),
  });
  expect(res.status).toBe(201);
  const { map } = cookiesOf(res.headers);
  const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${origin}/api/auth` : origin })));
  const page = await context.newPage();
  const dialog = await openTryIt(page, 'folders', 'Create a folder');
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/folders', { timeout: 30_000 });
  await dialog.getByRole('button', { name: /^Send/ }).first().click();
  const created = await answer;
  const body = await created.text();
  expect(created.status(), body).toBe(201);
  expect(created.request().headers()['x-csrf-token']).toBe(map.pictor_csrf);
  expect(JSON.parse(body)).toMatchObject({ path: '/holidays/2026' }); // the documented example, a valid body (it was "")
  await page.keyboard.press('Escape');
  // A body with optional fields is the schema's example, not every field empty (a watermark named "additionalProperty" was a 400).
  const settings = await openTryIt(page, 'account', 'Change account settings');
  const patched = page.waitForResponse((r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === '/api/settings', { timeout: 30_000 });
  await settings.getByRole('button', { name: /^Send/ }).first().click();
  const saved = await patched;
  expect(saved.status()).toBe(200);
  // The new account's defaults (public, no expiry) took the example's values: the example was the body sent.
  expect(JSON.parse(await saved.text())).toMatchObject({ default_is_public: false, default_expires_in: 604800 });
  // Signed out, the page carries no token.
  const plain = await fetch(`${server.url}/docs`);
  expect(await plain.text()).not.toContain('csrfHeader');
  await context.close();
}, 120_000);

test('/docs/ "Try it" on Sign in keeps the browser\'s own session (the example signed it in as a public account)', async () => {
  const origin = server.url.replace('127.0.0.1', 'localhost');
  const example = { email: 'ada@example.com', password: EXAMPLE_PASSWORD };
  const ada = await fetch(`${server.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(example) });
  expect([201, 409]).toContain(ada.status); // the test above may have made it
  const mine = `owner-${Date.now().toString(36)}@example.com`;
  const res = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: mine, password: 'correct horse 1' }),
  });
  expect(res.status).toBe(201);
  const { map } = cookiesOf(res.headers);
  const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${origin}/api/auth` : origin })));
  const page = await context.newPage();
  const dialog = await openTryIt(page, 'auth', 'Sign in');
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/auth/login', { timeout: 30_000 });
  await dialog.getByRole('button', { name: /^Send/ }).first().click();
  const login = await answer;
  expect(login.status()).toBe(200);
  expect((JSON.parse(await login.text()) as { user: { email: string } }).user.email).toBe(example.email);
  expect(login.headers()['set-cookie']).toBeUndefined();
  // The browser's cookies are the ones it had, and its session is still the owner's.
  const after = Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
  expect(after).toEqual(map);
  const profile = await page.request.get(`${origin}/api/profile`);
  expect(((await profile.json()) as { user: { email: string } }).user.email).toBe(mine);
  await context.close();
}, 120_000);

test('/docs/ (trailing slash) loads the same reference as /docs', async () => {
  const page = await browser.newPage();
  const res = await page.goto(`${server.url}/docs/`);
  expect(res?.status()).toBe(200);
  await page.getByRole('button', { name: 'health' }).first().click({ timeout: 30_000 });
  await page.getByText('Liveness').first().waitFor({ timeout: 10_000 });
  expect(await page.locator('body').innerText()).not.toContain('Document could not be loaded');
  await page.close();
});
