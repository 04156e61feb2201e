/**
 * HEVC-coded HEIC, the photos phones take: sharp's prebuilt libvips cannot decode HEVC, so such
 * a photo was stored but every transformation answered 422 and it had no blurhash, colour or
 * palette. Decoded off-thread by libheif's WebAssembly build (platform/heic.ts), it renders like
 * any image, in the colours of its profile (an iPhone's Display P3), on the real routes.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../helpers/app';
import { hevcHeic } from '../helpers/heic';
import { seedUser, type SeededUser } from '../helpers/seed';

let h: TestApp;
let u: SeededUser;
let heic: Buffer;

beforeAll(async () => {
  h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true' } });
  u = await seedUser(h.deps);
  // A photo whose numbers are (200, 100, 50) in Display P3, an iPhone's profile (taken from a PNG sharp tags with it).
  const p3 = (await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).withIccProfile('p3').png().toBuffer());
  heic = await hevcHeic({ width: 64, height: 48, rgb: 0xc86432, icc: (await sharp(p3).metadata()).icc });
}, 120_000);
afterAll(() => h?.close());

async function upload(body: Buffer, type: string, name: string): Promise<string> {
  const res = await h.request('/api/files', { method: 'POST', body: new Uint8Array(body), headers: { authorization: `Bearer ${u.key}`, 'content-type': type, 'x-file-name': name } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
}
/** A pixel as shown: in sRGB, through the image's own profile. */
const centre = async (png: Buffer) => Array.from((await sharp(png).extract({ left: 12, top: 9, width: 1, height: 1 }).withIccProfile('srgb').raw().toBuffer()).subarray(0, 3));

test('an HEVC-coded HEIC is transformed like any image, in its profile\'s colours; its blurhash and colour are computed', async () => {
  expect((await sharp(heic).metadata()).compression).toBe('hevc'); // what sharp cannot decode itself
  const id = await upload(heic, 'image/heic', 'IMG_0001.HEIC');
  const plain = await upload(await hevcHeic({ width: 64, height: 48, rgb: 0xc86432 }), 'image/heic', 'plain.heic');

  const res = await h.request(`/t/w_32,f_png/${id}`);
  expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/png']);
  const out = Buffer.from(await res.arrayBuffer());
  expect(await sharp(out).metadata()).toMatchObject({ width: 32, height: 24 });
  // Display P3 (200, 100, 50) is sRGB (217, 92, 32), as lcms converts it; read as sRGB it stayed (200, 100, 50),
  // as the photo without a profile does (within HEVC's loss).
  const near = (got: number[], want: number[]) => expect(got.map((v, i) => Math.abs(v - want[i]!) <= 6)).toEqual([true, true, true]);
  near(await centre(out), [217, 92, 32]);
  near(await centre(Buffer.from(await (await h.request(`/t/w_32,f_png/${plain}`)).arrayBuffer())), [200, 100, 50]);

  // A JPEG and a WebP too, and the derive job's eager presets.
  for (const f of ['jpg', 'webp']) expect((await h.request(`/t/w_16,f_${f}/${id}`)).status).toBe(200);
  await h.deps.queue.runPending();
  const jobs = (await (await h.request('/api/queue/jobs?type=derive', { headers: { authorization: `Bearer ${u.key}` } })).json()) as { results: { file_id: string; status: string }[] };
  expect(jobs.results.filter((j) => j.file_id === id).map((j) => j.status)).toEqual(['completed']);

  const meta = (await (await h.request(`/api/files/${id}/metadata`, { headers: { authorization: `Bearer ${u.key}` } })).json()) as { blurhash: string | null; dominant_color: string | null };
  expect(meta.blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/);
  expect(meta.dominant_color).toMatch(/^#[0-9a-f]{6}$/);
  const info = (await (await h.request(`/api/files/${id}/info`, { headers: { authorization: `Bearer ${u.key}` } })).json()) as { palette: unknown[]; width: number };
  expect(info.palette.length).toBeGreaterThan(0);
  expect(info.width).toBe(64);
}, 120_000);

test('an HEIC whose HEVC data is corrupt is a 422 naming the decoder\'s words, never a 500', async () => {
  const broken = Buffer.from(heic);
  const data = broken.indexOf(Buffer.from('mdat', 'latin1')) + 4;
  broken.writeUInt32BE(0x7fffff00, data); // the first NAL unit's length: past the end of everything
  const id = await upload(broken, 'image/heic', 'broken.heic');
  for (let i = 0; i < 2; i++) {
    const res = await h.request(`/t/w_32/${id}`);
    const body = (await res.json()) as { error: string; message: string };
    expect([res.status, body.error]).toEqual([422, 'UNPROCESSABLE_IMAGE']);
    expect(body.message).toContain('HEIC');
  }
}, 60_000);

test('an HEIC whose first image is not its primary one shows the primary one (the photo), at its size', async () => {
  // Item 1 a red 64×64 picture, item 2 (the primary, `pitm`) a green 80×60 photo.
  const two = await hevcHeic({ width: 80, height: 60, rgb: 0x30b040, before: { width: 64, height: 64, rgb: 0xd02020 } });
  expect(await sharp(two).metadata()).toMatchObject({ width: 80, height: 60, compression: 'hevc' });
  const id = await upload(two, 'image/heic', 'IMG_0002.HEIC');
  const res = await h.request(`/t/w_40,f_png/${id}`);
  expect(res.status).toBe(200);
  const out = Buffer.from(await res.arrayBuffer());
  expect(await sharp(out).metadata()).toMatchObject({ width: 40, height: 30 });
  const [r, g, b] = await centre(out);
  expect(g! > 150 && r! < 100 && b! < 100).toBe(true); // green, not the first image's red
}, 120_000);
