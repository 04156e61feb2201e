/**
 * Layers over real HTTP (#24): an image layer only from the same account (another account's
 * file and a missing id answer the same 400), the layer's identity in the derivative key and
 * a deleted layer never served from the cache, named watermarks in the settings, a forced
 * watermark on every unsigned render (public /i and /d then 403, signed URLs unforced, and the
 * delivery fast path's memo voided at once), and text drawn with the bundled font.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';

const SECRET = 'overlay-e2e-signing-secret-0123456789abcdef';

describe('image and text layers over HTTP', () => {
  let srv: RunningServer;
  let owner: Record<string, string>;
  let other: Record<string, string>;
  let base: string;
  let logo: string;
  let logo2: string;
  let foreign: string;

  async function upload(auth: Record<string, string>, bytes: Buffer, query = ''): Promise<string> {
    const res = await fetch(`${srv.url}/api/files${query}`, { method: 'POST', body: new Uint8Array(bytes), headers: { ...auth, 'content-type': 'image/png' } });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { file: { id: string } }).file.id;
  }
  const get = (path: string, init?: RequestInit) => fetch(`${srv.url}${path}`, init);
  /** RGB of one pixel of an image answer. */
  async function pixel(res: Response, x: number, y: number): Promise<number[]> {
    expect(res.status).toBe(200);
    const { data } = await sharp(Buffer.from(await res.arrayBuffer())).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return [...data];
  }
  const settings = async (body: Record<string, unknown>) =>
    get('/api/settings', { method: 'PATCH', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', SIGNING_SECRETS: SECRET } });
    owner = { 'x-api-key': srv.bootstrap?.api_key ?? '' };
    const reg = await fetch(`${srv.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `other-${Date.now().toString(36)}@example.com`, password: 'correct horse 1' }),
    });
    expect(reg.status).toBe(201);
    other = { authorization: `Bearer ${((await reg.json()) as { session: { access_token: string } }).session.access_token}` };
    base = await upload(owner, await sharp({ create: { width: 400, height: 300, channels: 3, background: '#2050a0' } }).png().toBuffer());
    logo = await upload(owner, await sharp({ create: { width: 100, height: 50, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }).png().toBuffer());
    logo2 = await upload(owner, await sharp({ create: { width: 100, height: 50, channels: 4, background: { r: 0, g: 255, b: 0, alpha: 1 } } }).png().toBuffer());
    foreign = await upload(other, await sharp({ create: { width: 100, height: 50, channels: 4, background: { r: 255, g: 255, b: 0, alpha: 1 } } }).png().toBuffer());
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
  });

  test('a layer of the same account is drawn; another account\'s file or an unknown id is the same 400', async () => {
    const res = await get(`/t/l_${logo},lg_south_east,lx_10,ly_10,f_png/${base}`);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(await pixel(res, 400 - 10 - 50, 300 - 10 - 25)).toEqual([255, 0, 0]);
    const errorOf = async (id: string) => {
      const r = await get(`/t/l_${id},f_png/${base}`);
      expect(r.status).toBe(400);
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error).toBe('INVALID_TRANSFORMATION');
      return body.message.replace(id, '<id>');
    };
    const foreignMessage = await errorOf(foreign);
    expect(foreignMessage).toContain('same account');
    expect(await errorOf('zzzzzzzzzzzz')).toBe(foreignMessage);
    // The other account cannot use the owner's private logo on its own image either.
    const theirs = await upload(other, await sharp({ create: { width: 50, height: 50, channels: 3, background: '#000' } }).png().toBuffer());
    expect((await get(`/t/l_${logo},f_png/${theirs}`)).status).toBe(400);
  });

  test('an unsigned l_ cannot draw a private file (anyone could read it that way); a signed URL or a named watermark may; wm:constructor is an unknown name', async () => {
    const secret = await upload(owner, await sharp({ create: { width: 100, height: 50, channels: 4, background: { r: 255, g: 0, b: 255, alpha: 1 } } }).png().toBuffer(), '?is_public=false');
    const leak = await get(`/t/l_${secret},lw_1,f_png/${base}`);
    expect(leak.status).toBe(400);
    const refusal = (await leak.json()) as { error: string; message: string };
    expect(refusal.error).toBe('INVALID_TRANSFORMATION');
    expect(refusal.message).toContain('public image');
    const signed = await get(`/api/files/${base}/signed-url`, { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ transformations: `l_${secret},lw_1,f_png` }) });
    expect(signed.status).toBe(200);
    expect(await pixel(await get(new URL(((await signed.json()) as { url: string }).url).pathname), 200, 150)).toEqual([255, 0, 255]);
    const saved = await settings({ watermarks: { hidden: `l_${secret},lw_1` } });
    expect(saved.status).toBe(200);
    await saved.arrayBuffer();
    expect(await pixel(await get(`/t/l_wm:hidden,f_png/${base}`), 200, 150)).toEqual([255, 0, 255]);
    for (const name of ['constructor', 'toString', '__proto__']) {
      const r = await get(`/t/l_wm:${name},f_png/${base}`);
      expect({ name, status: r.status }).toEqual({ name, status: 400 });
      await r.arrayBuffer();
      const force = await settings({ force_watermark: name });
      expect({ name, status: force.status }).toEqual({ name, status: 400 });
      await force.arrayBuffer();
    }
  });

  test('the layer file is part of the cache key; a deleted layer is never served from the cache', async () => {
    const url = `/t/l_${logo2},lg_north_west,lw_0.5,f_png/${base}`;
    const first = await get(url);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(await pixel(first, 5, 5)).toEqual([0, 255, 0]);
    const again = await get(url);
    expect(again.headers.get('x-cache')).toBe('HIT-MEMORY');
    await again.arrayBuffer();
    // The same placement with another file is another derivative.
    const red = await get(`/t/l_${logo},lg_north_west,lw_0.5,f_png/${base}`);
    expect(red.headers.get('etag')).not.toBe(first.headers.get('etag'));
    await red.arrayBuffer();
    const del = await get(`/api/files/${logo2}`, { method: 'DELETE', headers: owner });
    expect([200, 204]).toContain(del.status);
    await del.arrayBuffer();
    const after = await get(url);
    expect(after.status).toBe(400);
    expect(((await after.json()) as { error: string }).error).toBe('INVALID_TRANSFORMATION');
  });

  test('named watermarks: checked when saved, used by l_wm:<name>, URL keys override the spec', async () => {
    const bad = await settings({ watermarks: { brand: `l_${foreign}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
    const notLayer = await settings({ watermarks: { brand: `l_${logo},w_100` } });
    expect(notLayer.status).toBe(400);
    await notLayer.arrayBuffer();
    const unknownForce = await settings({ force_watermark: 'nope' });
    expect(unknownForce.status).toBe(400);
    await unknownForce.arrayBuffer();

    const ok = await settings({ watermarks: { brand: `lw_0.25,lg_north_west,l_${logo}` } });
    expect(ok.status).toBe(200);
    const saved = (await ok.json()) as { watermarks: Record<string, string>; force_watermark: string | null };
    expect(saved.watermarks).toEqual({ brand: `l_${logo},lg_north_west,lw_0.25` });
    expect(saved.force_watermark).toBeNull();
    expect(await pixel(await get(`/t/l_wm:brand,f_png/${base}`), 3, 3)).toEqual([255, 0, 0]);
    // lg_ in the URL moves it: the north-west corner is the base again.
    const moved = await get(`/t/l_wm:brand,lg_south_east,f_png/${base}`);
    expect(await pixel(moved, 3, 3)).toEqual([32, 80, 160]);
    expect((await get(`/t/l_wm:other,f_png/${base}`)).status).toBe(400);
    // A `__proto__` name is refused by name; it was dropped unseen and the map replaced with {} (200).
    for (const body of [`{"watermarks":{"__proto__":"l_${logo}"}}`, '{"watermarks":["l_x"]}', '{"watermarks":{"brand":5}}']) {
      const refused = await get('/api/settings', { method: 'PATCH', headers: { ...owner, 'content-type': 'application/json' }, body });
      const out = (await refused.json()) as { error: string; details: { fields: { path: string }[] } };
      expect({ body, status: refused.status, error: out.error, path: out.details.fields[0]?.path.split('/')[1] }).toEqual({ body, status: 400, error: 'VALIDATION_ERROR', path: 'watermarks' });
    }
    const kept = (await (await get('/api/settings', { headers: owner })).json()) as { watermarks: Record<string, string> };
    expect(Object.keys(kept.watermarks)).toEqual(['brand']);
  });

  test('a forced watermark marks every unsigned render at once; /i and /d are refused; signed URLs are not forced', async () => {
    const url = `/t/w_400,f_png/${base}`;
    // Warm the fast path's memo for the unmarked render first.
    for (let i = 0; i < 2; i++) expect(await pixel(await get(url), 3, 3)).toEqual([32, 80, 160]);
    expect((await get(`/i/${base}`)).status).toBe(200);

    const forced = await settings({ force_watermark: 'brand' });
    expect(forced.status).toBe(200);
    expect(((await forced.json()) as { force_watermark: string }).force_watermark).toBe('brand');
    expect(await pixel(await get(url), 3, 3)).toEqual([255, 0, 0]);
    // Text and explicit layers get it too, on top.
    expect(await pixel(await get(`/t/txt_x,f_png/${base}`), 3, 3)).toEqual([255, 0, 0]);
    for (const path of [`/i/${base}`, `/d/${base}`]) {
      const res = await get(path);
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('FORBIDDEN');
      expect(body.message).toContain('watermark');
    }
    // The owner's signed URL is the owner's own choice: unmarked.
    const signed = await get(`/api/files/${base}/signed-url`, { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ transformations: 'w_400,f_png' }) });
    expect(signed.status).toBe(200);
    const signedUrl = new URL(((await signed.json()) as { url: string }).url);
    expect(await pixel(await get(signedUrl.pathname), 3, 3)).toEqual([32, 80, 160]);

    // The watermark's image cannot be deleted from under it (every public image would break).
    const refused = await get(`/api/files/${logo}`, { method: 'DELETE', headers: owner });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { message: string }).message).toContain('"brand"');
    const bulk = await get('/api/files/bulk-delete', { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ ids: [logo] }) });
    expect(await bulk.json()).toEqual({ deleted: 0, errors: [{ id: logo, error: 'CONFLICT' }] });
    // Nor given an expiry; and an image that expires cannot become a watermark.
    const expiring = await get(`/api/files/${logo}`, { method: 'PATCH', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ expires_at: new Date(Date.now() + 3_600_000).toISOString() }) });
    expect(expiring.status).toBe(409);
    expect(((await expiring.json()) as { message: string }).message).toContain('before giving it an expiry');
    const soon = await upload(owner, await sharp({ create: { width: 60, height: 30, channels: 3, background: '#ff0000' } }).png().toBuffer(), `?expires_in=3600`);
    const expiringMark = await settings({ watermarks: { brand: `l_${logo},lg_north_west,lw_0.25`, soon: `l_${soon}` } });
    expect(expiringMark.status).toBe(400);
    expect(((await expiringMark.json()) as { message: string }).message).toContain('which expires');
    // One that is gone anyway (an administrator removed it): visitors get a 403 that says why, not a 400 blaming their URL.
    const logo3 = await upload(owner, await sharp({ create: { width: 60, height: 30, channels: 3, background: '#ff0000' } }).png().toBuffer());
    const gone = await settings({ watermarks: { brand: `l_${logo},lg_north_west,lw_0.25`, brief: `l_${logo3}` }, force_watermark: 'brief' });
    expect(gone.status).toBe(200);
    await gone.arrayBuffer();
    const removed = await get(`/api/admin/files/${logo3}`, { method: 'DELETE', headers: owner });
    expect(removed.status).toBe(204);
    const answer = await get(`/t/w_300,f_png/${base}`);
    expect(answer.status).toBe(403);
    const why = (await answer.json()) as { error: string; message: string };
    expect([why.error, why.message]).toEqual(['FORBIDDEN', expect.stringContaining('"brief", whose image is no longer available')]);

    const off = await settings({ force_watermark: null });
    expect(off.status).toBe(200);
    await off.arrayBuffer();
    expect(await pixel(await get(url), 3, 3)).toEqual([32, 80, 160]);
    const original = await get(`/i/${base}`);
    expect(original.status).toBe(200);
    await original.arrayBuffer();
  });

  test('text drawn with the bundled font, its text part of the canonical key; bad text is a 400', async () => {
    const res = await get(`/t/txt_Hello%2520World,ts_40,tc_red,tb_white,tg_north,f_png/${base}`);
    expect(res.status).toBe(200);
    const { data, info } = await sharp(Buffer.from(await res.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    let redPixels = 0;
    for (let i = 0; i < data.length; i += info.channels) if ((data[i] as number) > 200 && (data[i + 1] as number) < 80 && (data[i + 2] as number) < 80) redPixels++;
    expect(redPixels).toBeGreaterThan(200);
    // `,` `/` `%` in the text, encoded twice as documented, in a single step, a chain's step and a signed
    // URL (the router decoded them a third time: the comma split the step, 400 "World").
    for (const path of [`/t/txt_Hello%252CWorld,ts_40,tc_red,f_png/${base}`, `/t/txt_100%2525,ts_40,tc_red,f_png/${base}`, `/t/w_300/txt_a%252Fb,ts_40,tc_red,f_png/${base}`]) {
      const r = await get(path);
      expect(r.status, `${path}: ${r.status === 200 ? '' : await r.text()}`).toBe(200);
    }
    const signed = await get(`/api/files/${base}/signed-url`, { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ transformations: 'txt_Hello%252CWorld,f_png' }) });
    expect(signed.status).toBe(200);
    const { url } = (await signed.json()) as { url: string };
    expect(url).toContain('txt_Hello%252CWorld');
    const viaSigned = await fetch(url);
    expect(viaSigned.status, url).toBe(200);
    expect(viaSigned.headers.get('content-type')).toBe('image/png');
    // An encoded "/" is not a step separator.
    expect((await get(`/t/w_100%2Fw_50/${base}`)).status).toBe(400);
    for (const bad of ['txt_a%250Ab', `txt_${'x'.repeat(101)}`, 'txt_%E4%B8%AD', 'ts_40']) {
      const r = await get(`/t/${bad},f_png/${base}`);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe('INVALID_TRANSFORMATION');
    }
  });
});
