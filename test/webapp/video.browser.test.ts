/**
 * Videos in the web app (issue #23, "the details page plays renditions and shows the poster; the
 * transformation builder covers video"): an H.264/AAC MP4 made here by the bundled ffmpeg is
 * uploaded; its details page shows the poster frame rendered by `/t`, a player that gets a
 * playable source, the probed duration/codecs/frame rate, and plays the lighter MP4 rendition
 * after "Preparing video…"; the builder composes `w_320` MP4 rendition whose preview plays.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { cookiesOf, createClient } from '../helpers/client';
import { startServer, type RunningServer } from '../helpers/server';
import { h264Mp4 } from '../helpers/videos';
import { axeProblems, launch, shot } from './browser';

setDefaultTimeout(180_000);
const WAIT = { timeout: 60_000 };

let server: RunningServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  server = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
  base = `http://localhost:${server.port}`;
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Waits until the <video> matched by `selector` has loaded its metadata (a decodable source). */
const playable = (page: Page, selector: string) =>
  page.waitForFunction((sel) => {
    const v = document.querySelector<HTMLVideoElement>(sel);
    return !!v && v.readyState >= 1 && v.videoWidth > 0;
  }, selector, WAIT);

describe('video in the web app', () => {
  test('details: poster, player, probed facts, rendition after "Preparing"; builder: a w_320 MP4 rendition previews', async () => {
    const api = createClient(server.url);
    const reg = await api('POST', '/api/auth/register', { email: `video-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' });
    expect(reg.status).toBe(201);
    const { header, map } = cookiesOf(reg.headers);
    const up = await fetch(`${server.url}/api/files`, {
      method: 'POST',
      headers: { cookie: header, 'x-csrf-token': map.pictor_csrf!, 'content-type': 'video/mp4', 'x-file-name': 'clip.mp4' },
      body: new Uint8Array(await h264Mp4()),
    });
    const body = (await up.json()) as { file: { id: string; is_public: boolean } };
    expect(up.status).toBe(201);
    expect(body.file.is_public).toBe(true);
    const id = body.file.id;

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(Object.entries(map).map(([name, value]) => ({ name, value, url: name === 'pictor_refresh' ? `${base}/api/auth` : base })));
    const page = await context.newPage();
    // In the library, the video's tile is its poster frame (an image `/t` renders), not a label.
    await page.goto(`${base}/`);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.thumb img:not(.placeholder)')]
      .some((i) => i.complete && i.naturalWidth > 0 && i.src.includes('/t/w_200,h_200,c_fill,g_auto,f_auto/')), null, WAIT);
    // Its tile carries a play mark (it looked like a picture).
    expect(await page.locator('.cell', { hasText: 'clip.mp4' }).locator('.badge-play').count()).toBe(1);
    await page.goto(`${base}/files/${id}`);
    await page.getByRole('heading', { name: 'clip.mp4' }).waitFor(WAIT);

    // The poster frame is an image `/t` rendered from the video.
    const poster = page.getByRole('img', { name: 'Poster frame of clip.mp4' });
    await poster.waitFor(WAIT);
    expect(await poster.getAttribute('src')).toBe(`/t/w_320,f_auto/${id}`);
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.poster img')?.naturalWidth ?? 0) > 0, null, WAIT);
    expect(await poster.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([320, 180]);

    // The player gets a source it can play (the original where the browser decodes it, else a rendition).
    await page.locator('.video-view video').waitFor(WAIT);
    await playable(page, '.video-view video');
    expect(await page.locator('.video-view video').getAttribute('poster')).toBe(`/t/w_1280,f_auto/${id}`);

    // Probed facts from /metadata.
    const facts = page.locator('.facts-card');
    await facts.getByText('3.0 s').waitFor(WAIT);
    await facts.getByText('640 × 360 px · h264 · 25 fps').waitFor(WAIT);
    await facts.getByText('aac', { exact: true }).waitFor(WAIT);
    // The container in a word, not ffprobe's family of names (`mov,mp4,m4a,3gp,3g2,mj2`).
    await facts.getByText('MP4', { exact: true }).waitFor(WAIT);

    // On a phone the version picker stays inside its card (its long option made the page 377 px wide in 375).
    await page.setViewportSize({ width: 375, height: 740 });
    const picker = (await page.locator('#video-version').boundingBox())!;
    const card = (await page.locator('.video-view').boundingBox())!;
    expect([picker.x >= card.x, picker.x + picker.width <= card.x + card.width]).toEqual([true, true]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 800 });

    // The lighter version: a rendition made by a queue job, "Preparing" until it exists, then played.
    await page.locator('#video-version').selectOption('mp4');
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('.video-view video');
      return !!v && v.src.endsWith('.mp4') && v.src.includes('/t/w_1280,c_limit/') && v.readyState >= 1;
    }, null, WAIT);
    expect(await page.locator('.video-view').getByText('Preparing video…').count()).toBe(0);
    expect(await page.locator('.video-view video').evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([640, 360]);
    await shot(page, 'video-details');

    // The builder: rendition mode, 320 px wide, trimmed, muted.
    const builder = page.locator('.builder');
    await builder.getByLabel('a rendition (video)').check();
    await builder.getByLabel('Width').fill('320');
    await builder.getByLabel('End at (s)').fill('2');
    await builder.getByLabel('no audio').check();
    const url = `${base}/t/w_320,eo_2,ac_none/${id}.mp4`;
    expect(await page.locator('#vx-url').inputValue()).toBe(url);
    await builder.getByText('Preparing video…').or(builder.locator('video')).first().waitFor(WAIT);
    await playable(page, '.builder video');
    expect(await page.locator('.builder video').evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight, Math.round(v.duration)])).toEqual([320, 180, 2]);
    await builder.getByText('Preview: 320 × 180 px, 2.0 s').waitFor(WAIT);
    await builder.scrollIntoViewIfNeeded();
    await shot(page, 'video-builder-rendition');
    // The composed URL is what the server serves: the finished rendition, by Range.
    const ranged = await fetch(url, { headers: { range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);

    // Poster mode: image keys plus the frame time.
    await builder.getByLabel('a poster frame (image)').check();
    await builder.getByLabel('Frame at (s)').fill('1');
    expect(await page.locator('#vx-url').inputValue()).toBe(`${base}/t/w_320,f_auto,so_1/${id}`);
    await builder.getByText('Preview: 320 × 180 px', { exact: true }).waitFor(WAIT);

    await shot(page, 'video-builder-poster');
    expect(await axeProblems(page)).toEqual([]);
    await context.close();
  });
});
