/**
 * The web app in a real browser (issue #20 acceptance 1–5): a new user registers, confirms the
 * mailed link and signs in; uploads three images and a PDF by drag and drop with progress shown;
 * sees them; opens one; builds `w_400,h_300,c_fill,f_webp` whose preview is 400 px wide; copies
 * its URL; makes a signed URL that loads in a fresh context; moves a file into a folder;
 * bulk-deletes two; signs out. Then the reset flow from the mail, refused uploads shown in
 * words with nothing stored, the CSRF header on every mutating call, and axe on every page.
 * Screenshots go to test-artifacts/webapp/.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';
import { axeProblems, dropFiles, jpeg, launch, linkFrom, pdf, png, quads, shot, until } from './browser';

// Argon2id hashing and Chromium on a shared 2-core machine: steps take seconds, not milliseconds.
setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

let smtp: SmtpSink;
let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let seq = 0;
const email = (tag: string) => `${tag}-${Date.now().toString(36)}-${seq++}@example.com`;

beforeAll(async () => {
  smtp = await startSmtpSink();
  server = await startServer({
    env: {
      SMTP_URL: smtp.url,
      REQUIRE_EMAIL_VERIFICATION: 'true',
      RATE_LIMIT_REGISTER: '100/1h',
      RATE_LIMIT_LOGIN: '100/15m',
      RATE_LIMIT_PASSWORD_RESET: '100/1h',
      RATE_LIMIT_SENSITIVE: '100/15m',
      RATE_LIMIT_UPLOAD_COUNT: '12/10m',
    },
  });
  // The mailed links and every `url` the API returns name localhost (PUBLIC_URL follows the port):
  // the browser uses the same origin, as a person following them would.
  base = `http://localhost:${server.port}`;
  api = createClient(server.url);
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.close();
});

/** Registers through the pages, confirms the mailed link on its page, and signs in. */
async function registerAndSignIn(page: Page, address: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password (at least 8 characters)').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Check your email').waitFor(WAIT);

  const link = linkFrom((await smtp.waitFor(address, /verify-email/, 30_000)).raw, '/verify-email');
  expect(new URL(link).origin).toBe(base);
  await page.goto(link);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByText(`${address} is confirmed`).waitFor(WAIT);

  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Top level' }).waitFor(WAIT);
}

const tile = (page: Page, name: string) => page.locator('.cell', { has: page.locator('.name', { hasText: name }) });

