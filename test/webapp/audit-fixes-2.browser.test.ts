/**
 * Findings of a second browser walk-through, each driven the way it was found: a folder dragged
 * from the desktop lost its contents; a refused signed URL said so in another section, off-screen;
 * "Create link" could make two links and said nothing while working; a failed library load read
 * "0 files" with no way to try again; automatic upload retries left the row looking stuck; a
 * server error lost its reference; signing out stopped uploads without asking; the Jobs page
 * linked deleted files to a "not found" page; a missing folder's link led to another missing one;
 * the selection bar hid the tile the keyboard had just reached. And a phone's HEIC photo, which
 * Chromium cannot show: its page previewed the original, a broken image.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createClient } from '../helpers/client';
import { type RunningServer } from '../helpers/server';
import { emailMaker, signUpIn, startAdminFixture, type Account } from './admin-fixture';
import { hevcHeic } from '../helpers/heic';
import { png, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let adminKey: string;
let adminId: string;
let scratch = '';
const email = emailMaker();

beforeAll(async () => {
  ({ server, browser, base, api, adminKey } = await startAdminFixture());
  adminId = (await api('GET', '/api/profile', undefined, { key: adminKey })).body.user.id;
  scratch = await mkdtemp(join(tmpdir(), 'pictor-drop-'));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const signUp = (tag: string): Promise<Account> => signUpIn({ server, browser, base, api, adminKey }, adminId, email(tag));

/** The account's files, by folder and name. */
async function filesOf(me: Account): Promise<string[]> {
  const r = await fetch(`${base}/api/files?recursive=true&limit=100`, { headers: me.auth });
  return ((await r.json()) as { results: { folder: string; name: string }[] }).results.map((f) => `${f.folder === '/' ? '' : f.folder}/${f.name}`).sort();
}

/**
 * Drags paths of this machine's disk onto the library as the browser gets them from the desktop
 * (CDP `Input.dispatchDragEvent` with file paths: a folder arrives as a directory entry).
 */
async function dragFromDesktop(page: Page, paths: string[]): Promise<void> {
  const box = await page.locator('.library').boundingBox();
  if (!box) throw new Error('no library on this page');
  const cdp = await page.context().newCDPSession(page);
  const at = { x: box.x + box.width / 2, y: box.y + Math.min(200, box.height / 2) };
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
}

describe('uploads', () => {
  test('a folder dragged from the desktop uploads what is inside it, keeping its structure', async () => {
    const me = await signUp('drop');
    const dir = join(scratch, 'Holiday');
    await mkdir(join(dir, 'day 1'), { recursive: true });
    await writeFile(join(dir, 'beach.png'), (await png('beach.png', 40, 30)).bytes);
    await writeFile(join(dir, 'day 1', 'sunset.png'), (await png('sunset.png', 30, 40)).bytes);
    await writeFile(join(dir, '.DS_Store'), 'junk');
    const loose = join(scratch, 'loose.png');
    await writeFile(loose, (await png('loose.png', 20, 20)).bytes);
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByText('This folder is empty').waitFor(WAIT);
    await dragFromDesktop(page, [dir, loose]);
    const deadline = Date.now() + WAIT.timeout;
    while ((await filesOf(me)).length < 3 && Date.now() < deadline) await page.waitForTimeout(100);
    expect(await filesOf(me)).toEqual(['/Holiday/beach.png', '/Holiday/day 1/sunset.png', '/loose.png'].sort());
    await shot(page, 'audit2-folder-drop');
    await context.close();
  });
});

/** A 500 as the server writes one, with the reference an administrator finds it by. */
const serverError = { status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'INTERNAL_ERROR', message: 'Something went wrong on our side.', details: { request_id: 'req-7f3a9' } }) };

