/**
 * Issue #8 acceptance 1 over real HTTP: two server processes on one Postgres database (and one
 * shared data directory, as two instances behind a load balancer would share storage) serve a
 * scripted mix of uploads, original reads, transform misses and hits, and deletes for two
 * accounts, alternating between the processes. The client counts what it caused; after both
 * processes stop gracefully (SIGTERM flushes the in-memory counters), a fresh process reports
 * exactly those numbers in `/api/usage` for each account independently.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTestDatabase, type TestDatabase } from '../helpers/services';
import { startServer, type RunningServer } from '../helpers/server';

let pg: TestDatabase;
let dataDir: string;
const servers: RunningServer[] = [];

// No queue worker: eager preset renders (the `derive` job) also count as image_ops, but would run at
// a moment the client cannot know; here every render is one the client asked for.
const env = () => ({ DATABASE_URL: pg.url, RATE_LIMIT_REGISTER: '100/1h', AUTO_AVIF: 'false', QUEUE_CONCURRENCY: '0' });

beforeAll(async () => {
  pg = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-usage-e2e-'));
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await pg?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Counted { storage: number; files: number; reads: number; ops: number; bytes: number }

test('usage equals the client count for two accounts across two processes', async () => {
  const a = await startServer({ env: env(), dataDir, timeoutMs: 90_000 });
  servers.push(a);
  const b = await startServer({ env: env(), dataDir, timeoutMs: 90_000 });
  servers.push(b);
  const both = [a, b];

  const accounts: { token: string; counted: Counted; files: { id: string; size: number }[] }[] = [];
  for (const email of ['one@example.com', 'two@example.com']) {
    const r = await fetch(`${a.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct horse battery' }),
    });
    expect(r.status).toBe(201);
    const token = ((await r.json()) as { session: { access_token: string } }).session.access_token;
    accounts.push({ token, counted: { storage: 0, files: 0, reads: 0, ops: 0, bytes: 0 }, files: [] });
  }

  let turn = 0;
  const next = () => both[turn++ % 2]!;
  for (const [n, acc] of accounts.entries()) {
    for (let i = 0; i < 3; i++) {
      const png = new Uint8Array(await sharp({ create: { width: 40 + i * 10 + n, height: 30, channels: 3, background: '#a0b0c0' } }).png().toBuffer());
      const r = await fetch(`${next().url}/api/files`, { method: 'POST', body: png, headers: { authorization: `Bearer ${acc.token}`, 'content-type': 'image/png' } });
      expect(r.status).toBe(201);
      const f = ((await r.json()) as { file: { id: string; size: number } }).file;
      acc.files.push(f);
      acc.counted.storage += f.size;
      acc.counted.files++;
    }
    const [f0, f1, f2] = acc.files as [{ id: string; size: number }, { id: string; size: number }, { id: string; size: number }];
    const paths = [`/i/${f0.id}`, `/d/${f1.id}`, `/i/${f0.id}.png`, `/t/w_16,f_webp/${f0.id}`, `/t/w_16,f_webp/${f0.id}`,
      `/t/w_16,f_webp/${f0.id}`, `/t/w_24,f_png/${f1.id}`, `/t/w_24,f_png/${f1.id}`, `/i/${f2.id}`];
    for (const p of paths.slice(0, paths.length - n)) {
      const r = await fetch(`${next().url}${p}`);
      expect(r.status).toBe(200);
      acc.counted.bytes += (await r.arrayBuffer()).byteLength;
      if (p.startsWith('/t/')) {
        if (r.headers.get('x-cache') === 'MISS') acc.counted.ops++;
      } else acc.counted.reads++;
    }
    const del = await fetch(`${next().url}/api/files/${f2.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${acc.token}` } });
    expect(del.status).toBe(204);
    acc.counted.storage -= f2.size;
    acc.counted.files--;
  }
  // Hits and misses both happened (the two processes have their own memory tiers).
  expect(accounts.reduce((s, x) => s + x.counted.ops, 0)).toBeGreaterThanOrEqual(4);

  expect(await a.stop('SIGTERM')).toBe(0);
  expect(await b.stop('SIGTERM')).toBe(0);
  const c = await startServer({ env: env(), dataDir, timeoutMs: 90_000 });
  servers.push(c);
  for (const acc of accounts) {
    const r = await fetch(`${c.url}/api/usage`, { headers: { authorization: `Bearer ${acc.token}` } });
    expect(r.status).toBe(200);
    const u = (await r.json()) as Record<string, number>;
    expect({ storage: u.storage_bytes, files: u.files_count, reads: u.origin_reads, ops: u.image_ops, bytes: u.bytes_served }).toEqual(acc.counted);
  }
  expect(accounts[0]!.counted).not.toEqual(accounts[1]!.counted);
}, 400_000);
