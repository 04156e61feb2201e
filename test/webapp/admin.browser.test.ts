/**
 * The administration page in Chromium (issue #21 acceptance 2 and 6): an admin bans a user on
 * the page, that user's session is refused at its next call and their public file answers
 * 404; unbanning restores both. The admin creates invite codes on the page and a new person
 * registers with one (the server is invite-only). A non-admin opening the page sees a refusal
 * and the API refuses the calls; axe finds no serious or critical violation on the tabs. The
 * README's admin screenshot is taken here.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { quadrants } from '../helpers/images';
import { type RunningServer } from '../helpers/server';
import { emailMaker, startAdminFixture } from './admin-fixture';
import { axeProblems } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const SCREENSHOTS = resolve(import.meta.dir, '../../docs/screenshots');

let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let adminKey: string;
const email = emailMaker();

beforeAll(async () => {
  ({ server, browser, base, api, adminKey } = await startAdminFixture());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Browser cookies of a session answer (the refresh cookie is scoped to /api/auth). */
async function contextWith(headers: Headers): Promise<BrowserContext> {
  const { map } = cookiesOf(headers);
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  return context;
}

/** A user registered through the API with an invite the admin's key made. */
async function signUp(tag: string) {
  const admin = await api('GET', '/api/profile', undefined, { key: adminKey });
  const inv = await api('POST', `/api/admin/users/${admin.body.user.id}/invites`, { count: 1 }, { key: adminKey });
  expect(inv.status).toBe(201);
  const address = email(tag);
  const res = await api('POST', '/api/auth/register', { email: address, password: 'correct horse 1', invite_code: inv.body.results[0].code });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  return { email: address, id: res.body.user.id as string, cookie: header, csrf: map.pictor_csrf!, headers: res.headers, bearer: res.body.session.access_token as string };
}

async function uploadPublic(bearer: string, name: string): Promise<string> {
  const res = await fetch(`${server.url}/api/files`, {
    method: 'POST',
    body: await quadrants(64, 48).png().toBuffer(),
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'image/png', 'x-file-name': name },
  });
  expect(res.status).toBe(201);
  const { file } = (await res.json()) as { file: { url: string } };
  return new URL(file.url).pathname;
}

async function adminContext(): Promise<BrowserContext> {
  const res = await api('POST', '/api/auth/login', { email: server.bootstrap!.email, password: server.bootstrap!.initial_password });
  expect(res.status).toBe(200);
  return contextWith(res.headers);
}

