/**
 * Findings of a keyboard and phone walk-through (Chromium, 1280×800 keyboard only, 390×844
 * touch), each driven the way it was found: a ↓ on a user's closed Role select made them an admin
 * at once; Upgrade plan, Ban and Confirm ban dropped the focus to <body>, and Escape did not
 * cancel a ban; "How many" invites turned "-5" into 5 invites; the plan's meaning was only in a
 * hover title; the Move dialog lost the focus on each folder step and raised a phone's keyboard;
 * a cancelled then retried upload dropped the focus and was counted as nothing; and the library's
 * text buttons were 23 px tall to tap.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatBytes } from '../../web/src/api';
import { cookiesOf, createClient } from '../helpers/client';
import { quadrants } from '../helpers/images';
import { type RunningServer } from '../helpers/server';
import { emailMaker, startAdminFixture } from './admin-fixture';
import { axeProblems, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const MiB = 1024 * 1024;

let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let adminKey: string;
let adminId: string;
let dir: string;
const email = emailMaker();

beforeAll(async () => {
  ({ server, browser, base, api, adminKey } = await startAdminFixture());
  adminId = (await api('GET', '/api/profile', undefined, { key: adminKey })).body.user.id;
  dir = await mkdtemp(join(tmpdir(), 'pictor-admin-kbd-'));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function contextWith(headers: Headers, options: Parameters<Browser['newContext']>[0] = { viewport: { width: 1280, height: 800 } }): Promise<BrowserContext> {
  const { map } = cookiesOf(headers);
  const context = await browser.newContext(options);
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  return context;
}

async function signUp(tag: string) {
  const inv = await api('POST', `/api/admin/users/${adminId}/invites`, { count: 1 }, { key: adminKey });
  expect(inv.status).toBe(201);
  const address = email(tag);
  const res = await api('POST', '/api/auth/register', { email: address, password: 'correct horse 1', invite_code: inv.body.results[0].code });
  expect(res.status).toBe(201);
  return { email: address, id: res.body.user.id as string, headers: res.headers, bearer: res.body.session.access_token as string };
}

async function adminContext(): Promise<BrowserContext> {
  const res = await api('POST', '/api/auth/login', { email: server.bootstrap!.email, password: server.bootstrap!.initial_password });
  expect(res.status).toBe(200);
  return contextWith(res.headers);
}

async function upload(bearer: string, name: string, folder = '/'): Promise<void> {
  const res = await fetch(`${server.url}/api/files?folder=${encodeURIComponent(folder)}`, {
    method: 'POST',
    body: await quadrants(64, 48).png().toBuffer(),
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'image/png', 'x-file-name': name },
  });
  expect(res.status).toBe(201);
}

/** The focused element's tag and accessible-ish name (its text, or its label for a field). */
const focused = (page: Page) => page.evaluate(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return 'body';
  const label = e.id ? document.querySelector(`label[for="${e.id}"]`)?.textContent : null;
  return `${e.tagName.toLowerCase()} ${(label ?? e.getAttribute('aria-label') ?? e.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 80)}`;
});
async function focusIs(page: Page, expected: string | RegExp): Promise<void> {
  const deadline = Date.now() + WAIT.timeout; // a bound for a loaded machine, not a speed asserted
  for (;;) {
    const d = await focused(page);
    if (typeof expected === 'string' ? d === expected : expected.test(d)) return;
    if (Date.now() > deadline) throw new Error(`focus is on "${d}", not ${expected}`);
    await Bun.sleep(50);
  }
}
const roleOf = async (id: string) => (await api('GET', `/api/admin/users?limit=100`, undefined, { key: adminKey })).body.results.find((u: { id: string }) => u.id === id) as { role: string; is_banned: boolean; is_promoted: boolean };

async function usersPage(page: Page, who: string) {
  await page.goto(`${base}/admin?tab=users`);
  await page.getByLabel('Search users by email').fill(who);
  const row = page.locator(`tr[data-user="${who}"]`);
  await row.waitFor(WAIT);
  await page.locator('tbody tr').nth(1).waitFor({ state: 'detached', ...WAIT });
  return row;
}

