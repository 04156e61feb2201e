/**
 * Web app flows in Chromium (issue #20 acceptance 2–4): the password reset from the mailed link
 * to a successful sign-in; uploads the server refuses (over the account's limit, a refused type,
 * rate-limited) each shown as a sentence with nothing stored; a cross-site form post refused —
 * the session cookie without `X-CSRF-Token` is 403 `CSRF_INVALID`; and a library larger than a
 * page: only the rows on screen are in the DOM, scrolling fetches the next cursor pages, search
 * narrows by name.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';
import { axeProblems, dropFiles, launch, linkFrom, png, shot } from './browser';

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
      RATE_LIMIT_REGISTER: '100/1h',
      RATE_LIMIT_LOGIN: '100/15m',
      RATE_LIMIT_PASSWORD_RESET: '100/1h',
      RATE_LIMIT_SENSITIVE: '100/15m',
      RATE_LIMIT_UPLOAD_COUNT: '6/10m',
    },
  });
  base = `http://localhost:${server.port}`;
  api = createClient(server.url);
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.close();
});

/** A new account, signed in inside a fresh browser context through its API cookies. */
async function signedInContext(): Promise<{ context: BrowserContext; cookie: string; csrf: string }> {
  const res = await api('POST', '/api/auth/register', { email: email('flow'), password: 'correct horse 1' });
  expect(res.status).toBe(201);
  const { header, map } = cookiesOf(res.headers);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  return { context, cookie: header, csrf: map.pictor_csrf! };
}

