/**
 * Findings of a walk-through on a phone (390×844, touch), each checked the way it was found: the
 * grid stayed empty after uploading into an empty folder; the folded filters ran into each other;
 * checkboxes stood 37 px tall, out of line with their labels; a long address in the admin's
 * "Files of …" heading made the page scroll sideways; confirming a ban pushed "Files" out of its
 * card and said what a ban does only in a hover title; the selection bar covered the last tile;
 * a file deleted from its own page left without a word, and Back led to "File not available";
 * an invalid transformation showed a broken-image icon above its error. And on a touch tablet
 * (768×1024): uploading was two 23 px links under "Drop files here", tiles' checkboxes 24 px, and
 * a file's links were 15-character fields beside its preview; why Gravity or "Subfolders too" was
 * disabled was only in a hover title.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { useAdminFixture, type Account } from './admin-fixture';
import { png, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const PHONE = { width: 390, height: 844 };
const fx = useAdminFixture();
const signUp = (tag: string, role: 'user' | 'admin' = 'user'): Promise<Account> => fx.signUp(tag, role);

async function phonePage(me: Account, path: string): Promise<Page> {
  const page = await (await me.context(PHONE)).newPage();
  await page.goto(`${fx.base}${path}`);
  return page;
}

/** Whether `a` and `b` overlap on screen, or sit closer than `gap` px side by side. */
const crowded = (a: { x: number; y: number; width: number; height: number }, b: typeof a, gap = 4) =>
  a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height && b.y < a.y + a.height;

