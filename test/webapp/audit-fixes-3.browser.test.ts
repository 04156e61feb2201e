/**
 * Findings of a desktop walk-through as a first-time user, each driven the way it was found:
 * invite codes came as bare codes with no way to hand one over, and the page did not say whether
 * this server needs them; a success line stayed through other folders and searches; the file
 * page's link back lost the search and the sort; the tags filter waited for Enter while the name
 * search beside it did not; a preset with fields set showed the preset's label over another
 * result; a key without a name, or a settings field, was refused in a line under the form, the
 * focus left on the button (those two are checked in account-pages.browser.test.ts).
 */
import { expect, setDefaultTimeout, test } from 'bun:test';
import { useAdminFixture } from './admin-fixture';
import { png, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const fx = useAdminFixture();

test('invites: the page says this server needs them, and each code comes with a sign-up link that fills it in', async () => {
  const admin = await fx.signUp('inviter', 'admin');
  const context = await admin.context();
  const page = await context.newPage();
  await page.goto(`${fx.base}/admin?tab=users`);
  await page.getByText('Registration on this server needs an invite').waitFor(WAIT);
  await page.getByRole('button', { name: 'Create invites' }).click();
  const link = page.getByLabel('Sign-up link 1');
  await link.waitFor(WAIT);
  const code = await page.getByLabel('Invite code 1').inputValue();
  const url = await link.inputValue();
  expect(url).toBe(`${fx.base}/register?invite=${encodeURIComponent(code)}`);
  await shot(page, 'admin-invite-links');
  // A visitor opening the link finds the code filled in, and signs up with it.
  const visitor = await fx.browser.newContext();
  const signUp = await visitor.newPage();
  await signUp.goto(url);
  await signUp.getByLabel('Invite code').waitFor(WAIT);
  expect(await signUp.getByLabel('Invite code').inputValue()).toBe(code);
  await signUp.getByLabel('Email').fill(`linked-${Date.now()}@example.com`);
  await signUp.getByLabel(/^Password/).fill('correct horse 1');
  await signUp.getByRole('button', { name: 'Create account' }).click();
  await signUp.waitForURL((u) => u.pathname === '/', WAIT);
  await visitor.close();
  await context.close();
});

test('a success line belongs to where it was said: another folder or a search clears it; the link back keeps the search and sort; tags apply as typed', async () => {
  const me = await fx.signUp('views');
  await me.folder('/trips');
  for (const name of ['beach.png', 'boat.png', 'cliff.png']) await me.upload(name, 'image/png', (await png(name, 40, 30)).bytes, { folder: '/trips' });
  const tagged = await me.upload('sunset.png', 'image/png', (await png('sunset.png', 40, 30)).bytes, { folder: '/trips', tags: 'beach' });
  const context = await me.context();
  const page = await context.newPage();
  await page.goto(`${fx.base}/?folder=%2Ftrips`);
  await page.locator('#files .cell').first().waitFor(WAIT);

  // A folder made here: its line goes once another folder is shown.
  await page.getByRole('button', { name: 'New folder' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('day 1');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByText('Created /trips/day 1.').waitFor(WAIT);
  await page.goBack();
  await page.locator('#files .cell').first().waitFor(WAIT);
  await page.getByText('Created /trips/day 1.').waitFor({ state: 'detached', ...WAIT });

  // A bulk action's line goes with a search.
  await page.locator('#files .cell input[type=checkbox]').first().check();
  await page.getByRole('button', { name: 'Make private' }).click();
  await page.getByText(/Made private/).waitFor(WAIT);
  await page.getByPlaceholder('Search by name').fill('b');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'b', undefined, WAIT);
  await page.getByText(/Made private/).waitFor({ state: 'detached', ...WAIT });

  // Sorted by name, searched: the file's link back returns to that view.
  await page.getByLabel('Sort files').selectOption('name');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('sort') === 'name', undefined, WAIT);
  const view = await page.evaluate(() => location.pathname + location.search);
  await page.locator('.cell', { hasText: 'boat.png' }).getByRole('link').first().click();
  await page.getByRole('heading', { name: 'boat.png' }).waitFor(WAIT);
  await page.getByRole('link', { name: '← /trips' }).click();
  await page.waitForFunction((v) => location.pathname + location.search === v, view, WAIT);
  expect(await page.getByPlaceholder('Search by name').inputValue()).toBe('b');

  // Tags apply once typing pauses, as the name search does (they waited for Enter).
  await page.getByPlaceholder('Search by name').fill('');
  await page.getByPlaceholder('Tags (all of)').fill('beach');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('tag') === 'beach', undefined, WAIT);
  await page.waitForFunction((id) => !!document.querySelector(`#files a[href*="${id}"]`) && ![...document.querySelectorAll('#files .cell')].some((c) => c.textContent?.includes('beach.png')), tagged.id, WAIT);
  await context.close();
});

test('a preset with fields set says the fields override it (the preset label stood over another result)', async () => {
  const me = await fx.signUp('builder');
  const file = await me.upload('wide.png', 'image/png', (await png('wide.png', 300, 200)).bytes);
  const context = await me.context();
  const page = await context.newPage();
  await page.goto(`${fx.base}/files/${file.id}`);
  const preset = page.getByLabel('Preset');
  await preset.waitFor(WAIT);
  const note = page.getByText('override its own values');
  await preset.selectOption('thumb');
  await page.getByLabel('Transformation URL').waitFor(WAIT);
  expect(await note.count()).toBe(0);
  await page.getByLabel('Width').fill('300');
  await note.waitFor(WAIT);
  expect(await note.textContent()).toContain('t_thumb,w_300');
  await note.scrollIntoViewIfNeeded();
  await shot(page, 'builder-preset-override');
  await context.close();
});

test('a job created while the Jobs page is still loading its list shows (the feed\'s event was dropped, and the list had been read before it)', async () => {
  const me = await fx.signUp('early');
  const context = await me.context();
  const page = await context.newPage();
  // The list is read at once but answers only once the job exists: the order a slow list gives.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/queue/jobs?*', async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const response = await route.fetch();
    await held;
    await route.fulfill({ response });
  });
  await page.goto(`${fx.base}/jobs`);
  await page.locator('.live.live').waitFor(WAIT);
  const file = await me.upload('early.png', 'image/png', (await png('early.png', 40, 30)).bytes);
  await page.locator(`tr[data-job] a[href="/files/${file.id}"]`).first().waitFor(WAIT);
  release();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor(WAIT);
  await page.waitForFunction(() => !document.querySelector('.loading'), undefined, WAIT);
  await page.locator(`tr[data-job] a[href="/files/${file.id}"]`).first().waitFor(WAIT);
  await context.close();
});
