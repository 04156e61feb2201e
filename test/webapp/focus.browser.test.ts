/**
 * Where the keyboard focus goes after an action, and what the pages say when the server refuses
 * one, in Chromium with the keyboard. Found by a keyboard-only walk-through: a disabled "busy"
 * button, or a pressed button that left the page, dropped the focus to <body> (sign in, create
 * key, revoke, sign out a session, revoke a share link); a half-typed key expiry made a key
 * that never expires; a file deleted in another tab kept its page of actions, each answering
 * "File not found."; a key revoked elsewhere stayed on screen.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { axeProblems, launch, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let context: BrowserContext;
let page: Page;
let session: { cookie: string; csrf: string };
const address = `focus-${Date.now().toString(36)}@example.com`;
const password = 'correct horse 1';

beforeAll(async () => {
  server = await startServer({ env: { RATE_LIMIT_REGISTER: '100/1h', RATE_LIMIT_LOGIN: '100/15m', RATE_LIMIT_SENSITIVE: '100/15m' } });
  base = `http://localhost:${server.port}`;
  api = createClient(server.url);
  browser = await launch();
  const res = await api('POST', '/api/auth/register', { email: address, password });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  session = { cookie: header, csrf: map.pictor_csrf! };
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  page = await context.newPage();
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

/** The focused element, briefly: tag, id and text. */
const focused = (p: Page = page) => p.evaluate(() => {
  const e = document.activeElement;
  return e ? `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} ${(e.textContent ?? '').trim().slice(0, 40)}`.trim() : 'none';
});
const focusIs = (p: Page, test: (desc: string) => boolean, what: string) =>
  p.waitForFunction(() => true, null, WAIT).then(async () => {
    for (let i = 0; i < 300; i++) {
      const d = await focused(p);
      if (test(d)) return d;
      await Bun.sleep(50);
    }
    throw new Error(`focus never reached ${what}: it is on ${await focused(p)}`);
  });

describe('the focus stays where the user is', () => {
  test('sign in by the button with a wrong password: the focus stays on the button, the refusal is an alert', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const p = await other.newPage();
      await p.goto(`${base}/login`);
      await p.getByLabel('Email').fill(address);
      await p.getByLabel('Password').fill('not the password');
      await p.getByRole('button', { name: 'Sign in' }).focus();
      await p.keyboard.press('Enter');
      await p.getByRole('alert').waitFor(WAIT);
      await focusIs(p, (d) => d.startsWith('button') && d.includes('Sign in'), 'the Sign in button');
    } finally {
      await other.close();
    }
  });

  test('keys: revoke asks with the focus on "Keep it", which returns it; revoking hands it to the list; rename opens on the name and Escape returns', async () => {
    for (const name of ['alpha', 'beta']) expect((await api('POST', '/api/auth/api-keys', { name, scopes: ['files:read'] }, session)).status).toBe(201);
    await page.goto(`${base}/keys`);
    const row = page.getByRole('listitem', { name: 'Key alpha' });
    await row.waitFor(WAIT);
    await row.getByRole('button', { name: 'Revoke alpha' }).click();
    await focusIs(page, (d) => d.includes('Keep it'), '"Keep it"');
    await shot(page, 'keys-revoke-confirm');
    await page.keyboard.press('Enter');
    await focusIs(page, (d) => d.startsWith('button') && d.includes('Revoke'), 'the Revoke button');
    await page.keyboard.press('Enter');
    await focusIs(page, (d) => d.includes('Keep it'), '"Keep it"');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toContain('Yes, revoke alpha');
    await page.keyboard.press('Enter');
    await focusIs(page, (d) => d.startsWith('h2#list-title'), 'the list heading');
    await page.getByText('alpha was revoked: it is refused from now on.').waitFor(WAIT);

    const beta = page.getByRole('listitem', { name: 'Key beta' });
    await beta.getByRole('button', { name: 'Edit beta' }).click();
    await focusIs(page, (d) => d.startsWith('input#name-'), 'the name field');
    await page.keyboard.press('Escape');
    await focusIs(page, (d) => d.includes('Rename or re-scope'), 'the Rename button');
    expect(await beta.getByRole('button', { name: 'Edit beta' }).isVisible()).toBe(true);
    expect(await axeProblems(page)).toEqual([]);
  });

  test('keys: one revoked in another tab leaves the list, saying so', async () => {
    const made = await api('POST', '/api/auth/api-keys', { name: 'gamma', scopes: ['files:read'] }, session);
    await page.goto(`${base}/keys`);
    const row = page.getByRole('listitem', { name: 'Key gamma' });
    await row.waitFor(WAIT);
    expect((await api('DELETE', `/api/auth/api-keys/${(made.body as { id: string }).id}`, undefined, session)).status).toBe(204);
    await row.getByRole('button', { name: 'Revoke gamma' }).click();
    await page.getByRole('button', { name: 'Yes, revoke gamma' }).click();
    await page.getByText('gamma had already been revoked (elsewhere).').waitFor(WAIT);
    await row.waitFor({ state: 'detached', ...WAIT });
  });

  test('keys: a half-typed expiry date is refused in the form, not read as "never"', async () => {
    await page.goto(`${base}/keys`);
    await page.getByLabel(/^Name/).fill('half date');
    await page.getByLabel(/^Expires on/).focus();
    await page.keyboard.type('01'); // the month only: the field holds 01/dd/yyyy and its value is ''
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('alert').filter({ hasText: 'Finish the expiry date' }).waitFor(WAIT);
    expect(await focused()).toMatch(/^input#key-expires/);
    const keys = (await api('GET', '/api/auth/api-keys', undefined, session)).body as { results: { name: string }[] };
    expect(keys.results.map((k) => k.name)).not.toContain('half date');
  });

  test('a file deleted in another tab: its page says so at once instead of offering actions', async () => {
    const form = new FormData();
    form.append('file', new File([new Uint8Array(await sharp({ create: { width: 40, height: 30, channels: 3, background: '#369' } }).png().toBuffer())], 'gone.png', { type: 'image/png' }));
    const up = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrf }, body: form });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    await page.goto(`${base}/files/${file.id}`);
    await page.getByRole('heading', { name: 'gone.png', level: 1 }).waitFor(WAIT);
    expect((await api('DELETE', `/api/files/${file.id}`, undefined, session)).status).toBe(204);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'File not available', level: 1 }).waitFor(WAIT);
    await page.getByText('gone.png is no longer here: it was deleted elsewhere.').waitFor(WAIT);
    await focusIs(page, (d) => d.startsWith('h1#gone-title'), 'the page heading');
    await shot(page, 'details-gone');
    expect(await page.getByRole('button', { name: 'Create link' }).count()).toBe(0);
  });

  test('account: signing out another session hands the focus to the list', async () => {
    const other = await api('POST', '/api/auth/login', { email: address, password });
    expect(other.status).toBe(200);
    await page.goto(`${base}/account`);
    const signOut = page.locator('.session-list').getByRole('button', { name: /^Sign out/ }).first();
    await signOut.waitFor(WAIT);
    await signOut.focus();
    await page.keyboard.press('Enter');
    await page.getByText(/was signed out\.$/).waitFor(WAIT);
    await focusIs(page, (d) => d.startsWith('h2#sessions-title'), 'the sessions heading');
  });
});
