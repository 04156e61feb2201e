/**
 * Embed pages in a real browser (issue #25.1): Chromium opens `/v/<id>` of a public image and
 * finds the OpenGraph and Twitter tags, the preview URL they name works (200, a JPEG of the
 * stated size), the oEmbed link answers JSON, the responsive image loads under the page's CSP,
 * and a hostile file name stays text. A private file's page, and any page of an account that
 * turned embeds off, is 404. A video's page carries `og:video` and a poster preview.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { h264Mp4 } from '../helpers/videos';
import { startServer, type RunningServer } from '../helpers/server';
import { launch, shot } from '../webapp/browser';

// No slash or backslash: names lose path separators at upload. The rest must stay text everywhere on the page.
const HOSTILE = '<img src=x onerror=alert(1)> "beach" & sun\'s <b>.png';

describe('embed page /v/<id>', () => {
  let srv: RunningServer;
  let browser: Browser;
  let page: Page;
  let key: string;
  const auth = () => ({ authorization: `Bearer ${key}` });

  async function upload(bytes: Buffer, type: string, query = ''): Promise<{ id: string; view_url: string; is_public: boolean }> {
    const res = await fetch(`${srv.url}/api/files${query}`, { method: 'POST', body: new Uint8Array(bytes), headers: { ...auth(), 'content-type': type, 'x-file-name': encodeURIComponent(HOSTILE) } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { file: { id: string; view_url: string; is_public: boolean } }).file;
  }
  const settings = async (body: Record<string, unknown>) => {
    const res = await fetch(`${srv.url}/api/settings`, { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  };
  const metaOf = (selector: string) => page.locator(selector).first().getAttribute('content');

  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
    key = srv.bootstrap!.api_key;
    // Every URL of this account is built on its base: the address the browser reaches.
    await settings({ public_url_base: srv.url });
    browser = await launch();
    page = await browser.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  test('a public image: OpenGraph/Twitter tags, a working 1200-wide preview, oEmbed, srcset image, download button', async () => {
    const png = await sharp({ create: { width: 1600, height: 1000, channels: 3, background: { r: 20, g: 140, b: 90 } } }).png().toBuffer();
    const f = await upload(png, 'image/png');
    expect(f.view_url).toBe(`${srv.url}/v/${f.id}`);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const res = await page.goto(f.view_url);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toContain("default-src 'none'");

    expect(await metaOf('meta[property="og:title"]')).toBe(HOSTILE);
    expect(await page.title()).toBe(`${HOSTILE} · Pictor`);
    expect(await page.locator('h1').textContent()).toBe(HOSTILE);
    expect(await page.locator('script').count()).toBe(0);
    expect(await metaOf('meta[property="og:url"]')).toBe(f.view_url);
    expect(await metaOf('meta[property="og:type"]')).toBe('website');
    expect(await metaOf('meta[name="twitter:card"]')).toBe('summary_large_image');
    expect(await metaOf('meta[property="og:description"]')).toContain('1600×1000');

    const preview = await metaOf('meta[property="og:image"]');
    expect(preview).toBe(`${srv.url}/t/w_1200,c_limit,f_jpg/${f.id}`);
    expect(await metaOf('meta[name="twitter:image"]')).toBe(preview);
    expect(await metaOf('meta[property="og:image:width"]')).toBe('1200');
    expect(await metaOf('meta[property="og:image:height"]')).toBe('750');
    const image = await page.request.get(preview!);
    expect(image.status()).toBe(200);
    expect(image.headers()['content-type']).toBe('image/jpeg');
    const dims = await sharp(await image.body()).metadata();
    expect([dims.format, dims.width, dims.height]).toEqual(['jpeg', 1200, 750]);

    const oembedHref = await page.locator('link[rel="alternate"][type="application/json+oembed"]').getAttribute('href');
    expect(oembedHref).toBe(`${srv.url}/api/oembed?url=${encodeURIComponent(f.view_url)}&format=json`);
    const oembed = await (await fetch(oembedHref!)).json() as Record<string, unknown>;
    expect(oembed).toMatchObject({ version: '1.0', type: 'photo', title: HOSTILE, width: 1200, height: 750, provider_name: 'Pictor' });
    const small = await (await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(f.view_url)}&maxwidth=400`)).json() as Record<string, unknown>;
    expect(small).toMatchObject({ type: 'photo', width: 400, height: 250, url: `${srv.url}/t/w_400,c_limit,f_jpg/${f.id}` });
    expect((await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(f.view_url)}&format=xml`)).status).toBe(400);
    // A URL on another host is not one this server gives out: 404, as oEmbed asks (it answered for any host).
    const elsewhere = f.view_url.replace(new URL(f.view_url).host, 'evil.example');
    expect((await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(elsewhere)}`)).status).toBe(404);
    // Only the URLs it gives out: the ending alone matched, so another path, credentials or an extension not the file's were answered.
    const view = new URL(f.view_url);
    for (const other of [`${view.origin}/anything/else/v/${f.id}`, `${view.protocol}//user:pass@${view.host}/v/${f.id}`, `${view.origin}/i/${f.id}.exe`]) {
      expect([other, (await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(other)}`)).status]).toEqual([other, 404]);
    }
    for (const given of [`${view.origin}/i/${f.id}`, `${f.view_url}/`]) {
      expect([given, (await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(given)}`)).status]).toEqual([given, 200]);
    }

    // The picture: responsive, and actually loaded under the page's CSP.
    const img = page.locator('main img');
    const srcset = await img.getAttribute('srcset');
    expect(srcset).toContain(`/t/w_320,c_limit,f_auto/${f.id} 320w`);
    expect(srcset).toContain(`/t/w_1600,c_limit,f_auto/${f.id} 1600w`);
    expect(srcset).not.toContain('1920w'); // never wider than the original
    await page.waitForFunction(() => {
      const el = document.querySelector('main img') as HTMLImageElement | null;
      return !!el && el.complete && el.naturalWidth > 0;
    });
    const download = page.getByRole('link', { name: 'Download' });
    expect(await download.getAttribute('href')).toBe(`${srv.url}/d/${f.id}`);
    expect(dialogs).toEqual([]);
    await shot(page, 'embed-image');
  });

  test('a private file: /v and oEmbed answer 404; made public it has a page', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } }).png().toBuffer();
    const f = await upload(png, 'image/png', '?is_public=false');
    expect(f.is_public).toBe(false);
    const res = await page.goto(f.view_url);
    expect(res!.status()).toBe(404);
    // In the browser a page that says so (it was the raw JSON envelope); a script still gets the envelope.
    expect(res!.headers()['content-type']).toStartWith('text/html');
    await page.getByRole('heading', { name: 'File not found' }).waitFor({ timeout: 30_000 });
    const script = await fetch(f.view_url, { headers: { accept: 'application/json' } });
    expect([script.status, ((await script.json()) as { error: string }).error]).toEqual([404, 'NOT_FOUND']);
    expect((await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(f.view_url)}`)).status).toBe(404);
    const patched = await fetch(`${srv.url}/api/files/${f.id}`, { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ is_public: true }) });
    expect(patched.status).toBe(200);
    expect((await page.goto(f.view_url))!.status()).toBe(200);
    // A picture narrower than the page's column is shown at its own size, not blown up to the column (960 px).
    await page.waitForFunction(() => (document.querySelector('main img') as HTMLImageElement | null)?.complete === true);
    expect((await page.locator('main img').boundingBox())!.width).toBe(40);
    // A pasted link with a tracker's parameters still opens (they are ignored, as on `/i`).
    expect((await page.goto(`${f.view_url}?utm_source=chat&fbclid=x`))!.status()).toBe(200);
  });

  test('embeds_enabled=false: every page of the account is 404 until turned back on', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#996633' } }).png().toBuffer();
    const f = await upload(png, 'image/png');
    expect((await page.goto(f.view_url))!.status()).toBe(200);
    await settings({ embeds_enabled: false });
    try {
      const s = await (await fetch(`${srv.url}/api/settings`, { headers: auth() })).json() as { embeds_enabled: boolean };
      expect(s.embeds_enabled).toBe(false);
      expect((await page.goto(f.view_url))!.status()).toBe(404);
      // The file itself is still delivered: only the embed page is off.
      expect((await fetch(`${srv.url}/i/${f.id}`)).status).toBe(200);
    } finally {
      await settings({ embeds_enabled: true });
    }
    expect((await page.goto(f.view_url))!.status()).toBe(200);
  });

  test('another type (a PDF): a card and a download button, no preview image, oEmbed `link`', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const f = await upload(pdf, 'application/pdf');
    expect((await page.goto(f.view_url))!.status()).toBe(200);
    expect(await page.locator('meta[property="og:image"]').count()).toBe(0);
    expect(await metaOf('meta[name="twitter:card"]')).toBe('summary');
    expect(await page.locator('main .card').textContent()).toContain('application/pdf');
    expect(await page.getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(`${srv.url}/d/${f.id}`);
    const oembed = await (await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(f.view_url)}`)).json() as Record<string, unknown>;
    expect(oembed).toMatchObject({ type: 'link', url: f.view_url, title: HOSTILE });
  });

  test('a video: og:video, a poster preview that works, a <video> element', async () => {
    const f = await upload(await h264Mp4(), 'video/mp4');
    expect((await page.goto(f.view_url))!.status()).toBe(200);
    expect(await metaOf('meta[property="og:type"]')).toBe('video.other');
    expect(await metaOf('meta[property="og:video"]')).toBe(`${srv.url}/i/${f.id}.mp4`);
    expect(await metaOf('meta[property="og:video:type"]')).toBe('video/mp4');
    expect(await metaOf('meta[property="og:video:width"]')).toBe('640');
    const preview = await metaOf('meta[property="og:image"]');
    const image = await page.request.get(preview!);
    expect(image.status()).toBe(200);
    expect((await sharp(await image.body()).metadata()).width).toBe(640);
    expect(await page.locator('main video source').getAttribute('src')).toBe(`${srv.url}/i/${f.id}.mp4`);
    const oembed = await (await fetch(`${srv.url}/api/oembed?url=${encodeURIComponent(f.view_url)}`)).json() as { type: string; html: string };
    expect(oembed.type).toBe('video');
    expect(oembed.html).toContain('<video');
  });
});
