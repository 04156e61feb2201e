/**
 * With PUBLIC_URL unset, every link names `http://localhost:<port>`. Opened from another machine
 * (here Chromium maps `pictor.test` to this host), the app says those links work nowhere else and
 * what to set; opened on the server's own machine, or once the account has a URL base, it says
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { launch, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

describe('links on a loopback address', () => {
  let server: RunningServer;
  let browser: Browser;
  let bearer: string;
  let cookies: Record<string, string>;

  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_REGISTER: '100/1h' } });
    browser = await launch(['--host-resolver-rules=MAP pictor.test 127.0.0.1']);
    const res = await createClient(server.url)('POST', '/api/auth/register', { email: `base-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
    expect(res.status).toBe(201);
    bearer = (res.body as { session: { access_token: string } }).session.access_token;
    cookies = cookiesOf(res.headers).map;
    const jpeg = await sharp({ create: { width: 80, height: 60, channels: 3, background: '#468' } }).jpeg().toBuffer();
    const up = await fetch(`${server.url}/api/files`, { method: 'POST', body: new Uint8Array(jpeg), headers: { authorization: `Bearer ${bearer}`, 'content-type': 'image/jpeg' } });
    expect(up.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signedIn(origin: string): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies(Object.entries(cookies).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${origin}/api/auth` : origin })));
    return context;
  }

  test('from another address the library and the details page say the links will not work, and what to set', async () => {
    const origin = `http://pictor.test:${server.port}`;
    const context = await signedIn(origin);
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    const warning = page.getByRole('note').filter({ hasText: 'Links to your files start with' });
    await warning.waitFor(WAIT);
    expect(await warning.textContent()).toContain(`start with http://localhost:${server.port}`);
    expect(await warning.textContent()).toContain(`you are using Pictor at ${origin}`);
    expect(await warning.locator('code').textContent()).toBe('PUBLIC_URL');
    await shot(page, 'link-base-warning');
    await page.locator('.cell a').first().click();
    await page.getByRole('heading', { name: 'About this file' }).waitFor(WAIT);
    await warning.waitFor(WAIT);

    // Once the account's links are built on the address people reach, the warning goes.
    const patched = await fetch(`${server.url}/api/settings`, {
      method: 'PATCH', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify({ public_url_base: origin }),
    });
    expect(patched.status).toBe(200);
    await page.goto(`${origin}/`);
    await page.locator('.cell').first().waitFor(WAIT);
    expect(await warning.count()).toBe(0);
    await fetch(`${server.url}/api/settings`, {
      method: 'PATCH', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify({ public_url_base: null }),
    });
    await context.close();
  });

  test('on the server\'s own machine the links work, and nothing is said', async () => {
    const origin = `http://localhost:${server.port}`;
    const context = await signedIn(origin);
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.locator('.cell').first().waitFor(WAIT);
    expect(await page.getByText('Links to your files start with').count()).toBe(0);
    await context.close();
  });
});
