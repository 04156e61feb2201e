import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { flat, quadrants, RED } from '../../../test/helpers/images';
import { seedFile, seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { paletteOf } from './info';

interface Info { width: number | null; height: number | null; orientation: number | null; format: string | null; dominant_color: string | null; palette: { color: string; share: number }[]; animated: boolean; has_alpha: boolean | null }

describe.each(DB_BACKENDS)('GET /api/files/:id/info (%s)', (db) => {
  let app: TestApp;
  let user: SeededUser;
  beforeAll(async () => {
    app = await makeTestApp({ db });
    user = await seedUser(app.deps);
  }, 60_000);
  afterAll(async () => app?.close());
  const info = async (id: string, key = user.key) => {
    const res = await app.request(`/api/files/${id}/info`, { headers: { 'x-api-key': key } });
    return { status: res.status, body: (await res.json()) as Info };
  };

  test('an EXIF-rotated JPEG reports its displayed size and orientation', async () => {
    // Stored 300×100, orientation 6 (turn 90° clockwise to display): displayed 100×300.
    const jpeg = await flat(300, 100, RED).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const f = await seedFile(app.deps, user.id, jpeg, { contentType: 'image/jpeg' });
    const { status, body } = await info(f.id);
    expect(status).toBe(200);
    expect(body).toMatchObject({ format: 'jpeg', width: 100, height: 300, orientation: 6, animated: false });
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(body.dominant_color!.slice(i, i + 2), 16));
    expect(Math.abs(r! - RED[0]) + Math.abs(g! - RED[1]) + Math.abs(b! - RED[2])).toBeLessThan(30);
  });

  test('a four-colour PNG gets four dominant colours of about a quarter each', async () => {
    const png = await quadrants(200, 120).png().toBuffer();
    const f = await seedFile(app.deps, user.id, png);
    const { body } = await info(f.id);
    expect(body).toMatchObject({ format: 'png', width: 200, height: 120, orientation: null });
    // The shrink blends a few pixels along the quadrant edges: four groups of about a quarter each, anything else tiny.
    for (const p of body.palette.slice(0, 4)) expect(Math.abs(p.share - 0.25)).toBeLessThan(0.05);
    for (const p of body.palette.slice(4)) expect(p.share).toBeLessThan(0.05);
  });

  test('another account\'s file is 404; a non-image has the stored size only', async () => {
    const other = await seedUser(app.deps);
    const png = await quadrants(20, 20).png().toBuffer();
    const f = await seedFile(app.deps, user.id, png);
    expect((await info(f.id, other.key)).status).toBe(404);
    const txt = await seedFile(app.deps, user.id, Buffer.from('hello'), { contentType: 'text/plain' });
    expect((await info(txt.id)).body).toMatchObject({ format: null, width: null, palette: [] });
  });
});

test('paletteOf ignores transparent pixels', async () => {
  const { data, info } = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0 } } })
    .composite([{ input: { create: { width: 5, height: 10, channels: 4, background: { r: 0, g: 255, b: 0, alpha: 1 } } }, left: 0, top: 0 }])
    .raw().toBuffer({ resolveWithObject: true });
  expect(paletteOf(data, info.channels)).toEqual([{ color: '#00ff00', share: 1 }]);
});