describe('feedback', () => {
  test('automatic upload retries say so on the row; signing out with an upload running asks first', async () => {
    const me = await signUp('retry');
    const context = await me.context();
    const page = await context.newPage();
    // Every tus request of the upload fails as a busy server's would (its numbers stood still for ~40 s).
    await page.route('**/api/uploads/tus**', (route) => (route.request().method() === 'OPTIONS' ? route.continue() : route.fulfill({ status: 503, body: '' })));
    await page.goto(`${base}/`);
    await page.getByText('This folder is empty').waitFor(WAIT);
    const { bytes } = await png('busy.png', 30, 30);
    await page.locator('input[aria-label="Choose files"]').setInputFiles({ name: 'busy.png', mimeType: 'image/png', buffer: bytes });
    const row = page.locator('.job', { hasText: 'busy.png' });
    await row.getByText(/The server is busy; retrying \(\d of 6\)…/).waitFor(WAIT);
    await shot(page, 'audit2-upload-retrying');
    await page.getByRole('button', { name: 'Sign out' }).click();
    const asked = page.getByRole('dialog', { name: 'Sign out?' });
    await asked.getByText('1 upload is still in progress and will stop.').waitFor(WAIT);
    await asked.getByRole('button', { name: 'Cancel' }).click();
    await asked.waitFor({ ...WAIT, state: 'detached' });
    expect(new URL(page.url()).pathname).toBe('/');
    await context.close();
  });

  test('a refused signed URL says why beside its button, with the server\'s reference', async () => {
    const me = await signUp('sign');
    const file = await me.upload('a.png', 'image/png', (await png('a.png', 40, 40)).bytes);
    const context = await me.context();
    const page = await context.newPage();
    await page.route('**/api/files/*/signed-url', (route) => route.fulfill(serverError));
    await page.goto(`${base}/files/${file.id}`);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Signed URL' }) });
    await section.getByRole('button', { name: 'Create signed URL' }).click();
    // In its own section (it went to the Edit form's line, below the screen), with the reference.
    await section.getByRole('alert').filter({ hasText: 'req-7f3a9' }).waitFor(WAIT);
    await shot(page, 'audit2-signed-error');
    await context.close();
  });

  test('"Create link" says it is working and makes one link for a double click', async () => {
    const me = await signUp('share');
    const file = await me.upload('b.png', 'image/png', (await png('b.png', 40, 40)).bytes);
    const context = await me.context();
    const page = await context.newPage();
    // A slow network: the creation is held until the button has been clicked twice.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/files/*/shares', async (route) => {
      if (route.request().method() === 'POST') await held;
      await route.continue();
    });
    await page.goto(`${base}/files/${file.id}`);
    const button = page.getByRole('button', { name: 'Create link' });
    await button.click();
    await page.getByRole('button', { name: 'Creating…' }).click({ force: true }); // aria-disabled: Playwright would wait
    release();
    await page.getByText('Share link created.').waitFor(WAIT);
    const links = await fetch(`${base}/api/files/${file.id}/shares`, { headers: me.auth });
    expect(((await links.json()) as { results: unknown[] }).results).toHaveLength(1);
    await context.close();
  });

  test('a library that failed to load says so, without "0 files", and Retry loads it', async () => {
    const me = await signUp('lib500');
    await me.upload('c.png', 'image/png', (await png('c.png', 40, 40)).bytes);
    const context = await me.context();
    const page = await context.newPage();
    await page.route('**/api/files?**', (route) => route.fulfill(serverError));
    await page.goto(`${base}/`);
    await page.getByText('Files not loaded').waitFor(WAIT);
    expect(await page.getByText('0 files').count()).toBe(0);
    await shot(page, 'audit2-library-error');
    await page.unroute('**/api/files?**');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.cell', { hasText: 'c.png' }).waitFor(WAIT);
    await page.getByText('1 file', { exact: true }).waitFor(WAIT);
    await context.close();
  });
});

