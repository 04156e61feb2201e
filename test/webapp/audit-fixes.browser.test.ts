/**
 * Findings of a browser audit, each driven the way it was found: a private file's "Download"
 * answered 404 and was named "true.json"; Back after a folder left the library; the search box
 * kept its text over a list reset by the Library tab; a text file named .jpg was refused as "not
 * accepted" with a hard-coded list of types; an upload said "Uploaded" of a file that never
 * joined the grid when fetching it failed; a folder that does not exist read as an empty one
 * with Rename and Delete; live jobs named their file by id; the focus fell to <body> (jobs,
 * admin files) or to <main> (bulk Move); the admin's one-account file list said "every account";
 * a move into an existing folder logged a failed request; long folder paths widened a phone's page.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { type RunningServer } from '../helpers/server';
import { emailMaker, signUpIn, startAdminFixture, type Account } from './admin-fixture';
import { dropFiles, png, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

let server: RunningServer;
let browser: Browser;
let base: string;
let api: ReturnType<typeof createClient>;
let adminKey: string;
let adminId: string;
const email = emailMaker();

beforeAll(async () => {
  ({ server, browser, base, api, adminKey } = await startAdminFixture());
  adminId = (await api('GET', '/api/profile', undefined, { key: adminKey })).body.user.id;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const signUp = (tag: string, role: 'user' | 'admin' = 'user'): Promise<Account> => signUpIn({ server, browser, base, api, adminKey }, adminId, email(tag), role);

/** A short description of the focused element: its tag, id, text. */
const focused = (page: Page) => page.evaluate(() => {
  const el = document.activeElement;
  return el ? `${el.tagName.toLowerCase()}#${el.id}:${(el.textContent ?? '').trim().slice(0, 60)}` : 'none';
});
/** Waits until the focused element's description satisfies `wanted` (checked every 20 ms; a condition, not a clock). */
async function focusIs(page: Page, wanted: (d: string) => boolean): Promise<void> {
  const deadline = Date.now() + WAIT.timeout;
  let now = await focused(page);
  while (!wanted(now)) {
    if (Date.now() > deadline) throw new Error(`focus is on ${now}`);
    await new Promise((r) => setTimeout(r, 20));
    now = await focused(page);
  }
}

