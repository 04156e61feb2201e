/**
 * A file's link pasted into a browser, once the file is private, gone or expired, answers a page
 * (it answered the JSON envelope as the whole page); scripts and <img> requests keep the JSON.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedFile, seedUser } from '../../../test/helpers/seed';

let h: TestApp;
let hidden = '';
let expired = '';

beforeAll(async () => {
  h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true' } });
  const user = await seedUser(h.deps);
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
  hidden = (await seedFile(h.deps, user.id, png, { isPublic: false })).id;
  expired = (await seedFile(h.deps, user.id, png, { expiresAt: new Date(h.deps.clock.now() - 1000) })).id;
}, 60_000);
afterAll(() => h?.close());

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const IMG = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';

test('a browser opening a private, missing or expired file\'s /i, /d or /t link gets a page saying so; other callers the JSON envelope', async () => {
  const links = [`/d/${hidden}`, `/i/${hidden}.png`, '/d/nosuchfile1', `/t/w_100/${hidden}`, `/i/${expired}`, `/d/s--AAAAAAAAAAAAAAAA/exp_9999999999/${hidden}.png`];
  for (const path of links) {
    const page = await h.request(path, { headers: { accept: BROWSER } });
    expect([path, page.status === 404 || page.status === 410 || page.status === 403, page.headers.get('content-type')]).toEqual([path, true, 'text/html; charset=utf-8']);
    const html = await page.text();
    expect(html).toContain('<title>');
    expect(html).not.toContain('"error":');
    for (const accept of [IMG, '*/*', 'application/json']) {
      const json = await h.request(path, { headers: { accept } });
      expect([path, accept, json.headers.get('content-type')]).toEqual([path, accept, 'application/json; charset=utf-8']);
      expect(((await json.json()) as { error: string }).error).toBeString();
    }
  }
});