describe('administration page', () => {
  test('ban on the page refuses the session and hides the public file; unban restores the file, and the account signs in again; invites register a new user (#21.2)', async () => {
    const bob = await signUp('bob');
    const path = await uploadPublic(bob.bearer, 'bob.png');
    expect((await fetch(`${server.url}${path}`)).status).toBe(200);
    let bobCookie = bob.cookie;
    const bobCalls = () => api('GET', '/api/profile', undefined, { cookie: bobCookie });
    expect((await bobCalls()).status).toBe(200);

    const context = await adminContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin?tab=users`);
    await page.getByLabel('Search users by email').fill(bob.email);
    const row = page.locator(`tr[data-user="${bob.email}"]`);
    await row.waitFor(WAIT);
    await page.locator('tbody tr').nth(1).waitFor({ state: 'detached', ...WAIT }); // the search narrowed the list
    expect(await page.locator('tbody tr').count()).toBe(1);

    // Banning asks first (it acted on one click); Cancel leaves the account as it was.
    await row.getByRole('button', { name: `Ban ${bob.email}` }).click();
    await row.getByRole('button', { name: 'Cancel' }).click();
    expect(await row.getByText('Active', { exact: true }).count()).toBe(1);
    await row.getByRole('button', { name: `Ban ${bob.email}` }).click();
    await row.getByRole('button', { name: `Confirm ban ${bob.email}` }).click();
    await row.getByText('Banned', { exact: true }).waitFor(WAIT);
    const refused = await bobCalls();
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('ACCOUNT_BANNED');
    expect((await fetch(`${server.url}${path}`)).status).toBe(404);

    await row.getByRole('button', { name: `Unban ${bob.email}` }).click();
    await row.getByText('Active', { exact: true }).waitFor(WAIT);
    expect((await fetch(`${server.url}${path}`)).status).toBe(200);
    // The ban ended the account's sessions (one taken over before the ban stays dead): bob signs in again.
    expect((await bobCalls()).status).toBe(401);
    const signedIn = await api('POST', '/api/auth/login', { email: bob.email, password: 'correct horse 1' });
    expect(signedIn.status).toBe(200);
    bobCookie = cookiesOf(signedIn.headers).header;
    expect((await bobCalls()).status).toBe(200);

    // Promote and role change from the same row.
    await row.getByRole('button', { name: `Upgrade plan of ${bob.email}` }).click();
    await row.getByText('Promoted', { exact: true }).waitFor(WAIT);
    expect((await bobCalls()).body.plan.storage_quota_bytes).toBeNull();

    // Invites: two codes, valid 1 day, copyable; a new person registers with one on the register page.
    await page.getByLabel('How many').fill('2');
    await page.getByLabel('Valid for').selectOption('86400');
    await page.getByRole('button', { name: 'Create invites' }).click();
    await page.getByLabel('Invite code 2').waitFor(WAIT);
    const code = await page.getByLabel('Invite code 1').inputValue();
    expect(code).toMatch(/^INV-/);
    expect(await page.getByLabel('Invite code 2').inputValue()).not.toBe(code);

    const fresh = await browser.newContext();
    const reg = await fresh.newPage();
    const newcomer = email('invited');
    await reg.goto(`${base}/register`);
    await reg.getByLabel('Email').fill(newcomer);
    await reg.getByLabel('Password (at least 8 characters)').fill('correct horse 2');
    await reg.getByLabel('Invite code').fill(code);
    await reg.getByRole('button', { name: 'Create account' }).click();
    await reg.getByRole('link', { name: newcomer }).waitFor(WAIT);
    const users = await api('GET', `/api/admin/users?q=${encodeURIComponent(newcomer)}`, undefined, { key: adminKey });
    expect(users.body.results.map((u: { email: string }) => u.email)).toEqual([newcomer]);
    // The same code is used up.
    const again = await api('POST', '/api/auth/register', { email: email('again'), password: 'correct horse 3', invite_code: code });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);
    await fresh.close();
    await context.close();
  });

  test('files tab deletes any account\'s file; overview shows server stats and the last hour; axe clean; screenshot (#21.6, #21.7)', async () => {
    const carol = await signUp('carol');
    const path = await uploadPublic(carol.bearer, 'carol-holiday.png');
    await uploadPublic(carol.bearer, 'carol-notes.png');
    const context = await adminContext();
    const page = await context.newPage();

    await page.goto(`${base}/admin?tab=files`);
    await page.getByLabel('Search files by name').fill('carol-holiday');
    const row = page.locator('tbody tr', { hasText: 'carol-holiday.png' });
    await row.waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
    await row.getByRole('button', { name: 'Delete carol-holiday.png' }).click();
    await row.getByRole('button', { name: 'Delete for good carol-holiday.png' }).click();
    await page.getByText('Deleted carol-holiday.png').waitFor(WAIT);
    expect((await fetch(`${server.url}${path}`)).status).toBe(404);

    await page.goto(`${base}/admin?tab=users`);
    await page.locator('tbody tr').first().waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);

    // Some delivery traffic for the chart: the thumbnail preset twice (a render, then a cache hit).
    const carolFiles = await api('GET', '/api/files', undefined, { bearer: carol.bearer });
    const id = carolFiles.body.results[0].id as string;
    for (let i = 0; i < 3; i++) await fetch(`${server.url}/t/w_120,h_90,c_fill/${id}`);
    await page.goto(`${base}/admin`);
    const stats = await api('GET', '/api/admin/stats', undefined, { key: adminKey });
    expect(stats.status).toBe(200);
    const usersTile = page.locator('[data-stat="Users"]');
    await usersTile.waitFor(WAIT);
    expect(await usersTile.textContent()).toBe(String(stats.body.users.total));
    expect(await page.locator('[data-stat="Files"]').textContent()).toBe(String(stats.body.files.count));
    const minutes = stats.body.traffic.minutes as { requests: number; cache_hits: number }[];
    expect(minutes).toHaveLength(60);
    expect(minutes.reduce((s, m) => s + m.requests, 0)).toBeGreaterThan(0);
    expect(stats.body.cache.hits).toBeGreaterThan(0);
    expect(await page.locator('#chart-traffic rect.bar').count()).toBe(60);
    expect(await axeProblems(page)).toEqual([]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}/webapp-admin.png` });
    await page.goto(`${base}/admin?tab=users`);
    await page.locator('tbody tr').first().waitFor(WAIT);
    await page.screenshot({ path: `${SCREENSHOTS}/webapp-admin-users.png` });
    // On a phone each user is a card: the email on one line (the table cut it every few letters)
    // and the actions on screen (they were past its right edge); axe still passes.
    await page.setViewportSize({ width: 375, height: 740 });
    const first = page.locator('tbody tr').first();
    const email = await first.locator('.user-email').boundingBox();
    const lineHeight = await first.locator('.user-email').evaluate((el) => parseFloat(getComputedStyle(el).lineHeight));
    expect(email!.height).toBeLessThan(lineHeight * 1.5);
    const files = await first.getByRole('link', { name: /^Files/ }).boundingBox();
    expect(files!.x + files!.width).toBeLessThanOrEqual(375);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await axeProblems(page)).toEqual([]);
    // Files of every account too: a file's name on one line (it broke every two or three letters,
    // rows 222 px tall), its owner labelled.
    await page.goto(`${base}/admin?tab=files`);
    const fileRow = page.locator('tbody tr').first();
    await fileRow.waitFor(WAIT);
    const name = fileRow.locator('.user-email');
    expect((await name.boundingBox())!.height).toBeLessThan((await name.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight))) * 1.5);
    expect(await fileRow.locator('td[data-label="Owner"]').evaluate((el) => getComputedStyle(el, '::before').content)).toBe('"Owner "');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // The section tabs that do not fit fade out at the side where more are: Admin, the last, is in view.
    expect(await page.getByRole('navigation', { name: 'Sections' }).getAttribute('data-more')).toBe('left');
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });

  test('an admin\'s jobs page leaves out the server\'s housekeeping until asked, and filters by type', async () => {
    // The server schedules its own `expire` and `prune` (jobs of no account) when it starts; an upload makes an account's `derive`.
    for (let tries = 0; ; tries++) {
      const system = await api('GET', '/api/queue/jobs?system=true', undefined, { key: adminKey });
      if (system.body.count > 0) break;
      if (tries > 300) throw new Error('no housekeeping job was scheduled');
      await Bun.sleep(100);
    }
    const erin = await signUp('erin');
    await uploadPublic(erin.bearer, 'erin.png');
    const context = await adminContext();
    const page = await context.newPage();
    await page.goto(`${base}/jobs`);
    const rows = page.locator('tr[data-job]');
    const typesShown = async () => [...new Set((await rows.locator('td:first-child .mono').allTextContents()).map((t) => t.split(' · ')[0]))].sort();
    await rows.filter({ hasText: 'derive ·' }).first().waitFor(WAIT);
    expect((await typesShown()).filter((t) => t === 'expire' || t === 'prune')).toEqual([]); // before, a page of `expire`, one a minute
    await page.getByLabel('Show the server’s housekeeping').check();
    await rows.filter({ hasText: 'expire ·' }).first().waitFor(WAIT);
    await page.getByLabel('Type').selectOption('expire');
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-job] td:first-child .mono')].every((e) => e.textContent!.startsWith('expire ·')), undefined, WAIT);
    expect(await typesShown()).toEqual(['expire']);
    expect(await page.locator('[data-count="pending"]').count()).toBe(1);
    // Hiding housekeeping again drops the housekeeping type it was filtered by (it stayed on "Expire files (0)").
    await page.getByLabel('Show the server’s housekeeping').uncheck();
    await rows.filter({ hasText: 'derive ·' }).first().waitFor(WAIT);
    expect(await page.getByLabel('Type').inputValue()).toBe('');
    await context.close();
  });

  test('a non-admin sees a refusal on the admin page, no Admin link, and the API refuses the calls (#21.6)', async () => {
    const dave = await signUp('dave');
    const context = await contextWith(dave.headers);
    const page = await context.newPage();
    await page.goto(`${base}/admin?tab=users`);
    await page.getByRole('heading', { name: 'Administrators only' }).waitFor(WAIT);
    expect(await page.locator('table').count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await axeProblems(page)).toEqual([]);
    for (const [method, path, body] of [
      ['GET', '/api/admin/users', undefined],
      ['GET', '/api/admin/stats', undefined],
      ['GET', '/api/admin/files', undefined],
      ['POST', `/api/admin/users/${dave.id}/ban`, { banned: false }],
      ['POST', `/api/admin/users/${dave.id}/invites`, { count: 1 }],
    ] as const) {
      const res = await api(method, path, body, { cookie: dave.cookie, csrf: dave.csrf });
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 403, error: 'FORBIDDEN' });
    }
    await context.close();
  });
});
