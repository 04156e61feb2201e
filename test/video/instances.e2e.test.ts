/**
 * Two instances sharing Postgres and the storage, each with its own derivative cache (another
 * host, or CACHE_DIR on local disk as docs/TUNING.md advises), the second an API process that
 * runs no jobs (`QUEUE_CONCURRENCY=0`, the split the README describes). A rendition made by the
 * first's worker reached only the first's cache: the second answered 202 at every poll, and
 * queued the transcode again each time. Now it is stored for the second (video/stored.ts), and
 * only then: what the first asked for itself stays in its cache.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase } from '../helpers/services';
import { until } from '../helpers/until';
import { ffprobeBytes, vp9Webm } from '../helpers/videos';

interface Pair {
  a: RunningServer;
  b: RunningServer;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Two instances on one database and one storage, each with its own cache folder; `cacheId`
 * writes the same id file into both first (a cache folder copied to warm a new node), `bEnv`
 * adds to the second's settings.
 */
async function startPair(opts: { cacheId?: string; bEnv?: Record<string, string> } = {}): Promise<Pair> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-instances-'));
  for (const folder of ['cache-a', 'cache-b']) {
    await mkdir(join(dataDir, folder), { recursive: true });
    if (opts.cacheId) await writeFile(join(dataDir, folder, 'cache-id'), opts.cacheId);
  }
  const env = { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' };
  const a = await startServer({ dataDir, env: { ...env, CACHE_DIR: join(dataDir, 'cache-a') } });
  const b = await startServer({ dataDir, env: { ...env, CACHE_DIR: join(dataDir, 'cache-b'), QUEUE_CONCURRENCY: '0', ...opts.bEnv } });
  return {
    a, b, dataDir,
    close: async () => {
      await b.close();
      await a.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The first answer to `url` that is not 202 (the rendition being made). */
const ready = (url: string, what: string) => until(what, async () => {
  const res = await fetch(url);
  if (res.status === 202) {
    await res.arrayBuffer();
    return null;
  }
  return res;
}, 90_000);

let a: RunningServer;
let b: RunningServer;
let dataDir = '';
let pair: Pair | undefined;
beforeAll(async () => {
  pair = await startPair();
  ({ a, b, dataDir } = pair);
}, 120_000);
afterAll(() => pair?.close());

test('a rendition made by one instance\'s worker is served by another instance, and goes with its video', async () => {
  const key = a.bootstrap!.api_key;
  const up = await fetch(`${a.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'video/webm' }, body: new Uint8Array(await vp9Webm()) });
  expect(up.status).toBe(201);
  const { file } = (await up.json()) as { file: { id: string; sha256: string } };
  const stored = join(dataDir, 'files', 'renditions', file.sha256);
  const storedNames = async () => (existsSync(stored) ? await Array.fromAsync(new Bun.Glob('*').scan(stored)) : []);
  // Asked on A and made by A's worker: nothing stored.
  const own = await ready(`${a.url}/t/w_64/${file.id}.mp4`, 'A to serve its own rendition');
  expect(own.status).toBe(200);
  await own.arrayBuffer();
  expect(await storedNames()).toEqual([]);

  // Asked on B, made by A's worker, served by B from its own cache.
  const path = `/t/w_96/${file.id}.mp4`;
  const served = await ready(b.url + path, 'B to serve the rendition');
  expect([served.status, served.headers.get('content-type')]).toEqual([200, 'video/mp4']);
  const v = (await ffprobeBytes(new Uint8Array(await served.arrayBuffer()), 'mp4')).streams.find((s) => s.codec_type === 'video');
  expect(v?.width).toBe(96);
  // Two transcodes, one per rendition: B's polls queued no second one.
  const jobs = await fetch(`${a.url}/api/queue/jobs?type=video_render&limit=50`, { headers: { 'x-api-key': key } });
  expect(((await jobs.json()) as { count: number }).count).toBe(2);
  expect(await storedNames()).toHaveLength(1);

  // Deleted: the stored rendition goes with the video's bytes.
  expect((await fetch(`${a.url}/api/files/${file.id}`, { method: 'DELETE', headers: { 'x-api-key': key } })).status).toBe(204);
  await until('the stored rendition to go', async () => ((await storedNames()).length === 0 ? true : null), 60_000);
}, 180_000);

test('a worker that takes the asker\'s cache for its own (a copied cache folder) is asked again to store it; a cache too small for it streams it from the storage', async () => {
  // Same id in both folders: A's worker saw no other process to store for, and B queued the
  // transcode again at every poll. B's disk cache keeps no file over 1 KiB.
  const twins = await startPair({ cacheId: 'copied-folder', bEnv: { CACHE_DISK_BYTES: '8KiB' } });
  try {
    const key = twins.a.bootstrap!.api_key;
    const up = await fetch(`${twins.a.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'video/webm' }, body: new Uint8Array(await vp9Webm()) });
    const { file } = (await up.json()) as { file: { id: string } };
    const url = `${twins.b.url}/t/w_96/${file.id}.mp4`;
    const served = await ready(url, 'B to serve the rendition');
    expect(served.status).toBe(200);
    const whole = new Uint8Array(await served.arrayBuffer());
    expect(whole.byteLength).toBeGreaterThan(1024);
    const part = await fetch(url, { headers: { range: 'bytes=0-99' } });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 0-99/${whole.byteLength}`]);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(whole.slice(0, 100));
    // The first job made it for A's cache; the second (with `store`) stored it; no third.
    const jobs = await fetch(`${twins.a.url}/api/queue/jobs?type=video_render&limit=50`, { headers: { 'x-api-key': key } });
    const listed = (await jobs.json()) as { count: number };
    expect(listed.count).toBe(2);
  } finally {
    await twins.close();
  }
}, 180_000);
