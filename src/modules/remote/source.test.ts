import { afterAll, expect, test } from 'bun:test';
import { loadConfig } from '../../config';
import { AppError } from '../../errors';
import { createRemoteSources, MAX_CONCURRENT_FETCHES } from './source';

// An origin whose answers wait until the test releases them.
let release: () => void = () => {};
const held = new Promise<void>((r) => (release = r));
let arrived = 0;
const origin = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(): Promise<Response> {
    arrived++;
    await held;
    return new Response('not an image');
  },
});
afterAll(() => {
  release();
  origin.stop(true);
});

test(`at most ${MAX_CONCURRENT_FETCHES} distinct sources download at once; the next is 503 OVERLOADED, a repeat joins its fetch`, async () => {
  const config = loadConfig({ REMOTE_SOURCES: 'true', OUTBOUND_ALLOW_LOOPBACK: 'true', DATA_DIR: '/tmp/pictor-remote-unit' });
  const sources = createRemoteSources({ config, now: () => Date.now() });
  const url = (i: number) => `http://127.0.0.1:${origin.port}/${i}.png`;
  const pending = Array.from({ length: MAX_CONCURRENT_FETCHES }, (_, i) => sources.get(url(i)).catch((e: unknown) => e));
  const repeat = sources.get(url(0)).catch((e: unknown) => e);
  const extra = await sources.get(url(999)).catch((e: unknown) => e);
  expect(extra).toBeInstanceOf(AppError);
  expect({ status: (extra as AppError).status, code: (extra as AppError).code }).toEqual({ status: 503, code: 'OVERLOADED' });
  release();
  const results = await Promise.all([...pending, repeat]);
  // Each finished as a refusal of its bytes (not an image), and the repeat shared the first fetch.
  for (const r of results) expect((r as AppError).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  expect(sources.fetches()).toBe(MAX_CONCURRENT_FETCHES);
  expect(arrived).toBe(MAX_CONCURRENT_FETCHES);
});
