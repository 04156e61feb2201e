/**
 * The web app's sharing parts in Chromium (issue #25): on a file's details page a person sets
 * tags and metadata, creates a password link with a view limit, opens it in another tab (the
 * password form, then the file's page), sees the counter move and revokes it; the library filters
 * by tag. Accessibility of the details page with the new panel is checked with axe.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { axeProblems, launch, shot } from '../webapp/browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 30_000 };

describe('sharing in the web app', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let base: string;
  let bearer: string;

  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_REGISTER: '100/1h' } });
    base = `http://localhost:${server.port}`;
    browser = await launch();
    const res = await createClient(server.url)('POST', '/api/auth/register', { email: `share-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
    expect(res.status).toBe(201);
    bearer = (res.body as { session: { access_token: string } }).session.access_token;
    const { map } = cookiesOf(res.headers);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function upload(name: string, query = ''): Promise<string> {
    const bytes = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#2a7' } }).png().toBuffer();
    const res = await fetch(`${server.url}/api/files${query}`, {
      method: 'POST', body: new Uint8Array(bytes), headers: { authorization: `Bearer ${bearer}`, 'content-type': 'image/png', 'x-file-name': name },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { file: { id: string } }).file.id;
  }

  test('tags and metadata, a password link with a view limit, revocation, the library tag filter', async () => {
    const id = await upload('tagged.png', '?is_public=false');
    await upload('other.png');
    const page = await context.newPage();
    await page.goto(`${base}/files/${id}`);
    await page.getByLabel('Tags (comma-separated)').fill('Holiday, beach');
    // A line that is not key=value is explained on the page (it showed the API's key rule for "bad line").
    await page.getByLabel(/Custom metadata/).fill('camera=x100v\nbad line');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Custom metadata: “bad line” is not a key=value line' }).waitFor(WAIT);
    await page.getByLabel(/Custom metadata/).fill('camera=x100v\nthe_name_of_the_project_this_photo_is_for=launch');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor(WAIT);
    await page.locator('.facts a.tag', { hasText: 'holiday' }).waitFor(WAIT);
    expect(await page.locator('.facts dt', { hasText: 'camera' }).count()).toBe(1);
    // A private file offers none of its own URLs to copy (they answer 404 to everyone) and says what works instead.
    expect(await page.getByLabel('Original URL').count()).toBe(0);
    await page.getByText('Private: its ordinary links open for no one.').waitFor(WAIT);
    // On a phone a long metadata key wraps in its column; the values keep their width (one letter per line before).
    await page.setViewportSize({ width: 375, height: 740 });
    const value = await page.locator('.facts dd', { hasText: 'x100v' }).boundingBox();
    expect(value!.width).toBeGreaterThan(120);
    // Copy says what it did on a phone too (the feedback was hidden under 720 px).
    await page.locator('.builder').getByRole('button', { name: 'Copy' }).click();
    await page.locator('#tx-url-state').filter({ hasText: /Copied|Selected/ }).waitFor({ state: 'visible', ...WAIT });
    await page.setViewportSize({ width: 1280, height: 800 });

    // A password link limited to one view.
    const panel = page.locator('section', { has: page.getByRole('heading', { name: 'Share links' }) });
    await panel.getByLabel('Password (optional)').fill('open sesame');
    await panel.getByLabel('Maximum views (optional)').fill('1');
    await panel.getByRole('button', { name: 'Create link' }).click();
    await panel.getByText('Share link created.').waitFor(WAIT);
    const item = panel.locator('.share-item').first();
    await item.getByText('0 of 1 views').waitFor(WAIT);
    const url = await item.locator('input').inputValue();
    expect(url).toMatch(/\/s\/[A-Za-z0-9]{22}$/);
    expect(await axeProblems(page)).toEqual([]);
    await shot(page, 'details-shares');

    // Someone opens it: the password form, then the file's page with the picture, which says this was the one view.
    const visitorContext = await browser.newContext(); // axe needs a page of a context
    const visitor = await visitorContext.newPage();
    const link = `${base}${new URL(url).pathname}`;
    await visitor.goto(link);
    // The form passes axe in dark mode too (its button's white text was 3.5:1 on the dark scheme's blue).
    await visitor.emulateMedia({ colorScheme: 'dark' });
    expect(await axeProblems(visitor)).toEqual([]);
    await visitor.emulateMedia({ colorScheme: 'light' });
    await visitor.getByLabel('Password').fill('open sesame');
    await Promise.all([visitor.waitForURL(link, WAIT), visitor.getByRole('button', { name: 'Open' }).click()]);
    await visitor.getByRole('heading', { name: 'tagged.png' }).waitFor(WAIT);
    await visitor.waitForFunction(() => {
      const img = document.querySelector('main img') as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth > 0; // srcset scales naturalWidth by the candidate's density
    }, undefined, WAIT);
    expect((await visitor.locator('main img').boundingBox())!.width).toBe(120); // its own size (it was blown up to 864 px)
    // Transparent parts would show as a checkerboard, not as the page's colour (light and dark drew two different pictures).
    expect(await visitor.locator('main img').evaluate((el) => getComputedStyle(el).backgroundImage)).toContain('conic-gradient');
    await visitor.getByText('This was the last view this link allows').waitFor(WAIT);
    const download = await visitor.getByRole('link', { name: 'Download' }).getAttribute('href');
    expect((await visitor.request.get(download!)).status()).toBe(200);
    await shot(visitor, 'share-page');
    // A reload shows the page again, asking nothing and costing nothing (it resent the form, or found the link spent).
    await visitor.reload();
    await visitor.getByRole('heading', { name: 'tagged.png' }).waitFor(WAIT);
    // The one view is used: someone else reads that the link is spent, and so does a script with the password.
    const stranger = await browser.newPage();
    await stranger.goto(link);
    await stranger.getByRole('heading', { name: 'Link no longer available' }).waitFor(WAIT);
    await stranger.close();
    const again = await visitor.request.get(link, { headers: { 'x-share-password': 'open sesame' } });
    expect(again.status()).toBe(410);
    await visitorContext.close();

    await page.reload();
    const after = page.locator('.share-item').first();
    await after.getByText('1 of 1 views').waitFor(WAIT);
    await after.getByText('Out of views').waitFor(WAIT);
    await after.getByRole('button', { name: /Revoke/ }).click();
    await page.getByRole('dialog', { name: 'Revoke this link?' }).getByRole('button', { name: 'Revoke link' }).click();
    await page.getByText('Link revoked.').waitFor(WAIT);
    expect(await page.locator('.share-item').count()).toBe(0);
    expect((await page.request.get(`${base}${new URL(url).pathname}`)).status()).toBe(404);

    // The library: the tag link narrows to the tagged file.
    await page.locator('.facts a.tag', { hasText: 'beach' }).click();
    await page.getByRole('status').filter({ hasText: /^1 file$/ }).waitFor(WAIT);
    expect(await page.locator('.cell .name').allTextContents()).toEqual(['tagged.png']);
    await page.getByPlaceholder('Tags (all of)').fill('beach, nothing');
    await page.getByPlaceholder('Tags (all of)').press('Enter');
    await page.getByRole('status').filter({ hasText: /^0 files$/ }).waitFor(WAIT);
    await page.close();
  });

  test('a link on a file that expires says it ends with the file, unless its own expiry comes first', async () => {
    const id = await upload('for-a-week.png', '?expires_in=604800');
    const page = await context.newPage();
    await page.goto(`${base}/files/${id}`);
    const panel = page.locator('section', { has: page.getByRole('heading', { name: 'Share links' }) });
    const ttl = panel.getByLabel('Expires');
    await ttl.waitFor(WAIT);
    expect(await ttl.locator('option:checked').textContent()).toBe('With the file');
    await panel.getByRole('button', { name: 'Create link' }).click();
    await panel.locator('.share-item').first().getByText(/^ends with the file, /).waitFor(WAIT);
    await ttl.selectOption({ label: 'In 1 day' });
    await panel.getByRole('button', { name: 'Create link' }).click();
    await panel.locator('.share-item').getByText(/^expires /).waitFor(WAIT);
    expect(await panel.locator('.share-item').getByText(/^ends with the file, /).count()).toBe(1);
    await page.close();
  });
});