describe('the web app on a phone', () => {
  test('files uploaded into an empty folder show in the grid (it stayed empty until a scroll)', async () => {
    const me = await signUp('grid');
    await me.folder('/trips');
    const page = await phonePage(me, '/?folder=%2Ftrips');
    await page.getByText('This folder is empty').or(page.getByText(/no files/i)).first().waitFor(WAIT);
    const files = await Promise.all(Array.from({ length: 16 }, (_, i) => png(`beach-${i}.png`, 200 + i, 150)));
    await page.locator('input[aria-label="Choose files"]').setInputFiles(files.map((f) => ({ name: f.name, mimeType: f.type, buffer: f.bytes })));
    await page.getByText('16 files', { exact: false }).first().waitFor(WAIT);
    // Without a scroll: the rows in view are worked out again when the upload list folds away.
    await page.waitForFunction(() => document.querySelectorAll('#files .cell').length > 0, undefined, WAIT);
    const inView = await page.evaluate(() => [...document.querySelectorAll('#files .cell')].filter((c) => {
      const r = c.getBoundingClientRect();
      return r.bottom > 0 && r.top < innerHeight;
    }).length);
    expect(inView).toBeGreaterThan(0);
    await shot(page, 'phone-grid-after-upload');
    await page.context().close();
  });

  test('the folded filters lay out as rows of fields; checkboxes sit in line with their labels', async () => {
    const me = await signUp('filters');
    await me.upload('a.png', 'image/png', (await png('a.png', 40, 40)).bytes);
    const page = await phonePage(me, '/');
    await page.getByText('Filters and sorting').click();
    const fields = page.locator('.filters-fold').locator('select, input:not([type=checkbox]), label.check, .seg');
    await fields.first().waitFor(WAIT);
    const boxes = (await Promise.all((await fields.all()).map((f) => f.boundingBox()))).filter((b) => b !== null);
    expect(boxes.length).toBeGreaterThan(2);
    const clashes: string[] = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) if (crowded(boxes[i]!, boxes[j]!)) clashes.push(`${i}/${j}`);
    expect(clashes).toEqual([]);
    // The "Subfolders too" checkbox: its own size, its middle level with its label's text.
    const box = await page.getByLabel('Subfolders too').boundingBox();
    const label = await page.locator('label.check', { hasText: 'Subfolders too' }).boundingBox();
    expect(box!.height).toBeLessThan(24);
    expect(Math.abs(box!.y + box!.height / 2 - (label!.y + label!.height / 2))).toBeLessThan(4);
    await shot(page, 'phone-filters-open');
    await page.context().close();
  });

  test('the selection bar leaves the last tile visible once scrolled to the end', async () => {
    const me = await signUp('bar');
    // Sixteen, two of them ticked: the bar's actions wrap to three rows at this width.
    for (let i = 0; i < 16; i++) await me.upload(`t${i}.png`, 'image/png', (await png(`t${i}.png`, 30 + i, 30)).bytes);
    const page = await phonePage(me, '/');
    await page.locator('#files .cell').nth(1).waitFor(WAIT);
    await page.locator('#files .pick').nth(0).tap();
    await page.locator('#files .pick').nth(1).tap();
    const bar = page.locator('.bulk');
    await bar.waitFor(WAIT);
    // Scrolled again while waiting: the bar's clearance below the grid may grow after a paint.
    await page.waitForFunction(() => {
      window.scrollTo(0, document.documentElement.scrollHeight);
      return innerHeight + scrollY >= document.documentElement.scrollHeight - 1;
    }, undefined, WAIT);
    const names = await page.locator('#files .cell .name').all();
    const lastName = await names[names.length - 1]!.boundingBox();
    const barBox = await bar.boundingBox();
    expect(lastName!.y + lastName!.height).toBeLessThanOrEqual(barBox!.y);
    await page.context().close();
  });

  test('a file deleted on its own page: the library says so, and Back does not lead to the deleted file', async () => {
    const me = await signUp('delete');
    const kept = await me.upload('kept.png', 'image/png', (await png('kept.png', 30, 30)).bytes);
    const gone = await me.upload('gone.png', 'image/png', (await png('gone.png', 31, 30)).bytes);
    const page = await phonePage(me, '/');
    await page.locator(`#files a[href="/files/${kept.id}"]`).waitFor(WAIT);
    await page.goto(`${fx.base}/files/${gone.id}`);
    await page.getByRole('button', { name: 'Delete file' }).click();
    await page.getByRole('dialog', { name: 'Delete gone.png?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted gone.png.').waitFor(WAIT);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/');
    // The deleted file's page was replaced: Back is the library this test opened first.
    await page.goBack();
    await page.locator(`#files a[href="/files/${kept.id}"]`).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe('/');
    await page.context().close();
  });

  test('a library that failed to load offline loads by itself once the connection is back (it waited for Retry)', async () => {
    const me = await signUp('offline');
    await me.folder('/later');
    await me.upload('there.png', 'image/png', (await png('there.png', 30, 30)).bytes, { folder: '/later' });
    const page = await phonePage(me, '/');
    await page.getByText('Folders').first().waitFor(WAIT);
    await page.context().setOffline(true);
    await page.evaluate(() => history.pushState(null, '', '/?folder=%2Flater'));
    await page.evaluate(() => dispatchEvent(new PopStateEvent('popstate')));
    await page.getByRole('button', { name: 'Retry' }).waitFor(WAIT);
    await page.context().setOffline(false);
    await page.locator('#files .cell', { hasText: 'there.png' }).waitFor(WAIT);
    await page.context().close();
  });

  test('an invalid transformation shows its error, not a broken image', async () => {
    const me = await signUp('builder');
    const file = await me.upload('pic.png', 'image/png', (await png('pic.png', 60, 40)).bytes, { is_public: 'true' });
    const page = await phonePage(me, `/files/${file.id}`);
    await page.getByText(/^Preview: /).waitFor(WAIT);
    await page.locator('#tx-w').fill('99999');
    await page.locator('.tx-preview .error').waitFor(WAIT);
    expect(await page.locator('.tx-preview img').isVisible()).toBe(false);
    await page.locator('#tx-w').fill('20');
    await page.getByText(/^Preview: 20 ×/).waitFor(WAIT);
    expect(await page.locator('.tx-preview img').isVisible()).toBe(true);
    await page.context().close();
  });

  test('admin: a long address does not widen the page; confirming a ban keeps Files in its card and says what a ban does', async () => {
    const admin = await signUp('admin', 'admin');
    const target = await signUp('a-rather-long-address-without-any-breaks');
    const page = await phonePage(admin, `/admin?${new URLSearchParams({ tab: 'files', user: target.id, email: target.email })}`);
    await page.locator('#h-files').waitFor(WAIT);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBeLessThanOrEqual(0);

    await page.goto(`${fx.base}/admin?tab=users&q=${encodeURIComponent(target.email)}`);
    await page.locator(`#ban-${target.id}`).tap();
    await page.locator(`#confirm-ban-${target.id}`).waitFor(WAIT);
    const effect = page.locator(`#ban-effect-${target.id}`);
    expect(await effect.isVisible()).toBe(true);
    expect(await effect.textContent()).toContain('files are hidden until unbanned');
    const card = await page.locator('tr', { has: page.locator(`#confirm-ban-${target.id}`) }).boundingBox();
    const files = await page.getByRole('link', { name: `Files of ${target.email}` }).boundingBox();
    expect(files!.x + files!.width).toBeLessThanOrEqual(card!.x + card!.width);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBeLessThanOrEqual(0);
    await shot(page, 'phone-admin-confirm-ban');
    await page.context().close();
  });
});

