/**
 * Render limits over real HTTP (#17.1, #17.2): the rotated output of the issue is refused with
 * its final size, and a render that runs past TRANSFORM_TIMEOUT_MS answers 503, is stopped
 * (not finished and cached behind the client's back), and frees its pool slot, so the next
 * request is served. One slot and no queue make "the slot is still taken" visible as a 503.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';

/** A JPEG of noise: nothing for the encoder or the blur to shortcut. */
async function noiseJpeg(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
}

interface PoolStats { in_flight: number; timed_out: number }

describe('render limits and the render deadline', () => {
  let srv: RunningServer;
  let id: string;
  let smallId: string;
  const stats = async (): Promise<PoolStats> => {
    const res = await fetch(`${srv.url}/api/cache/stats`, { headers: { 'x-api-key': srv.bootstrap?.api_key ?? '' } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { transforms: PoolStats }).transforms;
  };
  /** Waits (at most a minute, polling) until no render runs. */
  const idle = async () => {
    for (let i = 0; i < 600 && (await stats()).in_flight > 0; i++) await Bun.sleep(100);
    expect((await stats()).in_flight).toBe(0);
  };

  beforeAll(async () => {
    srv = await startServer({
      env: {
        DISABLE_RATE_LIMIT: 'true', TRANSFORM_TIMEOUT_MS: '1000', TRANSFORM_CONCURRENCY: '1', TRANSFORM_QUEUE: '0',
        // No eager derivative after the upload: it would take the one slot at an unknown moment.
        PRESETS: JSON.stringify({ thumb: { transformation: 'w_200,h_200,c_fill,g_auto,f_auto', eager: false } }),
      },
    });
    const res = await fetch(`${srv.url}/api/files`, {
      method: 'POST',
      headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', 'content-type': 'image/jpeg' },
      body: new Uint8Array(await noiseJpeg(3000, 3000)),
    });
    expect(res.status).toBe(201);
    id = ((await res.json()) as { file: { id: string } }).file.id;
    // A tiny one for the cheap render: milliseconds, far below the 1 s deadline even on a loaded machine.
    const small = await fetch(`${srv.url}/api/files`, {
      method: 'POST',
      headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', 'content-type': 'image/jpeg' },
      body: new Uint8Array(await noiseJpeg(32, 32)),
    });
    expect(small.status).toBe(201);
    smallId = ((await small.json()) as { file: { id: string } }).file.id;
  }, 60_000);
  afterAll(() => srv?.close());

  test('a_45 of 8192×4880 is refused with the rotated size (it rendered a 9243×9243 PNG)', async () => {
    const res = await fetch(`${srv.url}/t/a_45,w_8192,h_4880,c_scale,f_png/${id}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; details: Record<string, unknown> };
    expect(body.error).toBe('INVALID_TRANSFORMATION');
    expect(body.details).toMatchObject({ parameter: 'a', value: '9243x9243' });
    expect(body.message).toContain('40000000 pixels');
  });

  test('a render past its deadline answers 503, is stopped, and frees its slot', async () => {
    const expensive = `${srv.url}/t/e_blur:2000.pixelate:2,a_30,r_max,w_4000,h_4000,c_scale,f_png/${id}`;
    const first = await fetch(expensive);
    expect(first.status).toBe(503);
    expect(((await first.json()) as { error: string }).error).toBe('OVERLOADED');
    await idle();
    expect((await stats()).timed_out).toBe(1);
    // Stopped, not finished in the background: the same URL is a miss (and times out) again.
    const again = await fetch(expensive);
    await again.arrayBuffer();
    expect(again.status).toBe(503);
    expect(again.headers.get('x-cache')).toBeNull();
    await idle();
    expect((await stats()).timed_out).toBe(2);
    // The one slot is free: a cheap render is served.
    const cheap = await fetch(`${srv.url}/t/w_16,f_webp/${smallId}`);
    expect(cheap.status).toBe(200);
    expect(cheap.headers.get('content-type')).toBe('image/webp');
    expect((await cheap.arrayBuffer()).byteLength).toBeGreaterThan(0);
  }, 120_000);
});
