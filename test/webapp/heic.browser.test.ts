/**
 * A phone's HEIC photo in the app (Chromium cannot show HEIC): its library tile is the server's
 * rendering, as for any image, and its details page previews a rendering too, public or private
 * (it showed the original, a broken image in every browser but Safari).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { createClient } from '../helpers/client';
import { hevcHeic } from '../helpers/heic';
import { type RunningServer } from '../helpers/server';
import { emailMaker, signUpIn, startAdminFixture } from './admin-fixture';
import { shot } from './browser';

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

/** Width and height the browser decoded for the first image matching `selector`, once it has. */
async function shown(page: Page, selector: string): Promise<[number, number]> {
  const img = page.locator(selector).first();
  await img.waitFor(WAIT);
  await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle(), WAIT);
  return img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]);
}

test('an HEIC photo has a thumbnail in the library and a preview on its page, public or private', async () => {
  const me = await signUpIn({ server, browser, base, api, adminKey }, adminId, email('heic'));
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