describe('the web app in Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  const mutating: { method: string; url: string; csrf: string | undefined }[] = [];
  const address = email('web');
  const password = 'correct horse 1';

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    page.on('request', (r) => {
      if (r.url().startsWith(`${base}/api/`) && r.method() !== 'GET') mutating.push({ method: r.method(), url: r.url(), csrf: r.headers()['x-csrf-token'] });
    });
  });
  afterAll(async () => {
    await context?.close();
  });

  test('register, confirm, sign in; sign-in page passes axe', async () => {
    // Signed out, the app asks nothing it knows will be refused: no 401 in the console on every visit.
    const refused: string[] = [];
    const onResponse = (r: import('playwright-core').Response) => void (r.status() === 401 && refused.push(r.url()));
    page.on('response', onResponse);
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
    expect(page.url()).toBe(`${base}/login?next=%2F`);
    page.off('response', onResponse);
    expect(refused).toEqual([]);
    await shot(page, 'sign-in');
    expect(await axeProblems(page)).toEqual([]);
    await registerAndSignIn(page, address, password);
    await page.getByText('This folder is empty.').waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
  });

  test('signed in, a next= that would leave the site lands on the library (history.replaceState threw on it)', async () => {
    const errors: string[] = [];
    const onError = (e: Error) => void errors.push(e.message);
    page.on('pageerror', onError);
    try {
      for (const next of ['//evil.example/x', '/\\evil.example', '/\t/evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
        await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
        await page.waitForURL(`${base}/`, WAIT);
        await page.getByText('This folder is empty.').waitFor(WAIT);
      }
      await page.goto(`${base}/login?next=${encodeURIComponent('/account')}`);
      await page.waitForURL(`${base}/account`, WAIT);
      expect(errors).toEqual([]);
      await page.goto(`${base}/`); // where the next test starts
      await page.getByText('This folder is empty.').waitFor(WAIT);
    } finally {
      page.off('pageerror', onError);
    }
  });

  test('drag and drop three images and a PDF: progress, then the grid', async () => {
    // Slow the upload down so the progress (bytes and speed) is there to see.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 400 * 1024 });
    const files = [await quads('sunset.png', 900, 700), await jpeg('harbour.jpg', 640, 480), await png('garden.png', 900, 700, true), pdf('invoice.pdf')];
    await dropFiles(page, files);
    const progress = page.locator('.job', { hasText: 'garden.png' });
    await progress.locator('.job-info', { hasText: /KiB of .* · .*\/s/ }).waitFor(WAIT);
    expect(await progress.locator('progress').count()).toBe(1);
    await shot(page, 'upload-in-progress');
    expect(await axeProblems(page)).toEqual([]);
    // Leaving the page while uploads run asks first (a reload lost a half-sent file without a word).
    const leaveAsks = () => page.evaluate(() => {
      const e = new Event('beforeunload', { cancelable: true });
      dispatchEvent(e);
      return e.defaultPrevented;
    });
    expect(await leaveAsks()).toBe(true);
    await page.getByText('All uploads finished.').waitFor({ timeout: 120_000 });
    expect(await leaveAsks()).toBe(false);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    for (const f of files) {
      await expect(page.locator('.job', { hasText: f.name }).getAttribute('data-status')).resolves.toBe('done');
      await tile(page, f.name).waitFor(WAIT);
    }
    await expect(page.getByRole('status').filter({ hasText: /^4 files$/ }).count()).resolves.toBe(1);
    // Thumbnails come from /t with f_auto and a 2x srcset, and they load.
    const img = tile(page, 'harbour.jpg').locator('img');
    expect(await img.getAttribute('src')).toMatch(/^\/t\/w_200,h_200,c_fill,g_auto,f_auto\/[A-Za-z0-9_-]+$/);
    expect(await img.getAttribute('srcset')).toContain('dpr_2');
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.thumb img')].filter((i) => i.complete && i.naturalWidth > 0).length >= 3, null, WAIT);
    await expect(tile(page, 'invoice.pdf').locator('.kind').textContent()).resolves.toBe('PDF');
    // All uploaded: the list folds into its summary line (it pushed the new files below the fold).
    expect(await page.locator('ul.jobs').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Show the 4 uploaded' }).click();
    await page.locator('ul.jobs').waitFor(WAIT);
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await page.locator('.job').first().waitFor({ state: 'detached', ...WAIT });
    await shot(page, 'library');
    expect(await axeProblems(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'library-dark');
    expect(await axeProblems(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 360, height: 780 });
    await shot(page, 'library-360');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('details: the builder previews w_400,h_300,c_fill,f_webp at 400 px, its URL is copied, a signed URL loads elsewhere', async () => {
    // A resize that changes the column count moves tiles without re-creating them: a focused tile
    // keeps focus (a keyboard user resizing the window, or this test right after the last one's resize).
    const rowsAre = (one: boolean) => page.waitForFunction((want) => {
      const tops = [...document.querySelectorAll('.files .cell')].map((c) => c.getBoundingClientRect().top);
      return tops.length === 4 && tops.every((t) => t === tops[0]) === want;
    }, one, WAIT);
    await rowsAre(true);
    const last = page.locator('.files a.open').last();
    const lastName = await last.getAttribute('title');
    await last.focus();
    await page.setViewportSize({ width: 360, height: 780 });
    await rowsAre(false);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('title'))).toBe(lastName);
    await page.setViewportSize({ width: 1280, height: 800 });
    await rowsAre(true);
    // Keyboard: a tile is a link; focus it and press Enter. The new page's heading takes the focus the tile took
    // with it (it fell to <body>, the top of the document), and the tab is titled with the file.
    expect(await page.title()).toBe('Library · Pictor');
    await tile(page, 'sunset.png').locator('a.open').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'sunset.png' }).waitFor(WAIT);
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'sunset.png', undefined, WAIT);
    expect(await page.title()).toBe('sunset.png · Pictor');
    await page.getByText('900 × 700 px', { exact: true }).waitFor(WAIT);
    await page.getByText('image/png').waitFor(WAIT);
    await page.getByLabel('Width', { exact: true }).fill('400');
    await page.getByLabel('Height', { exact: true }).fill('300');
    await page.getByLabel('Crop mode', { exact: true }).selectOption('fill');
    await page.getByLabel('Format', { exact: true }).selectOption('webp');
    const url = await page.getByLabel('Transformation URL').inputValue();
    expect(url).toMatch(new RegExp(`^${base}/t/w_400,h_300,c_fill,f_webp/[A-Za-z0-9_-]+$`));
    // The caption settles on the preview's size or the server's reason; either way it is named.
    await page.waitForFunction(() => !document.querySelector('.tx-preview figcaption')?.textContent?.startsWith('Loading'), null, WAIT);
    expect(await page.locator('.tx-preview figcaption').textContent()).toBe('Preview: 400 × 300 px');
    // A control event that leaves the URL as it was keeps the loaded preview's caption.
    await page.getByLabel('Gravity', { exact: true }).selectOption('center');
    expect(await page.locator('.tx-preview figcaption').textContent()).toBe('Preview: 400 × 300 px');
    const natural = await page.locator('.tx-preview img').evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]);
    expect(natural).toEqual([400, 300]);
    // Gravity places only what fill, lfill, pad and thumb crop or pad (the server refuses it with
    // the other modes): with limit the control is off and the URL carries no g_.
    await page.getByLabel('Gravity', { exact: true }).selectOption('north');
    expect(await page.getByLabel('Transformation URL').inputValue()).toContain('/t/w_400,h_300,c_fill,g_north,f_webp/');
    await page.getByLabel('Crop mode', { exact: true }).selectOption('limit');
    await expect(page.getByLabel('Gravity', { exact: true }).isDisabled()).resolves.toBe(true);
    expect(await page.getByLabel('Transformation URL').inputValue()).toContain('/t/w_400,h_300,c_limit,f_webp/');
    await page.getByLabel('Crop mode', { exact: true }).selectOption('fill');
    await page.getByLabel('Gravity', { exact: true }).selectOption('center');
    await page.waitForFunction(() => document.querySelector('.tx-preview figcaption')?.textContent === 'Preview: 400 × 300 px', null, WAIT);
    // A preview the controls replaced that fails late (its request held here, then refused; its
    // error check refused too) leaves the current preview's caption alone — under load an earlier
    // preview's late event erased it and the caption said "Loading preview…" for good.
    const held: { release?: () => void; calls: number } = { calls: 0 };
    await page.route((u) => u.pathname.includes('/t/w_401,'), async (route) => {
      held.calls++;
      if (held.calls === 1) await new Promise<void>((resolve) => (held.release = resolve));
      await route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'SERVICE_UNAVAILABLE', message: 'held by the test' }) });
    });
    await page.getByLabel('Width', { exact: true }).fill('401');
    await until(() => held.release !== undefined);
    await page.getByLabel('Width', { exact: true }).fill('400');
    await page.waitForFunction(() => document.querySelector('.tx-preview figcaption')?.textContent === 'Preview: 400 × 300 px', null, WAIT);
    held.release!();
    await until(() => held.calls === 2); // the replaced preview's error check was answered
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    expect(await page.locator('.tx-preview figcaption').textContent()).toBe('Preview: 400 × 300 px');
    await page.unroute((u) => u.pathname.includes('/t/w_401,'));
    // Each Copy button is named after its field (five buttons all read "Copy" to a screen reader before).
    const copyNames = await page.getByRole('button', { name: /^Copy / }).evaluateAll((els) => els.map((e) => e.textContent));
    expect(copyNames).toEqual(['Copy Original URL', 'Copy Download URL', 'Copy Share page (previews in chat apps)', 'Copy Transformation URL']);
    await page.getByRole('button', { name: 'Copy Transformation URL', exact: true }).click();
    await page.locator('#tx-url-state', { hasText: 'Copied' }).waitFor(WAIT);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'details');
    await page.locator('.builder').scrollIntoViewIfNeeded();
    await shot(page, 'details-builder');
    expect(await axeProblems(page)).toEqual([]);

    await page.getByLabel('Valid for', { exact: true }).selectOption('3600');
    await page.getByRole('button', { name: 'Create signed URL' }).click();
    await page.locator('#signed-url').waitFor(WAIT);
    const signed = await page.locator('#signed-url').inputValue();
    expect(signed).toContain('/authenticated/s--');
    expect(signed).toContain('w_400');
    const fresh = await browser.newContext();
    const other = await fresh.newPage();
    const res = await other.goto(signed);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toBe('image/webp');
    const size = await other.evaluate(() => { const i = document.querySelector('img'); return i ? [i.naturalWidth, i.naturalHeight] : null; });
    expect(size).toEqual([400, 300]);
    await fresh.close();
    await page.setViewportSize({ width: 360, height: 780 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'details-360');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('move a file into a folder, bulk-delete two, sign out', async () => {
    await page.goto(`${base}/`);
    await tile(page, 'garden.png').waitFor(WAIT);
    await tile(page, 'garden.png').getByRole('checkbox').check();
    await page.getByText('1 selected').waitFor(WAIT);
    // Move… opens a dialog in the page (it was the browser's prompt(), with no way to see the folders).
    const move = page.getByRole('button', { name: 'Move…' });
    await move.click();
    const dialog = page.getByRole('dialog', { name: 'Move 1 file' });
    await dialog.waitFor(WAIT);
    const to = dialog.getByRole('textbox', { name: 'To folder' });
    expect(await to.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await to.inputValue()).toBe('/');
    await dialog.getByText('No folders in here.').waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
    // Escape closes it, nothing moved, focus back on Move….
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    expect(await move.evaluate((el) => el === document.activeElement)).toBe(true);
    await move.click();
    // Already there: said in the dialog, which stays open.
    await dialog.getByRole('button', { name: 'Move' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'That file is already in the top level.' }).waitFor(WAIT);
    // A path the server refuses: its words in the dialog, nothing moved.
    await to.fill('/a/../b');
    await dialog.getByRole('button', { name: 'Move' }).click();
    await dialog.getByRole('alert').filter({ hasText: /Invalid path: must not contain `\.\.`/ }).waitFor(WAIT);
    await to.fill('albums//2026/');
    await dialog.getByText('/albums/2026 does not exist yet: moving creates it.').waitFor(WAIT);
    await dialog.getByRole('button', { name: 'Move' }).click();
    // The folder as the server wrote it (the message repeated what was typed).
    await page.getByText('Moved to /albums/2026: 1 of 1 file.').waitFor(WAIT);
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await tile(page, 'garden.png').waitFor({ state: 'detached', ...WAIT });
    // The top level says what it leaves out (its heading read "All folders" over the top level's files only).
    await page.getByRole('status').filter({ hasText: /^\d+ files here, 1 more in subfolders$/ }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Show it too' }).click();
    await page.getByRole('heading', { name: 'All files' }).waitFor(WAIT);
    await tile(page, 'garden.png').waitFor(WAIT);
    expect(await page.getByRole('button', { name: /^Show (it|them) too$/ }).count()).toBe(0);
    await page.getByRole('button', { name: /^albums/ }).click();
    await page.getByRole('button', { name: /^2026/ }).click();
    await page.getByRole('heading', { name: '/albums/2026' }).waitFor(WAIT);
    await tile(page, 'garden.png').waitFor(WAIT);

    await page.getByRole('button', { name: 'Top level (/)' }).click();
    // The dialog's folder list walks down by clicking, and fills in the path.
    await tile(page, 'sunset.png').getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Move…' }).click();
    await dialog.waitFor(WAIT);
    await dialog.getByRole('button', { name: 'albums' }).click();
    await dialog.getByText('Folders in /albums').waitFor(WAIT);
    expect(await to.inputValue()).toBe('/albums');
    await dialog.getByRole('button', { name: '2026' }).click();
    expect(await to.inputValue()).toBe('/albums/2026');
    await dialog.getByText('No folders in here.').waitFor(WAIT);
    await dialog.getByRole('button', { name: 'Up to /albums' }).click();
    expect(await to.inputValue()).toBe('/albums');
    // A name that differs only in case is pointed out (it made "Albums" beside "albums" without a word).
    await to.fill('/Albums');
    await dialog.getByText('There is /albums, but no /Albums (names are case-sensitive): moving creates /Albums.').waitFor(WAIT);
    await to.fill('/albums');
    await dialog.getByText('Type a path such as /holidays/2026, or pick a folder below.').waitFor(WAIT);
    await shot(page, 'move-dialog'); // the README's picture of the dialog
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await tile(page, 'sunset.png').getByRole('checkbox').uncheck();
    await tile(page, 'harbour.jpg').getByRole('checkbox').check();
    await tile(page, 'invoice.pdf').getByRole('checkbox').check();
    await page.getByText('2 selected').waitFor(WAIT);
    // Asked in the page (it was the browser's confirm()), with the focus on Cancel.
    await page.locator('.bulk').getByRole('button', { name: 'Delete…' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete 2 files?' });
    await ask.getByText('Their links and share links stop working. This cannot be undone.').waitFor(WAIT);
    expect(await ask.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement)).toBe(true);
    await ask.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted: 2 of 2 files.').waitFor(WAIT);
    await tile(page, 'harbour.jpg').waitFor({ state: 'detached', ...WAIT });
    await tile(page, 'invoice.pdf').waitFor({ state: 'detached', ...WAIT });
    await tile(page, 'sunset.png').waitFor(WAIT);

    // Every mutating call the app made carried the CSRF header, equal to the readable cookie.
    const csrf = (await context.cookies(base)).find((c) => c.name === 'pictor_csrf')?.value;
    expect(csrf).toBeTruthy();
    const sessionCalls = mutating.filter((m) => !/\/api\/auth\/(register|login|verify-email)$/.test(new URL(m.url).pathname));
    expect(sessionCalls.length).toBeGreaterThanOrEqual(7); // 4 uploads, signed URL, move, bulk delete
    for (const m of sessionCalls) expect({ ...m, csrf: m.csrf === csrf }).toEqual({ ...m, csrf: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
    await page.goto(`${base}/library`);
    await page.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
  });
});
