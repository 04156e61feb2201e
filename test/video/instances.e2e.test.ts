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
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { until } from '../helpers/until';
import { ffprobeBytes, vp9Webm } from '../helpers/videos';

let db: TestDatabase;
let dataDir = '';
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-instances-'));
  const env = { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' };
  a = await startServer({ dataDir, env: { ...env, CACHE_DIR: join(dataDir, 'cache-a') } });
  b = await startServer({ dataDir, env: { ...env, CACHE_DIR: join(dataDir, 'cache-b'), QUEUE_CONCURRENCY: '0' } });
}, 120_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a rendition made by one instance\'s worker is served by another instance, and goes with its video', async () => {
  const key = a.bootstrap!.api_key;
  const up = await fetch(`${a.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'video/webm' }, body: new Uint8Array(await vp9Webm()) });
  expect(up.status).toBe(201);
  const { file } = (await up.json()) as { file: { id: string; sha256: string } };
  const stored = join(dataDir, 'files', 'renditions', file.sha256);
  const storedNames = async () => (existsSync(stored) ? await Array.fromAsync(new Bun.Glob('*').scan(stored)) : []);
  // Asked on A and made by A's worker: nothing stored.
  const own = await until('A to serve its own rendition', async () => {
    const res = await fetch(`${a.url}/t/w_64/${file.id}.mp4`);
    if (res.status === 202) {
      await res.arrayBuffer();
      return null;
    }
    return res;
  }, 90_000);
  expect(own.status).toBe(200);
  await own.arrayBuffer();
  expect(await storedNames()).toEqual([]);

  // Asked on B, made by A's worker, served by B from its own cache.
  const path = `/t/w_96/${file.id}.mp4`;
  const ready = await until('B to serve the rendition', async () => {
    const res = await fetch(b.url + path);
    if (res.status === 202) {
      await res.arrayBuffer();
      return null;
    }
    return res;
  }, 90_000);
  expect([ready.status, ready.headers.get('content-type')]).toEqual([200, 'video/mp4']);
  const v = (await ffprobeBytes(new Uint8Array(await ready.arrayBuffer()), 'mp4')).streams.find((s) => s.codec_type === 'video');
  expect(v?.width).toBe(96);
  // Two transcodes, one per rendition: B's polls queued no second one.
  const jobs = await fetch(`${a.url}/api/queue/jobs?type=video_render&limit=50`, { headers: { 'x-api-key': key } });
  expect(((await jobs.json()) as { count: number }).count).toBe(2);
  expect(await storedNames()).toHaveLength(1);

  // Deleted: the stored rendition goes with the video's bytes.
  expect((await fetch(`${a.url}/api/files/${file.id}`, { method: 'DELETE', headers: { 'x-api-key': key } })).status).toBe(204);
  await until('the stored rendition to go', async () => ((await storedNames()).length === 0 ? true : null), 60_000);
}, 180_000);