describe('web app flows', () => {
  test('forgot password → mailed link → new password → sign in', async () => {
    const address = email('reset');
    expect((await api('POST', '/api/auth/register', { email: address, password: 'old password 1' })).status).toBe(201);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(address);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByText('a link to choose a new password is on its way').waitFor(WAIT);

    const link = linkFrom((await smtp.waitFor(address, /reset-password/, 30_000)).raw, '/reset-password');
    expect(new URL(link).origin).toBe(base);
    await page.goto(link);
    await page.getByLabel('New password (at least 8 characters)').fill('new password 2');
    await page.getByLabel('Repeat it').fill('new password 2');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Password changed' }).waitFor(WAIT);

    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('old password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Invalid email or password').or(page.locator('.error')).first().waitFor(WAIT);
    await page.getByLabel('Password').fill('new password 2');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Top level' }).waitFor(WAIT);
    await page.getByRole('link', { name: address }).waitFor(WAIT);
    await context.close();
  });

  test('refused uploads are explained in words and leave nothing stored', async () => {
    const { context, cookie, csrf } = await signedInContext();
    const auth = { cookie, csrf };
    expect((await api('PATCH', '/api/settings', { max_upload_size_bytes: 4096 }, auth)).status).toBe(200);
    const page = await context.newPage();
    const settingsRead = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/settings', WAIT);
    await page.goto(`${base}/`);
    await page.getByText('This folder is empty.').waitFor(WAIT);
    await settingsRead;

    // Over the limit the app knows from Settings: refused at once, nothing sent (it waited its turn and sent the bytes for a 413).
    const sent: string[] = [];
    page.on('request', (r) => void (r.method() !== 'GET' && /\/api\/(files|uploads)/.test(r.url()) && sent.push(r.url())));
    await dropFiles(page, [await png('too-big.png', 300, 300, true)]);
    await page.locator('.job', { hasText: 'too-big.png' }).getByText(/^This file \([\d.]+ KiB\) is larger than your upload limit of 4\.0 KiB\.$/).waitFor(WAIT); // with its own size: how far over
    expect(sent).toEqual([]);
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120, 1)]);
    await dropFiles(page, [{ name: 'tool.bin', type: 'application/octet-stream', bytes: elf }]);
    await page.locator('.job', { hasText: 'tool.bin' }).getByText(/This type of file is not accepted/).waitFor(WAIT);
    // An empty file is said to be empty (it read "not accepted (it looks like application/x-empty)").
    await dropFiles(page, [{ name: 'empty.txt', type: 'text/plain', bytes: Buffer.alloc(0) }]);
    await page.locator('.job', { hasText: 'empty.txt' }).getByText('This file is empty: there is nothing in it to upload.').waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);

    // Over the upload_count bucket (6 per 10 min): the rest are refused with the wait in words.
    const small = await Promise.all(Array.from({ length: 8 }, (_, i) => png(`small-${i}.png`, 20 + i, 20)));
    await dropFiles(page, small);
    await page.getByText(/Too many requests for now\. Try again in \d+ (seconds|minutes)\./).first().waitFor(WAIT);
    await page.waitForFunction(() => document.querySelectorAll('.job[data-status="queued"], .job[data-status="uploading"]').length === 0, null, WAIT);
    await shot(page, 'upload-errors');

    // The uploaded rows fold into the summary line, what failed stays with its reason (one
    // refused file kept the whole list open, pushing the library below a phone's screen).
    const failed = await page.locator('.job[data-status="failed"] .job-name').allTextContents();
    expect(await page.locator('.job[data-status="done"]').count()).toBeGreaterThan(0);
    expect(await page.locator('.job[data-status="done"]').evaluateAll((rows) => rows.filter((r) => (r as HTMLElement).offsetParent !== null).length)).toBe(0);
    await page.getByRole('button', { name: /^Show the (\d+ uploaded|uploaded file)$/ }).click();
    const done = await page.locator('.job[data-status="done"] .job-name').allTextContents();
    expect(done.length).toBeGreaterThan(0);
    expect(failed).toContain('too-big.png');
    expect(failed).toContain('tool.bin');
    expect(failed.filter((n) => n.startsWith('small-')).length).toBeGreaterThan(0);
    // Retry is offered where it can help (the rate limit passes), not for a file refused for what it is.
    for (const name of ['too-big.png', 'tool.bin']) {
      const job = page.locator('.job', { hasText: name });
      expect([name, await job.getByRole('button', { name: 'Retry' }).count(), await job.getByRole('button', { name: 'Remove' }).count()]).toEqual([name, 0, 1]);
    }
    const limited = page.locator('.job[data-status="failed"]', { hasText: /^small-/ }).first();
    expect(await limited.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    const stored = (await api<{ results: { name: string }[]; count: number }>('GET', '/api/files?limit=100', undefined, auth)).body;
    expect(stored.results.map((f) => f.name).sort()).toEqual([...done].sort());
    expect(stored.count).toBe(done.length);
    const usage = (await api<{ files_count: number }>('GET', '/api/usage', undefined, auth)).body;
    expect(usage.files_count).toBe(done.length);
    await page.locator('.job', { hasText: 'tool.bin' }).getByRole('button', { name: 'Remove' }).click();
    await page.locator('.job', { hasText: 'tool.bin' }).waitFor({ state: 'detached', ...WAIT });
    await context.close();
  });

  test('an address the app has no page for says so (it showed the library); a trailing slash is the same page', async () => {
    const { context } = await signedInContext();
    const page = await context.newPage();
    await page.goto(`${base}/nonexistent-page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor(WAIT);
    expect(await page.getByRole('heading', { name: 'Top level' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Go to your library' }).click();
    await page.getByRole('heading', { name: 'Top level' }).waitFor(WAIT);
    await page.goto(`${base}/keys/`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor(WAIT);
    await page.waitForURL(`${base}/keys`, WAIT);
    // The title follows the page in an effect: waited for, not read at once (a loaded machine read the one before).
    await page.waitForFunction(() => document.title === 'API keys · Pictor', null, WAIT);
    // A file that is not there: a heading and a title that say so (the tab read "Pictor", the page had no heading).
    await page.goto(`${base}/files/doesnotexist`);
    await page.getByRole('heading', { name: 'File not available' }).waitFor(WAIT);
    await page.waitForFunction(() => document.title === 'File not available · Pictor', null, WAIT);
    await context.close();
  });

  test('uploads go on while another page is open (the files waiting their turn were never sent), the header says so', async () => {
    const { context, cookie } = await signedInContext();
    const page = await context.newPage();
    await page.goto(`${base}/?folder=%2Fwhile-away`);
    await page.getByRole('heading', { name: '/while-away' }).waitFor(WAIT);
    // Slow enough that three run and three wait their turn when the page changes.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    const files = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => png(`away-${n}.png`, 160, 160, true)));
    await dropFiles(page, files);
    await page.locator('.job[data-status="queued"]').first().waitFor(WAIT);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor(WAIT);
    const badge = page.locator('.uploads-badge');
    await badge.filter({ hasText: /^Uploading \d files?…$/ }).waitFor(WAIT);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await badge.waitFor({ state: 'detached', timeout: 120_000 });
    const listed = await fetch(`${server.url}/api/files?folder=%2Fwhile-away`, { headers: { cookie } });
    expect(((await listed.json()) as { count: number }).count).toBe(6);
    // Back in the library, the list says what happened and the grid holds all six.
    await page.getByRole('link', { name: 'Library' }).click();
    await page.getByText('All uploads finished.').waitFor(WAIT);
    expect(await page.locator('.job').count()).toBe(6);
    // Signed out, the list goes: the next account to sign in on this page does not see these files.
    const next = { email: email('flow-next'), password: 'correct horse 1' };
    expect((await api('POST', '/api/auth/register', next)).status).toBe(201);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill(next.email);
    await page.getByLabel('Password').fill(next.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Top level' }).waitFor(WAIT);
    expect(await page.locator('.job').count()).toBe(0);
    await context.close();
  });

  test('uploads start from the account\'s defaults, and a file gets what the form shows (the form said Public, Never and the file was public)', async () => {
    const { context, cookie, csrf } = await signedInContext();
    const patched = await fetch(`${server.url}/api/settings`, {
      method: 'PATCH', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ default_is_public: false, default_expires_in: 7 * 86_400 }),
    });
    expect(patched.status).toBe(200);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    const visibility = page.locator('.upload-options').getByLabel('Visibility');
    const expires = page.locator('.upload-options').getByLabel('Expires');
    await page.waitForFunction(() => (document.querySelector('.upload-options select') as HTMLSelectElement | null)?.value === 'private', undefined, WAIT);
    expect(await expires.inputValue()).toBe(String(7 * 86_400));
    const listed = async () => ((await (await fetch(`${server.url}/api/files?sort=name`, { headers: { cookie } })).json()) as { results: { name: string; is_public: boolean; expires_at: string | null }[] }).results;
    await dropFiles(page, [await png('as-default.png', 20, 20)]);
    await page.getByText('All uploads finished.').waitFor(WAIT);
    // Then the form's own choice, Public and Never, wins over the defaults.
    await visibility.selectOption('public');
    await expires.selectOption('0');
    await dropFiles(page, [await png('as-chosen.png', 20, 20)]);
    await page.locator('.cell', { hasText: 'as-chosen.png' }).waitFor(WAIT);
    const [chosen, byDefault] = await listed();
    expect([chosen!.name, chosen!.is_public, chosen!.expires_at]).toEqual(['as-chosen.png', true, null]);
    expect([byDefault!.name, byDefault!.is_public]).toEqual(['as-default.png', false]);
    const days = (Date.parse(byDefault!.expires_at!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    await context.close();
  });

  test('on a phone the first screen shows files: folders, filters and upload options fold away (the grid began below the screen)', async () => {
    const { context, cookie, csrf } = await signedInContext();
    for (const n of [1, 2]) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array((await png(`phone-${n}.png`, 40, 30)).bytes)], { type: 'image/png' }), `phone-${n}.png`);
      expect((await fetch(`${server.url}/api/files`, { method: 'POST', body: form, headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(201);
    }
    const page = await context.newPage();
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${base}/`);
    const first = page.locator('.cell').first();
    await first.waitFor(WAIT);
    const box = (await first.boundingBox())!;
    expect(box.y + box.height).toBeLessThan(740);
    await page.getByRole('button', { name: 'Choose files to upload' }).waitFor(WAIT);
    // Ticking a tile moves no tile (the actions' bar pushed the grid 95 px down under the finger):
    // the bar sits at the bottom of the screen, and a tick box is a 24-px target (it was 18).
    const pick = first.getByRole('checkbox');
    const tick = (await pick.boundingBox())!;
    expect(Math.min(tick.width, tick.height)).toBeGreaterThanOrEqual(24);
    await pick.check();
    const bar = page.getByRole('group', { name: 'Selected files' });
    await bar.waitFor(WAIT);
    expect((await first.boundingBox())!.y).toBe(box.y);
    const barBox = (await bar.boundingBox())!;
    expect(barBox.y + barBox.height).toBeCloseTo(740, 0);
    expect(barBox.width).toBe(375);
    await page.keyboard.press('Escape');
    await bar.waitFor({ state: 'detached', ...WAIT });
    // Folded, not gone: each opens where it was. Picking a folder closes the fold, so its files show.
    expect((await fetch(`${server.url}/api/folders`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: '{"path":"/trip"}' })).status).toBe(201);
    await page.reload();
    await page.getByText('Folders', { exact: true }).click();
    await page.getByRole('button', { name: 'New folder' }).waitFor(WAIT);
    await page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: /^trip/ }).click();
    await page.getByRole('heading', { name: '/trip' }).waitFor(WAIT);
    await page.getByText('Folders: /trip').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'New folder' }).isVisible()).toBe(false);
    await page.goto(`${base}/`);
    await page.getByText('Filters and sorting').click();
    const subfolders = page.getByText('Subfolders too');
    await subfolders.waitFor(WAIT);
    // Side by side without overlapping (the view buttons covered the label's text).
    const [label, grid] = [(await subfolders.boundingBox())!, (await page.getByRole('button', { name: 'Grid' }).boundingBox())!];
    expect(label.x + label.width <= grid.x || grid.y >= label.y + label.height).toBe(true);
    await page.getByText(/^Options: \/ · /).click();
    await page.locator('.upload-options').getByLabel('Visibility').waitFor(WAIT);
    await context.close();
  });

  test('a picked folder keeps its structure, without the system\'s own files (the folder picker opened a plain file picker)', async () => {
    const { context, cookie } = await signedInContext();
    const dir = await mkdtemp(join(tmpdir(), 'pictor-folder-'));
    try {
      for (const day of ['day1', 'day2']) {
        await mkdir(join(dir, 'trip', day), { recursive: true });
        // Two different photos (equal ones would be flagged as copies of each other).
        await writeFile(join(dir, 'trip', day, 'photo.png'), (await png('photo.png', 30 + Number(day.slice(3)), 20)).bytes);
      }
      await writeFile(join(dir, 'trip', '.DS_Store'), Buffer.alloc(64, 1));
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.getByText('This folder is empty.').waitFor(WAIT);
      await page.getByLabel('Choose a folder').setInputFiles(join(dir, 'trip'));
      await page.getByText('All uploads finished.').waitFor(WAIT);
      await page.getByRole('button', { name: 'Show the 2 uploaded' }).click();
      expect((await page.locator('.job .job-name').allTextContents()).sort()).toEqual(['trip/day1/photo.png', 'trip/day2/photo.png']);
      const files = (await (await fetch(`${server.url}/api/files?recursive=true`, { headers: { cookie } })).json()) as { results: { folder: string; name: string }[] };
      expect(files.results.map((f) => `${f.folder}/${f.name}`).sort()).toEqual(['/trip/day1/photo.png', '/trip/day2/photo.png']);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await context.close();
    }
  });

  test('a cross-site form post is refused; without X-CSRF-Token the session cookie is 403 CSRF_INVALID', async () => {
    const { context, cookie } = await signedInContext();
    // A page on another site posts a multipart form (what a plain HTML form can send) to the API.
    await context.route('http://attacker.test/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form id="f" method="post" enctype="multipart/form-data" action="${base}/api/files"><input name="folder" value="/pwned"></form>`
          + '<script>document.getElementById("f").submit()</script>',
      }));
    const page = await context.newPage();
    const answer = page.waitForResponse((r) => r.url() === `${base}/api/files`);
    await page.goto('http://attacker.test/');
    const res = await answer;
    expect([401, 403]).toContain(res.status());

    // The same post with the session cookie attached (a browser sending it cross-site) and no header.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array((await png('x.png', 10, 10)).bytes)], { type: 'image/png' }), 'x.png');
    const forged = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { cookie }, body: form });
    expect(forged.status).toBe(403);
    expect((await forged.json()).error).toBe('CSRF_INVALID');
    const stored = await fetch(`${server.url}/api/files`, { headers: { cookie } });
    expect((await stored.json()).count).toBe(0);
    await context.close();
  });

  test('a large library: windowed rows, infinite scroll through cursor pages, search by name', async () => {
    const admin = server.bootstrap;
    if (!admin) throw new Error('the server did not report its bootstrap admin');
    // Admins are exempt from the account upload buckets: seed 250 files, 20 per request.
    for (let start = 0; start < 250; start += 20) {
      const form = new FormData();
      for (let i = start; i < Math.min(250, start + 20); i++) {
        const { bytes } = await png(`photo-${String(i).padStart(4, '0')}.png`, 8 + (i % 5), 8);
        form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), `photo-${String(i).padStart(4, '0')}.png`);
      }
      const res = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { 'x-api-key': admin.api_key }, body: form });
      expect(res.status).toBe(201);
    }
    const login = await api('POST', '/api/auth/login', { email: admin.email, password: admin.initial_password });
    expect(login.status).toBe(200);
    const { map } = cookiesOf(login.headers);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
    const page = await context.newPage();
    const pages: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/files?') && r.url().includes('cursor=')) pages.push(r.url());
    });
    await page.goto(`${base}/?view=list`);
    await page.getByRole('status').filter({ hasText: /^250 files$/ }).waitFor(WAIT);
    await page.getByText('photo-0249.png').waitFor(WAIT);
    const cells = () => page.locator('.cell').count();
    expect(await cells()).toBeLessThan(60);
    // Scroll to the end: the oldest file arrives through further cursor pages, the DOM stays small.
    for (let i = 0; i < 40 && !(await page.getByText('photo-0000.png').isVisible()); i++) {
      await page.mouse.wheel(0, 4000);
      await page.waitForTimeout(150);
    }
    await page.getByText('photo-0000.png').waitFor(WAIT);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(await cells()).toBeLessThan(60);
    // A file selected far down the list: the actions for it are in view (they stayed at the top of the page).
    await page.getByLabel('Select photo-0000.png').check();
    const actions = page.getByRole('group', { name: 'Selected files' });
    await actions.waitFor(WAIT);
    expect(await actions.isVisible()).toBe(true);
    const box = await actions.boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(800);
    await actions.getByRole('button', { name: 'Clear' }).click();
    await actions.waitFor({ state: 'detached', ...WAIT });
    // Shift-click ticks the range from the last tile ticked (it ticked the one tile clicked); Escape clears.
    await page.getByLabel('Select photo-0001.png').check();
    await page.getByLabel('Select photo-0005.png').click({ modifiers: ['Shift'] });
    await page.getByText('5 selected').waitFor(WAIT);
    for (const n of [1, 2, 3, 4, 5]) expect(await page.getByLabel(`Select photo-000${n}.png`).isChecked()).toBe(true);
    expect(await page.getByLabel('Select photo-0006.png').isChecked()).toBe(false);
    await page.keyboard.press('Escape');
    await actions.waitFor({ state: 'detached', ...WAIT });
    expect(await page.getByLabel('Select photo-0003.png').isChecked()).toBe(false);
    // "Select all" takes every file loaded, and says so when more are still to load.
    await page.getByLabel('Select photo-0001.png').check();
    await actions.getByRole('button', { name: 'Select all 250' }).click();
    await page.getByText('250 selected').waitFor(WAIT);
    await page.keyboard.press('Escape');
    await actions.waitFor({ state: 'detached', ...WAIT });
    // A bulk change that partly fails says which part, and the message stays (a reload wiped it at once)
    // with the focus on it (the bar's buttons went with the selection, and focus fell to <body>).
    const gone = await api<{ results: { id: string }[] }>('GET', '/api/files?q=photo-0002.png&recursive=true', undefined, { key: admin.api_key });
    await page.getByLabel('Select photo-0001.png').check();
    await page.getByLabel('Select photo-0002.png').check();
    expect((await api('DELETE', `/api/files/${gone.body.results[0]!.id}`, undefined, { key: admin.api_key })).status).toBe(204);
    await actions.getByRole('button', { name: 'Make private' }).click();
    const outcome = page.getByRole('alert').filter({ hasText: /^Made private: 1 of 2 files\. 1 not: .*not found/i });
    await outcome.waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: /^249 files$/ }).waitFor(WAIT);
    expect(await outcome.isVisible()).toBe(true);
    expect(await outcome.evaluate((el) => el === document.activeElement)).toBe(true);
    // As you type: no Enter needed (it searched only on Enter or leaving the box).
    await page.getByPlaceholder('Search by name').pressSequentially('photo-024');
    await page.getByRole('status').filter({ hasText: /^10 files$/ }).waitFor(WAIT);
    expect(await cells()).toBe(10);
    await context.close();
  });

  test('folders: create, rename and delete from the tree; account: change password, sign out everywhere', async () => {
    const { context, cookie, csrf } = await signedInContext();
    const page = await context.newPage();
    /** Fills the folder dialog's name and submits it. */
    const nameDialog = async (title: string, name: string, submit: string) => {
      const dialog = page.getByRole('dialog', { name: title });
      await dialog.waitFor(WAIT);
      await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
      await dialog.getByRole('button', { name: submit }).click();
      return dialog;
    };
    await page.goto(`${base}/`);
    await page.getByText('This folder is empty.').waitFor(WAIT);
    await page.getByRole('button', { name: 'New folder' }).click();
    // A dialog in the page (it was the browser's prompt()); an empty name is refused there.
    let dialog = await nameDialog('New folder in the top level', '  ', 'Create');
    await dialog.getByRole('alert').filter({ hasText: 'Enter a name.' }).waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
    await nameDialog('New folder in the top level', 'trips', 'Create');
    await page.getByText('Created /trips.').waitFor(WAIT);
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('heading', { name: '/trips' }).waitFor(WAIT);
    await dropFiles(page, [await png('beach.png', 40, 30)]);
    await page.locator('.cell', { hasText: 'beach.png' }).waitFor(WAIT);
    // The same name changes nothing and sends nothing (it sent PATCH after PATCH, for good).
    const folderCalls: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/(folders|files\/)/.test(r.url()) && r.method() !== 'GET') folderCalls.push(`${r.method()} ${r.url()}`);
    });
    await page.getByRole('button', { name: 'Rename' }).click();
    dialog = await nameDialog('Rename /trips', 'trips', 'Rename');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    // A name with a slash is refused in the dialog, nothing sent (a rename to "trips/2024" buried the files 15 levels deep).
    await page.getByRole('button', { name: 'Rename' }).click();
    dialog = await nameDialog('Rename /trips', 'trips/2024', 'Rename');
    await dialog.getByRole('alert').filter({ hasText: 'A folder name cannot contain “/”.' }).waitFor(WAIT);
    expect(folderCalls).toHaveLength(0);
    await dialog.getByRole('textbox', { name: 'Name' }).fill('journeys');
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await page.getByText('Renamed to /journeys.').waitFor(WAIT);
    expect(folderCalls).toHaveLength(1);
    await page.getByRole('heading', { name: '/journeys' }).waitFor(WAIT);
    await page.locator('.cell', { hasText: 'beach.png' }).waitFor(WAIT);
    const tree = page.getByRole('navigation', { name: 'Folders' });
    await tree.getByRole('button', { name: /^journeys/ }).waitFor(WAIT);
    expect(await tree.getByRole('button', { name: /^trips/ }).count()).toBe(0);
    // A folder with nothing below it has nothing to open (every folder had an arrow, which opened onto nothing).
    expect(await tree.getByRole('button', { name: /^(Open|Close) journeys$/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'New folder' }).click();
    await nameDialog('New folder in /journeys', 'day 1', 'Create');
    await page.getByText('Created /journeys/day 1.').waitFor(WAIT);
    await tree.getByRole('button', { name: /^(Open|Close) journeys$/ }).waitFor(WAIT);
    await tree.getByRole('button', { name: /^day 1/ }).waitFor(WAIT);
    expect(await tree.getByRole('button', { name: /^(Open|Close) day 1$/ }).count()).toBe(0);
    // The tree's items are list items of a list (a `role="group"` list made each an orphan for axe).
    expect(await axeProblems(page)).toEqual([]);
    // A folder whose files are all in its subfolders shows no count ("albums 0" read as empty).
    const made = await fetch(`${server.url}/api/folders`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: '{"path":"/albums/2026"}' });
    expect(made.status).toBe(201);
    await page.reload();
    await tree.getByRole('button', { name: 'albums', exact: true }).waitFor(WAIT);
    // Its own file counted as before, read as words ("journeys 1" read as the folder's name).
    await tree.getByRole('button', { name: 'journeys, 1 file', exact: true }).waitFor(WAIT);
    // A search from the top finds the file in the subfolder (it looked at the top level only).
    await page.goto(`${base}/?q=beach`);
    await page.locator('.cell', { hasText: 'beach.png' }).waitFor(WAIT);
    expect(await page.getByRole('checkbox', { name: 'Subfolders too' }).isChecked()).toBe(true);
    await page.goto(`${base}/?folder=%2Fjourneys`);
    await page.getByRole('heading', { name: '/journeys' }).waitFor(WAIT);
    // Deleting says what goes with the folder before anything is sent (it sent a DELETE, took the 409,
    // then asked "not empty" without saying how much), and focus starts on Cancel.
    const deletes: string[] = [];
    page.on('request', (r) => void (r.method() === 'DELETE' && deletes.push(r.url())));
    await page.getByRole('button', { name: 'Delete folder' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete /journeys?' });
    await ask.getByText('It holds 1 subfolder and 1 file, counting those in subfolders. All of it is deleted with the folder, and this cannot be undone.').waitFor(WAIT);
    expect(await ask.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement)).toBe(true);
    expect(deletes).toEqual([]);
    await ask.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted /journeys.').waitFor(WAIT);
    expect(deletes).toEqual([`${base}/api/folders?path=%2Fjourneys&recursive=true`]);
    await page.getByRole('heading', { name: 'Top level' }).waitFor(WAIT);
    expect((await (await fetch(`${server.url}/api/files?recursive=true`, { headers: { cookie } })).json()).count).toBe(0);

    await page.getByRole('link', { name: /^flow-/ }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor(WAIT);
    expect(await axeProblems(page)).toEqual([]);
    await page.getByLabel('Current password').fill('wrong password 9');
    await page.getByLabel('New password (at least 8 characters)').fill('brand new pass 3');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: /password/i }).waitFor(WAIT);
    await page.getByLabel('Current password').fill('correct horse 1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed.').waitFor(WAIT);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('heading', { name: 'Sign in to Pictor' }).waitFor(WAIT);
    // The session the test held outside the browser is over too.
    expect((await fetch(`${server.url}/api/profile`, { headers: { cookie } })).status).toBe(401);
    await context.close();
  });
});