describe('library and details', () => {
  test('Download of a private non-image file gives the file, under its own name', async () => {
    const me = await signUp('dl');
    const body = 'private words\n';
    const file = await me.upload('notes.txt', 'text/plain', body, { is_public: 'false' });
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/files/${file.id}`);
    const link = page.getByRole('link', { name: 'Download notes.txt' });
    await link.waitFor(WAIT);
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), link.click()]);
    expect(download.suggestedFilename()).toBe('notes.txt');
    expect(await download.failure()).toBeNull();
    const saved = await download.path();
    expect(await Bun.file(saved!).text()).toBe(body);
    await shot(page, 'audit-private-download');
    await context.close();
  });

  test('Back after choosing folders returns to the folder before, then to the top level', async () => {
    const me = await signUp('back');
    await me.folder('/trips/rome');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/settings`);
    await page.locator('h1', { hasText: 'Settings' }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Library' }).first().click();
    await page.locator('h1', { hasText: 'Top level' }).waitFor(WAIT);
    const tree = page.getByRole('navigation', { name: 'Folders' });
    await tree.getByRole('button', { name: 'trips', exact: true }).click();
    await page.locator('h1.folder-title', { hasText: '/trips' }).waitFor(WAIT);
    await tree.getByRole('button', { name: /^rome/ }).click();
    await page.locator('h1.folder-title', { hasText: '/trips/rome' }).waitFor(WAIT);
    await page.goBack();
    await page.waitForFunction(() => new URLSearchParams(location.search).get('folder') === '/trips', null, WAIT);
    await page.locator('h1.folder-title', { hasText: /^\/trips$/ }).waitFor(WAIT);
    await page.goBack();
    await page.waitForFunction(() => location.pathname === '/' && location.search === '', null, WAIT);
    await page.locator('h1', { hasText: 'Top level' }).waitFor(WAIT);
    await context.close();
  });

  test('the search and tags boxes follow the address: the Library tab and the logo clear them', async () => {
    const me = await signUp('search');
    await me.upload('alpha.txt', 'text/plain', 'alpha');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('.cell a.open[title="alpha.txt"]').waitFor(WAIT);
    const search = page.getByRole('searchbox', { name: 'Search by name' });
    await search.fill('zzzz');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'zzzz', null, WAIT);
    await page.locator('.empty', { hasText: 'No file matches' }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Library' }).first().click();
    await page.locator('.cell a.open[title="alpha.txt"]').waitFor(WAIT);
    expect(await search.inputValue()).toBe('');

    await page.goto(`${base}/?${new URLSearchParams({ q: 'zzzz', tag: 'nope' })}`);
    await page.locator('.empty', { hasText: 'No file matches' }).waitFor(WAIT);
    expect(await search.inputValue()).toBe('zzzz');
    expect(await page.getByRole('searchbox', { name: 'Tags' }).inputValue()).toBe('nope');
    await page.locator('a.brand').click();
    await page.locator('.cell a.open[title="alpha.txt"]').waitFor(WAIT);
    expect(await search.inputValue()).toBe('');
    expect(await page.getByRole('searchbox', { name: 'Tags' }).inputValue()).toBe('');
    // Back brings the search back, in the box too.
    await page.goBack();
    await page.locator('.empty', { hasText: 'No file matches' }).waitFor(WAIT);
    expect(await search.inputValue()).toBe('zzzz');
    await context.close();
  });

  test('a text file named .jpg is refused as a name that does not match its content', async () => {
    const me = await signUp('fake');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('h1', { hasText: 'Top level' }).waitFor(WAIT);
    await dropFiles(page, [{ name: 'fake.jpg', type: 'image/jpeg', bytes: Buffer.from('just some text, not a picture\n'.repeat(20)) }]);
    const row = page.locator('.job', { hasText: 'fake.jpg' });
    await row.locator('.error').waitFor(WAIT);
    const said = (await row.locator('.error').textContent()) ?? '';
    expect(said).toContain('do not match');
    expect(said).toContain('image/jpeg');
    expect(said).toContain('text/plain');
    expect(said).not.toContain('not accepted');
    expect(said).not.toContain('Upload an image, a video');
    await context.close();
  });

  test('an upload whose file cannot be fetched afterwards still shows up in the library', async () => {
    const me = await signUp('lost');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('h1', { hasText: 'Top level' }).waitFor(WAIT);
    // The one file's GET fails (a dropped connection); the list and the upload itself work.
    await page.route(/\/api\/files\/[A-Za-z0-9]+$/, (route) => (route.request().method() === 'GET' ? route.abort('connectionreset') : route.continue()));
    await dropFiles(page, [await png('arrived.png', 60, 40)]);
    await page.locator('.job[data-status="done"]', { hasText: 'arrived.png' }).waitFor({ ...WAIT, state: 'attached' });
    await page.locator('.cell a.open[title="arrived.png"]').waitFor(WAIT);
    await context.close();
  });

  test('a folder that does not exist says so, links to its parent and offers no Rename or Delete', async () => {
    const me = await signUp('ghost');
    await me.folder('/real/gone');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/?folder=${encodeURIComponent('/real/ghost')}`);
    await page.getByText('The folder /real/ghost does not exist').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Rename' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete folder' }).count()).toBe(0);
    await shot(page, 'audit-ghost-folder');
    await page.getByRole('link', { name: 'Go to /real' }).click();
    await page.locator('h1.folder-title', { hasText: /^\/real$/ }).waitFor(WAIT);
    // An existing empty folder keeps its actions.
    await page.getByRole('button', { name: 'Rename' }).waitFor(WAIT);
    expect(await page.getByText('does not exist').count()).toBe(0);

    // Deleted in another tab while the Rename dialog is open: the dialog closes and the page says
    // the folder is gone. The page may learn it by itself (its live refresh) before the rename is
    // sent, which took the button away under a click made after the delete.
    await page.goto(`${base}/?folder=${encodeURIComponent('/real/gone')}`);
    await page.getByRole('button', { name: 'Rename' }).click(WAIT);
    await page.locator('#folder-name').fill('elsewhere');
    const { header, map } = cookiesOf(me.headers);
    expect((await fetch(`${base}/api/folders?path=${encodeURIComponent('/real/gone')}`, { method: 'DELETE', headers: { cookie: header, 'x-csrf-token': map.pictor_csrf! } })).status).toBe(204);
    const send = page.getByRole('dialog').getByRole('button', { name: 'Rename' });
    if (await send.isVisible()) await send.click({ timeout: 5_000 }).catch(() => {}); // gone meanwhile: the page found out first
    await page.getByText('The folder /real/gone does not exist').waitFor(WAIT);
    expect(await page.locator('dialog[open]').count()).toBe(0);
    await context.close();
  });

  test('bulk Move into an existing folder: no failed request, focus on what it did', async () => {
    const me = await signUp('move');
    await me.folder('/trips');
    for (const n of ['a', 'b', 'c']) await me.upload(`${n}.txt`, 'text/plain', n);
    const context = await me.context();
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('console', (m) => m.type() === 'error' && failures.push(m.text()));
    page.on('response', (r) => r.status() >= 400 && failures.push(`${r.status()} ${r.request().method()} ${r.url()}`));
    await page.goto(`${base}/`);
    await page.locator('.status-line', { hasText: '3 files' }).waitFor(WAIT);
    for (const n of ['a', 'b', 'c']) await page.getByRole('checkbox', { name: `Select ${n}.txt` }).check();
    await page.getByRole('button', { name: 'Move…' }).click();
    await page.getByLabel('To folder').fill('/trips');
    await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click();
    await page.getByText('Moved to /trips: 3 of 3 files.').waitFor(WAIT);
    await focusIs(page, (d) => d.includes('Moved to /trips: 3 of 3 files.'));
    expect(failures).toEqual([]);
    await context.close();
  });

  test('with "Private only" and nothing found, the empty list names that filter', async () => {
    const me = await signUp('vis');
    await me.upload('open.txt', 'text/plain', 'open');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/?visibility=private`);
    await page.locator('.empty', { hasText: 'No file matches' }).waitFor(WAIT);
    expect(await page.locator('.empty').textContent()).toContain('Private only');
    await context.close();
  });

  test('a past expiry is refused in the form’s words', async () => {
    const me = await signUp('exp');
    const file = await me.upload('soon.txt', 'text/plain', 'soon');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/files/${file.id}`);
    await page.getByLabel('Expires (empty: never)').fill('2001-01-01T10:00');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'expiry' }).waitFor(WAIT);
    expect(await page.getByRole('alert').filter({ hasText: 'expiry' }).textContent()).toContain('The expiry must be in the future');
    expect(await page.getByText('expires_at').count()).toBe(0);
    await context.close();
  });
});

describe('on a phone', () => {
  test('long folder paths wrap: the library, its folded summaries and the details page fit 390 px', async () => {
    const me = await signUp('long');
    const long = `/${'averyveryverylongfoldernamewithoutanybreaks'.repeat(2)}/${'andanotherlongsubfoldername'.repeat(2)}`;
    const file = await me.upload('deep.txt', 'text/plain', 'deep', { folder: long });
    const context = await me.context({ width: 390, height: 844 });
    const page = await context.newPage();
    // Against the screen's width: a phone's browser widens its layout viewport (innerWidth) to a page that overflows.
    const fits = async (what: string) => {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (wide > 390) throw new Error(`${what}: the page is ${wide} px wide on a 390 px screen`);
    };
    await page.goto(`${base}/?folder=${encodeURIComponent(long)}`);
    await page.locator('.cell a.open[title="deep.txt"]').waitFor(WAIT);
    await fits('library');
    await page.locator('summary', { hasText: 'Folders:' }).click();
    await page.getByRole('button', { name: 'Rename' }).waitFor(WAIT);
    await fits('library, folders open');
    await page.locator('summary', { hasText: 'Options:' }).click();
    await fits('library, options open');
    await shot(page, 'audit-phone-long-folder');
    await page.goto(`${base}/files/${file.id}`);
    await page.locator('h1', { hasText: 'deep.txt' }).waitFor(WAIT);
    await fits('details');
    await shot(page, 'audit-phone-long-details');
    await context.close();
  });
});

describe('jobs and administration', () => {
  test('a job arriving live names its file; Delete on a job hands the focus on', async () => {
    const me = await signUp('jobs');
    const context = await me.context();
    const page = await context.newPage();
    await page.goto(`${base}/jobs`);
    await page.locator('.live.live').waitFor(WAIT);
    const file = await me.upload('sunset.png', 'image/png', (await png('sunset.png', 64, 48)).bytes);
    const row = page.locator('tr[data-job]', { has: page.locator(`a[href="/files/${file.id}"]`) }).first();
    await row.waitFor(WAIT);
    await row.locator('a', { hasText: 'sunset.png' }).waitFor(WAIT);

    const done = page.locator('tr[data-status="completed"]').first();
    await done.waitFor(WAIT);
    // The list redraws for a live event while the Delete runs (that render spent where the focus
    // was to go, with the button still focused, and the deleted row then dropped it to <body>).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/queue/jobs/*', async (route) => {
      if (route.request().method() === 'DELETE') await held;
      await route.continue();
    });
    await done.getByRole('button', { name: /^Delete job/ }).click();
    const other = await me.upload('dusk.png', 'image/png', (await png('dusk.png', 48, 64)).bytes);
    await page.locator(`tr[data-job] a[href="/files/${other.id}"]`).first().waitFor(WAIT);
    // Its jobs settled first: a row whose status still changes swaps its buttons, which can take
    // the focus from the row Delete hands it to (a live change, not this fix; the full run met it).
    await page.waitForFunction(() => !document.querySelector('tr[data-job]:is([data-status="pending"], [data-status="running"])'), null, WAIT);
    release();
    await page.getByText('Job deleted.').waitFor(WAIT);
    await focusIs(page, (d) => !d.startsWith('body'));
    expect(await focused(page)).not.toMatch(/^body/);
    await context.close();
  });

  test('admin files: focus follows Delete and its answer; one account’s list names it; no match says so', async () => {
    const owner = await signUp('owned');
    for (const n of ['one', 'two', 'three']) await owner.upload(`${n}.txt`, 'text/plain', n);
    const admin = await signUp('admin', 'admin');
    const context = await admin.context();
    const page = await context.newPage();
    await page.goto(`${base}/admin?tab=users`);
    const userRow = page.locator(`tr[data-user="${owner.email}"]`);
    await userRow.waitFor(WAIT);
    await userRow.getByRole('link', { name: /^Files/ }).click();
    await page.locator('#h-files', { hasText: `Files of ${owner.email}` }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Show every account’s files' }).waitFor(WAIT);
    await shot(page, 'audit-admin-one-account');

    const rows = page.locator('tr[data-file]');
    await rows.nth(2).waitFor(WAIT);
    const first = rows.first();
    const firstName = ((await first.locator('.user-email').textContent()) ?? '').trim();
    const secondName = ((await rows.nth(1).locator('.user-email').textContent()) ?? '').trim();
    await first.getByRole('button', { name: `Delete ${firstName}` }).click();
    await focusIs(page, (d) => d.startsWith('button#keep-'));
    await page.keyboard.press('Enter'); // Keep
    await focusIs(page, (d) => d.startsWith('button#delete-') && d.includes('Delete'));
    await page.keyboard.press('Enter'); // Delete
    await focusIs(page, (d) => d.startsWith('button#keep-'));
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toContain('Delete for good');
    await page.keyboard.press('Enter');
    await page.getByText(`Deleted ${firstName} of ${owner.email}`).waitFor(WAIT);
    await focusIs(page, (d) => d.includes(`Delete${secondName}`) || d.includes(`Delete ${secondName}`));

    await page.getByRole('searchbox', { name: 'Search files by name' }).fill('nothing-like-this');
    await page.locator('.empty', { hasText: 'No file name contains “nothing-like-this”' }).waitFor(WAIT);
    await context.close();
  });
});