describe('the web app on a touch tablet', () => {
  test('upload buttons a thumb can hit, 32 px tile checkboxes, a file\'s links wide enough to read', async () => {
    const me = await signUp('tablet');
    const file = await me.upload('wide.png', 'image/png', (await png('wide.png', 80, 40)).bytes, { is_public: 'true' });
    const context = await me.context({ width: 768, height: 1024 }, true);
    const page = await context.newPage();
    await page.goto(`${fx.base}/`);
    const choose = page.getByRole('button', { name: 'Choose files to upload' });
    await choose.waitFor(WAIT);
    expect((await choose.boundingBox())!.height).toBeGreaterThanOrEqual(36);
    const pick = await page.locator('#files .pick').first().boundingBox();
    expect([pick!.width, pick!.height]).toEqual([32, 32]);

    await page.goto(`${fx.base}/files/${file.id}`);
    await page.locator('.copy-row input').first().waitFor(WAIT);
    const widths = await page.locator('.copy-row input').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    expect(Math.min(...widths)).toBeGreaterThan(300);
    await shot(page, 'tablet-details');
    await context.close();
  });

  test('why a control is disabled is said on the page (a hover title never shows on touch)', async () => {
    const me = await signUp('disabled');
    const file = await me.upload('why.png', 'image/png', (await png('why.png', 60, 40)).bytes, { is_public: 'true' });
    const page = await (await me.context({ width: 768, height: 1024 }, true)).newPage();
    await page.goto(`${fx.base}/files/${file.id}`);
    const gravity = page.getByLabel('Gravity');
    await gravity.waitFor(WAIT);
    expect(await gravity.isDisabled()).toBe(true);
    const why = page.locator('#tx-g-note');
    expect([await why.isVisible(), await gravity.getAttribute('aria-describedby')]).toEqual([true, 'tx-g-note']);
    expect(await why.textContent()).toContain('fill, lfill, pad or thumb and a width or height');
    await why.scrollIntoViewIfNeeded();
    await shot(page, 'tablet-gravity-note');
    await page.getByLabel('Crop mode').selectOption('fill');
    await page.getByLabel('Width').fill('40');
    await why.waitFor({ ...WAIT, state: 'detached' });
    expect(await gravity.isDisabled()).toBe(false);

    await page.goto(`${fx.base}/`); // at this width the filters are unfolded
    const subfolders = page.getByRole('checkbox', { name: /^Subfolders too/ });
    await subfolders.waitFor(WAIT);
    await page.getByPlaceholder('Search by name').fill('why');
    await page.getByText('(a search always looks in them)').waitFor(WAIT);
    // Ticked while disabled: a search does look in subfolders (it showed unticked).
    expect([await subfolders.isDisabled(), await subfolders.isChecked()]).toEqual([true, true]);
    await shot(page, 'tablet-search-subfolders');
    await page.context().close();
  });
});
