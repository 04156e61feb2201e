/**
 * The app asks before it destroys something in a dialog of its own, as it does for folders and
 * bulk actions: deleting a file from its page, revoking a share link, signing out everywhere and
 * signing out with uploads running used the browser's `confirm()`, a bare box that blocks the
 * page, cannot say why the action failed, and can be silenced for the whole site.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { useAdminFixture, type Account } from './admin-fixture';
import { png, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };
const fx = useAdminFixture();

/** A signed-in page that fails the test on any native dialog (it is dismissed, and recorded). */
async function pageOf(me: Account, path: string): Promise<{ page: Page; native: string[] }> {
  const page = await (await me.context()).newPage();
  const native: string[] = [];
  page.on('dialog', (d) => {
    native.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${fx.base}${path}`);
  return { page, native };
}

/** What has the keyboard focus: its tag and its text or label. */
const focused = (page: Page) => page.evaluate(() => {
  const e = document.activeElement;
  return e ? `${e.tagName.toLowerCase()} ${(e.getAttribute('aria-label') ?? e.textContent ?? '').trim()}` : 'none';
});
/** Waits for the focus to reach `want` (as `focused` describes it), or fails saying where it is. */
const focusBecomes = (page: Page, want: string) => page.waitForFunction((w) => {
  const e = document.activeElement;
  return (e ? `${e.tagName.toLowerCase()} ${(e.getAttribute('aria-label') ?? e.textContent ?? '').trim()}` : 'none') === w;
}, want, WAIT).catch(async () => {
  throw new Error(`the focus is on ${await focused(page)}, not ${want}`);
});

const status = async (me: Account, path: string) => (await fetch(`${fx.base}${path}`, { headers: me.auth })).status;

describe('confirmations are the app\'s own dialogs', () => {
  test('deleting a file from its page: Cancel keeps it, a refusal is said in the dialog, Delete deletes', async () => {
    const me = await fx.signUp('delete');
    const file = await me.upload('keep-me.png', 'image/png', (await png('keep-me.png', 40, 30)).bytes);
    const { page, native } = await pageOf(me, `/files/${file.id}`);
    const asked = page.getByRole('dialog', { name: 'Delete keep-me.png?' });
    await page.getByRole('button', { name: 'Delete file' }).click();
    await asked.getByText('This cannot be undone.').waitFor(WAIT);
    // Opens on Cancel, the harmless answer, as the browser's box did.
    await focusBecomes(page, 'button Cancel');
    await shot(page, 'confirm-delete-file');
    await asked.getByRole('button', { name: 'Cancel' }).click();
    await asked.waitFor({ ...WAIT, state: 'detached' });
    await focusBecomes(page, 'button Delete file');
    expect(await status(me, `/api/files/${file.id}`)).toBe(200);

    // A refusal stays in the dialog, with the server's words, so it can be tried again.
    await page.route(`**/api/files/${file.id}`, (route) => (route.request().method() === 'DELETE'
      ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'STORAGE_UNAVAILABLE', message: 'Storage is unavailable; try again shortly.', details: { request_id: 'req-d3l' } }) })
      : route.continue()));
    await page.getByRole('button', { name: 'Delete file' }).click();
    await asked.getByRole('button', { name: 'Delete' }).click();
    await asked.getByRole('alert').filter({ hasText: 'Storage is unavailable' }).waitFor(WAIT);
    expect(await status(me, `/api/files/${file.id}`)).toBe(200);
    await page.unroute(`**/api/files/${file.id}`);
    await asked.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted keep-me.png.').waitFor(WAIT);
    expect(await status(me, `/api/files/${file.id}`)).toBe(404);
    expect(native).toEqual([]);
    await page.context().close();
  });

  test('revoking a share link: Cancel keeps it and returns the focus; Revoke revokes and hands the focus to the section', async () => {
    const me = await fx.signUp('share');
    const file = await me.upload('shared.png', 'image/png', (await png('shared.png', 40, 30)).bytes);
    const made = await fetch(`${fx.base}/api/files/${file.id}/shares`, { method: 'POST', headers: { ...me.auth, 'content-type': 'application/json' }, body: '{}' });
    expect(made.status).toBe(201);
    const link = (await made.json()) as { id: string; url: string };
    const { page, native } = await pageOf(me, `/files/${file.id}`);
    const revokeButton = page.getByRole('button', { name: `Revoke link ${link.url}` });
    const asked = page.getByRole('dialog', { name: 'Revoke this link?' });
    await revokeButton.click();
    await asked.getByText('It stops working at once.', { exact: false }).waitFor(WAIT);
    await focusBecomes(page, 'button Cancel');
    await page.keyboard.press('Escape');
    await asked.waitFor({ ...WAIT, state: 'detached' });
    await focusBecomes(page, `button Revoke link ${link.url}`);
    expect((await fetch(link.url)).status).toBe(200);

    await revokeButton.click();
    await asked.getByRole('button', { name: 'Revoke link' }).click();
    await page.getByText('Link revoked.').waitFor(WAIT);
    // The pressed button left with its row: the section's heading has the focus, not <body>.
    await focusBecomes(page, 'h2 Share links');
    expect(await revokeButton.count()).toBe(0);
    expect((await fetch(link.url)).status).toBe(404); // revoked

    // One revoked in another tab: revoking it here is done, not an error the dialog cannot leave.
    const second = (await (await fetch(`${fx.base}/api/files/${file.id}/shares`, { method: 'POST', headers: { ...me.auth, 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string; url: string };
    await page.reload();
    await page.getByRole('button', { name: `Revoke link ${second.url}` }).waitFor(WAIT);
    expect((await fetch(`${fx.base}/api/files/${file.id}/shares/${second.id}`, { method: 'DELETE', headers: me.auth })).status).toBe(204);
    await page.getByRole('button', { name: `Revoke link ${second.url}` }).click();
    await asked.getByRole('button', { name: 'Revoke link' }).click();
    await page.getByText('That link had already been revoked.').waitFor(WAIT);
    await asked.waitFor({ ...WAIT, state: 'detached' });
    expect(native).toEqual([]);
    await page.context().close();
  });
});