describe('administration by keyboard', () => {
  test('role: ↓ on the closed select only chooses; Escape puts it back; Change role applies it, the focus stays on the select', async () => {
    const eve = await signUp('eve');
    const context = await adminContext();
    const page = await context.newPage();
    const row = await usersPage(page, eve.email);
    const select = row.getByLabel(`Role of ${eve.email}`);
    await select.focus();
    await page.keyboard.press('ArrowDown');
    await row.getByText(`Make ${eve.email} an admin?`).waitFor(WAIT);
    await Bun.sleep(300); // what a save on change would have taken
    expect((await roleOf(eve.id)).role).toBe('user');
    await shot(page, 'admin-role-confirm');
    await page.keyboard.press('Escape');
    await row.getByText(`Make ${eve.email} an admin?`).waitFor({ state: 'detached', ...WAIT });
    expect(await select.inputValue()).toBe('user');
    await focusIs(page, `select Role of ${eve.email}`);
    expect((await roleOf(eve.id)).role).toBe('user');

    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await focusIs(page, `button Change role of ${eve.email}`);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: `${eve.email}: now an admin.` }).waitFor(WAIT);
    expect((await roleOf(eve.id)).role).toBe('admin');
    await focusIs(page, `select Role of ${eve.email}`);
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });

  test('role: what the server refuses is shown as an alert, the focus stays on Change role', async () => {
    // Eve-like admin whose rights are taken away while their page is open: their next change is refused.
    const mallory = await signUp('mallory');
    const target = await signUp('target');
    expect((await api('POST', `/api/admin/users/${mallory.id}/role`, { role: 'admin' }, { key: adminKey })).status).toBe(200);
    const login = await api('POST', '/api/auth/login', { email: mallory.email, password: 'correct horse 1' });
    const context = await contextWith(login.headers);
    const page = await context.newPage();
    const row = await usersPage(page, target.email);
    // Their own row offers no role control: the server refuses an admin's own demotion.
    expect((await api('POST', `/api/admin/users/${adminId}/role`, { role: 'user' }, { key: adminKey })).body.message).toBe('You cannot ban or demote yourself.');
    expect((await api('POST', `/api/admin/users/${mallory.id}/role`, { role: 'user' }, { key: adminKey })).status).toBe(200);
    await row.getByLabel(`Role of ${target.email}`).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').waitFor(WAIT);
    await shot(page, 'admin-role-refused');
    await focusIs(page, `button Change role of ${target.email}`);
    expect((await roleOf(target.id)).role).toBe('user');
    await context.close();
  });

  test('Upgrade plan keeps the focus (now Downgrade); Ban asks with the focus on Cancel; Escape returns to Ban; Confirm ban hands it to Unban', async () => {
    const frank = await signUp('frank');
    const context = await adminContext();
    const page = await context.newPage();
    const row = await usersPage(page, frank.email);
    await row.getByRole('button', { name: `Upgrade plan of ${frank.email}` }).focus();
    await page.keyboard.press('Enter');
    await row.getByText('Promoted', { exact: true }).waitFor(WAIT);
    await focusIs(page, `button Downgrade plan of ${frank.email}`);
    expect((await roleOf(frank.id)).is_promoted).toBe(true);

    await row.getByRole('button', { name: `Ban ${frank.email}` }).focus();
    await page.keyboard.press('Enter');
    await focusIs(page, 'button Cancel');
    await shot(page, 'admin-ban-confirm');
    await page.keyboard.press('Escape');
    await focusIs(page, `button Ban ${frank.email}`);
    expect(await row.getByRole('button', { name: `Confirm ban ${frank.email}` }).count()).toBe(0);
    expect((await roleOf(frank.id)).is_banned).toBe(false);

    await page.keyboard.press('Enter');
    await focusIs(page, 'button Cancel');
    await page.keyboard.press('Shift+Tab');
    await focusIs(page, `button Confirm ban ${frank.email}`);
    await page.keyboard.press('Enter');
    await row.getByText('Banned', { exact: true }).waitFor(WAIT);
    await focusIs(page, `button Unban ${frank.email}`);
    expect((await roleOf(frank.id)).is_banned).toBe(true);
    await page.keyboard.press('Enter');
    await row.getByText('Active', { exact: true }).waitFor(WAIT);
    await focusIs(page, `button Ban ${frank.email}`);
    await context.close();
  });

  test('the plan says what it allows, in words from the API', async () => {
    const gina = await signUp('gina');
    expect((await api('POST', `/api/admin/users/${gina.id}/promote`, { promoted: true }, { key: adminKey })).status).toBe(200);
    const standard = await signUp('hank');
    const plans = (await api('GET', '/api/admin/stats', undefined, { key: adminKey })).body.plans as Record<'standard' | 'promoted', { max_upload_size_bytes: number; storage_quota_bytes: number | null; max_files: number | null }>;
    expect(plans.promoted).toMatchObject({ storage_quota_bytes: null, max_files: null });
    const context = await adminContext();
    const page = await context.newPage();
    const row = await usersPage(page, standard.email);
    const standardText = `${formatBytes(plans.standard.max_upload_size_bytes)} per file · ${formatBytes(plans.standard.storage_quota_bytes!)} storage`;
    await row.locator('td[data-label="Plan"]').getByText(standardText, { exact: false }).waitFor(WAIT);
    const promotedRow = await usersPage(page, gina.email);
    expect(await promotedRow.locator('td[data-label="Plan"]').textContent()).toContain(`${formatBytes(plans.promoted.max_upload_size_bytes)} per file · unlimited storage · unlimited files`);
    expect(await page.locator('.plan-legend').textContent()).toContain(standardText);
    await shot(page, 'admin-plan-text');
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });

  test('How many invites: "-5", "abc", "51" and "2.5" stay as typed and are refused on the page, nothing created; 3 makes 3', async () => {
    const context = await adminContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin?tab=users`);
    const field = page.getByLabel('How many');
    await field.waitFor(WAIT);
    const before = (await api('GET', '/api/invites', undefined, { key: adminKey })).body.count as number;
    for (const typed of ['-5', 'abc', '51', '2.5', '0']) {
      await field.focus();
      await page.keyboard.press('Control+A');
      await page.keyboard.type(typed);
      expect(await field.inputValue()).toBe(typed);
      await page.getByRole('button', { name: 'Create invites' }).focus();
      await page.keyboard.press('Enter');
      const alert = page.getByRole('alert').filter({ hasText: 'whole number from 1 to 50' });
      await alert.waitFor(WAIT);
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect((await field.getAttribute('aria-describedby'))!.split(' ')).toContain((await alert.getAttribute('id'))!);
      await focusIs(page, 'input How many (1 to 50)');
      expect(await field.inputValue()).toBe(typed);
      if (typed === '-5') await shot(page, 'admin-invites-refused');
    }
    await Bun.sleep(300);
    expect((await api('GET', '/api/invites', undefined, { key: adminKey })).body.count).toBe(before);
    expect(await axeProblems(page)).toEqual([]);
    await field.fill('3');
    await page.getByRole('button', { name: 'Create invites' }).click();
    await page.getByLabel('Invite code 3').waitFor(WAIT);
    expect(await field.getAttribute('aria-invalid')).toBeNull();
    expect((await api('GET', '/api/invites', undefined, { key: adminKey })).body.count).toBe(before + 3);
    await context.close();
  });
});

describe('library by keyboard and touch', () => {
  test('Move dialog: Enter on a folder keeps the focus in the dialog, on the new listing', async () => {
    const ivy = await signUp('ivy');
    await upload(ivy.bearer, 'beach.png');
    await upload(ivy.bearer, 'dune.png', '/Holidays/2026');
    await upload(ivy.bearer, 'memo.png', '/Work');
    const context = await contextWith(ivy.headers);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    const tile = page.locator('.cell', { has: page.locator('.name', { hasText: 'beach.png' }) });
    await tile.waitFor(WAIT);
    await tile.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Move…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move 1 file' });
    await dialog.getByRole('button', { name: 'Holidays' }).waitFor(WAIT);
    await focusIs(page, 'input To folder');
    await dialog.getByRole('button', { name: 'Holidays' }).focus();
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: '2026' }).waitFor(WAIT); // the new listing is in
    await focusIs(page, 'button 2026');
    expect(await dialog.getByRole('textbox', { name: 'To folder' }).inputValue()).toBe('/Holidays');
    await shot(page, 'move-dialog-step');
    await page.keyboard.press('Enter');
    await dialog.getByText('No folders in here.').waitFor(WAIT);
    await focusIs(page, 'button Up to /Holidays');
    // Up keeps the focus on the same button (now "Up to the top level"), to go on up.
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: '2026' }).waitFor(WAIT);
    await focusIs(page, 'button Up to the top level');
    await page.keyboard.press('Enter');
    await focusIs(page, 'button Holidays');
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });

  test('Move dialog on a phone: the path field is not focused when it opens (no on-screen keyboard over the list)', async () => {
    const jay = await signUp('jay');
    await upload(jay.bearer, 'kite.png');
    await upload(jay.bearer, 'pier.png', '/Holidays');
    const context = await contextWith(jay.headers, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    expect(await page.evaluate(() => matchMedia('(pointer: coarse)').matches)).toBe(true);
    await page.goto(`${base}/`);
    const tile = page.locator('.cell', { has: page.locator('.name', { hasText: 'kite.png' }) });
    await tile.waitFor(WAIT);
    await tile.getByRole('checkbox').tap();
    await page.getByRole('button', { name: 'Move…' }).tap();
    const dialog = page.getByRole('dialog', { name: 'Move 1 file' });
    await dialog.getByRole('button', { name: 'Holidays' }).waitFor(WAIT);
    await focusIs(page, 'h2 Move 1 file');
    await shot(page, 'move-dialog-phone');
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });

  test('bulk bar and "Show them too" on a phone: every text button is at least 24 px tall', async () => {
    const kim = await signUp('kim');
    await upload(kim.bearer, 'one.png');
    await upload(kim.bearer, 'two.png');
    await upload(kim.bearer, 'deep.png', '/Inner');
    const context = await contextWith(kim.headers, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    const show = page.getByRole('button', { name: /^Show (it|them) too$/ });
    await show.waitFor(WAIT);
    const tile = page.locator('.cell', { has: page.locator('.name', { hasText: 'one.png' }) });
    await tile.getByRole('checkbox').tap();
    const bar = page.getByRole('group', { name: 'Selected files' });
    await bar.waitFor(WAIT);
    const sizes: Record<string, number> = {};
    for (const b of [show, bar.getByRole('button', { name: /^Select all/ }), bar.getByRole('button', { name: 'Clear' })]) {
      const box = (await b.boundingBox())!;
      sizes[(await b.textContent())!.trim()] = Math.min(box.height, box.width);
    }
    await shot(page, 'bulk-bar-phone');
    for (const [name, size] of Object.entries(sizes)) expect({ name, ok: size >= 24 }).toEqual({ name, ok: true });
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });

  test('upload: Cancel then Retry by keyboard keeps the focus off <body>; a cancelled file is counted as cancelled, its bar empty', async () => {
    const lee = await signUp('lee');
    const context = await contextWith(lee.headers);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByText('This folder is empty.').waitFor(WAIT);
    const path = join(dir, 'big.txt');
    await writeFile(path, Buffer.alloc(12 * MiB, 'abcdefghij'));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1 * MiB });
    await page.locator('input[aria-label="Choose files"]').setInputFiles(path);
    const job = page.locator('.job', { hasText: 'big.txt' });
    await job.locator('.job-info', { hasText: /of 12 MiB/ }).waitFor(WAIT);
    await page.waitForFunction(() => Number(document.querySelector('.job progress')?.getAttribute('value')) > 0, undefined, WAIT);
    await job.getByRole('button', { name: /^Cancel/ }).focus();
    await page.keyboard.press('Enter');
    await page.locator('.job.cancelled').waitFor(WAIT);
    await focusIs(page, /^button Retry/);
    const summary = page.locator('.jobs-done [role="status"]');
    expect((await summary.textContent())!.trim()).toBe('0 uploaded, 1 cancelled.');
    expect(await job.locator('progress').getAttribute('value')).toBe('0');
    await shot(page, 'upload-cancelled');
    expect(await axeProblems(page)).toEqual([]);

    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.keyboard.press('Enter');
    await summary.filter({ hasText: 'All uploads finished.' }).waitFor(WAIT);
    await focusIs(page, /^p All uploads finished\./);
    await shot(page, 'upload-retried-done');
    await context.close();
  });
});