describe('places', () => {
  test('a missing folder links to the nearest one that exists', async () => {
    const me = await signUp('missing');
    await me.upload('d.png', 'image/png', (await png('d.png', 20, 20)).bytes, { folder: '/trips' });
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/?${new URLSearchParams({ folder: '/trips/2019/june' })}`);
    // "/trips/2019" does not exist either: the link went there, to the same message.
    await page.getByRole('link', { name: 'Go to /trips' }).click();
    await page.locator('.cell', { hasText: 'd.png' }).waitFor(WAIT);
    await context.close();
  });

  test('the Jobs page says "deleted file" for a file that is gone, with no link to a missing page', async () => {
    const me = await signUp('jobs');
    const file = await me.upload('e.png', 'image/png', (await png('e.png', 20, 20)).bytes);
    expect((await fetch(`${base}/api/files/${file.id}`, { method: 'DELETE', headers: me.auth })).status).toBe(204);
    // Purged (the row gone): the listed jobs about it carry no name any more.
    const deadline = Date.now() + WAIT.timeout;
    for (;;) {
      const r = await fetch(`${base}/api/queue/jobs?limit=50`, { headers: me.auth });
      const jobs = ((await r.json()) as { results: { file_id: string | null; file_name: string | null; status: string }[] }).results;
      if (jobs.some((j) => j.file_id === file.id && j.file_name === null) && jobs.every((j) => j.status !== 'pending' && j.status !== 'running')) break;
      if (Date.now() > deadline) throw new Error('the file was not purged');
      await Bun.sleep(100);
    }
    const context = await me.context();
    const page = await context.newPage();
    const missing: string[] = [];
    page.on('response', (r) => r.status() === 404 && missing.push(new URL(r.url()).pathname));
    await page.goto(`${base}/jobs`);
    await page.locator('td.file-cell', { hasText: 'deleted file' }).first().waitFor(WAIT);
    expect(await page.locator(`a[href="/files/${file.id}"]`).count()).toBe(0);
    expect(missing).toEqual([]);
    await context.close();
  });

  test('with files selected, a tile the keyboard reaches is not hidden under the selection bar', async () => {
    const me = await signUp('sticky');
    for (let i = 0; i < 24; i++) await me.upload(`f${String(i).padStart(2, '0')}.png`, 'image/png', (await png(`f${i}.png`, 20, 20)).bytes);
    const context = await me.context({ width: 1280, height: 600 });
    const page = await context.newPage();
    await page.goto(`${base}/?sort=name`);
    await page.locator('.cell').first().waitFor(WAIT);
    // As "Skip to the files" leaves it: the grid at the top of the window, the first checkbox focused.
    await page.evaluate(() => document.querySelector('.files')!.scrollIntoView({ block: 'start' }));
    const pick = page.locator('.cell .pick').first();
    await pick.focus();
    await page.keyboard.press('Space');
    const bar = page.locator('.status-line.selecting');
    await bar.waitFor(WAIT);
    // Waited for: the page scrolls the focused tile out from under the bar once the bar is laid out.
    const clear = async (what: string) => {
      const isClear = async () => {
        const [el, under] = await Promise.all([page.locator(':focus').boundingBox(), bar.boundingBox()]);
        return el !== null && under !== null && el.y >= under.y + under.height - 1;
      };
      const deadline = Date.now() + WAIT.timeout;
      while (!(await isClear()) && Date.now() < deadline) await page.waitForTimeout(100);
      expect({ what, clear: await isClear() }).toEqual({ what, clear: true });
    };
    await clear('the checkbox just ticked');
    // Tab on through the row: each stop stays below the bar.
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      await clear(`tab stop ${i + 1}`);
    }
    await shot(page, 'audit2-sticky-focus');
    await context.close();
  });
});

/** Width and height the browser decoded for the first image matching `selector`, once it has. */
async function shown(page: Page, selector: string): Promise<[number, number]> {
  const img = page.locator(selector).first();
  await img.waitFor(WAIT);
  await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle(), WAIT);
  return img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]);
}

describe('phone photos', () => {
  test('an HEIC photo has a thumbnail in the library and a preview on its page, public or private', async () => {
    const me = await signUp('heic');
    const heic = await hevcHeic({ width: 320, height: 240, rgb: 0x3080c0 });
    const open = await me.upload('IMG_0001.HEIC', 'image/heic', heic);
    const hidden = await me.upload('IMG_0002.HEIC', 'image/heic', heic, { is_public: 'false' });
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect((await shown(page, '.thumb img:not(.placeholder)'))[0]).toBeGreaterThan(0);
    for (const file of [open, hidden]) {
      await page.goto(`${base}/files/${file.id}`);
      // The rendering (at most 2048 wide: the photo's own 320 × 240), not the original the browser cannot decode.
      expect(await shown(page, '.preview img')).toEqual([320, 240]);
      expect(await page.locator('.preview img').getAttribute('src')).toContain('/authenticated/');
    }
    await shot(page, 'heic-details');
    await context.close();
  });
});
