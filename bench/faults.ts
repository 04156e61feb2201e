/**
 * Outage, crash and disk-full cases of issue #17, rerun: `bun bench/faults.ts` (root for the
 * tmpfs of the disk-full case; `--only=redis-stop,disk-full` to pick). Each case gets a fresh
 * Postgres database and DATA_DIR; Redis is a private redis-server on its own port, S3 a MinIO
 * started for the run. Prints one table row per fault: requests answered of those that could
 * be, 5xx, acknowledged uploads lost (a 201 must download with the same SHA-256 afterwards,
 * after a restart where the fault was a crash), and leftovers: temp files, objects without
 * rows, rows without objects, open S3 multipart uploads. Every process it starts is stopped
 * by its pid; the tmpfs is unmounted. Exits 1 when anything was lost or left.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startMinio, type Minio } from '../test/helpers/minio';
import { createTestDatabase, type TestDatabase } from '../test/helpers/services';
import { startTcpProxy, type TcpProxy } from '../test/helpers/tcp-proxy';
import { sendRaw } from '../test/helpers/fuzz/wire';
import { leftovers, lostUploads, noisePng, privateRedis, smallDisk, streamUpload, total, type Leftovers, type UploadResult } from './lib/faults-kit';
import { startPictor, type Pictor } from './lib/pictor';
import { descendants, killOwned } from './lib/procs';

interface Row { fault: string; sent: number; answered: number; e5xx: number; lost: number; left?: Leftovers; note: string }

process.on('SIGINT', () => {
  killOwned();
  process.exit(130);
});

/** One case's world: database, data dir, server (restartable on the same data), acknowledged uploads. */
class Setup {
  db!: TestDatabase;
  dataDir!: string;
  srv!: Pictor;
  key = '';
  acked: { id: string; sha: string }[] = [];
  statuses: number[] = [];
  /** With `proxied`: the server reaches its database through this proxy, which a case can cut or freeze. */
  proxy?: TcpProxy;
  private serverDbUrl = '';
  private ownDir = true;
  constructor(private env: Record<string, string>, private opts: { proxied?: boolean } = {}) {}
  async start(dataDir?: string) {
    this.db = await createTestDatabase();
    this.serverDbUrl = this.db.url;
    if (this.opts.proxied) {
      const direct = new URL(this.db.url);
      this.proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
      direct.port = String(this.proxy.port);
      this.serverDbUrl = direct.toString();
    }
    this.dataDir = dataDir ?? (await mkdtemp(join(tmpdir(), 'pictor-faults-')));
    this.ownDir = !dataDir;
    await this.boot();
    this.key = this.srv.bootstrap!.api_key;
  }
  async boot() {
    // ABANDONED_UPLOAD_AFTER=5: what a crash leaves is swept at the restart, 5 s later, not a day.
    this.srv = await startPictor({ DATABASE_URL: this.serverDbUrl, DATA_DIR: this.dataDir, ABANDONED_UPLOAD_AFTER: '5', ...this.env });
  }
  /** SIGKILL of the server and every process under it. */
  async kill() {
    const tree = descendants(this.srv.pid);
    const exited = new Promise((r) => this.srv.proc.once('exit', r));
    this.srv.proc.kill('SIGKILL');
    for (const pid of tree) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await exited;
  }
  record(r: UploadResult) {
    this.statuses.push(r.status);
    if (r.status === 201 && r.id && r.sha) this.acked.push({ id: r.id, sha: r.sha });
  }
  async finish(fault: string, note: string, s3?: { minio: Minio; bucket: string }, extra: Partial<Row> = {}): Promise<Row> {
    const lost = await lostUploads(this.srv.url, this.key, this.acked);
    // In-flight clean-ups settle first (a deleted temp file, an aborted multipart upload).
    let left = await leftovers(this.db.url, this.dataDir, s3);
    for (let i = 0; i < 10 && total(left) > 0; i++) {
      await Bun.sleep(1000);
      left = await leftovers(this.db.url, this.dataDir, s3);
    }
    const answered = this.statuses.filter((s) => s > 0);
    return { fault, sent: this.statuses.length, answered: answered.length, e5xx: answered.filter((s) => s >= 500).length, lost: lost.length, left, note: [note, ...lost.slice(0, 3), ...left.detail.slice(0, 3)].filter(Boolean).join('; '), ...extra };
  }
  async close() {
    await this.srv?.stop();
    await this.proxy?.close();
    await this.db?.drop();
    if (this.ownDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

const small = await noisePng(0.2, 1);
const mid = [await noisePng(1, 4), await noisePng(1, 5)];
const big = [await noisePng(20, 2), await noisePng(20, 3)];

/** Mixed load (public originals, transforms, the file list, small uploads) from `vus` loops until `stop()`. */
function load(s: Setup, vus: number, ids: string[]) {
  let running = true;
  const loops = Array.from({ length: vus }, async (_, v) => {
    for (let n = 0; running; n++) {
      const pick = (n + v) % 4;
      const id = ids[n % ids.length]!;
      if (pick === 3) {
        s.record(await streamUpload(s.srv.url, s.key, small));
        continue;
      }
      const path = pick === 0 ? `/i/${id}` : pick === 1 ? `/t/w_${40 + (n % 200)},f_webp/${id}` : '/api/files?limit=5';
      const status = await fetch(`${s.srv.url}${path}`, { headers: { authorization: `Bearer ${s.key}` } }).then(async (r) => (await r.arrayBuffer(), r.status), () => 0);
      s.statuses.push(status);
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

async function seedPublic(s: Setup, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${s.srv.url}/api/files?is_public=true`, { method: 'POST', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'image/png' }, body: new Uint8Array(await noisePng(0.3, 100 + i)) });
    const j = (await r.json()) as { file: { id: string; sha256: string } };
    s.acked.push({ id: j.file.id, sha: j.file.sha256 });
    ids.push(j.file.id);
  }
  return ids;
}

async function redisCase(mode: 'stop' | 'pause'): Promise<Row> {
  const redis = await privateRedis();
  const s = new Setup({ REDIS_URL: redis.url });
  try {
    await s.start();
    const ids = await seedPublic(s, 3);
    const stop = load(s, 6, ids);
    await Bun.sleep(6000);
    if (mode === 'stop') await redis.stop();
    else redis.pause();
    await Bun.sleep(10_000);
    if (mode === 'stop') await redis.start();
    else redis.resume();
    await Bun.sleep(6000);
    await stop();
    return await s.finish(`Redis ${mode === 'stop' ? 'stopped' : 'paused (SIGSTOP)'} 10 s under load (6 clients)`, '');
  } finally {
    await s.close();
    await redis.close();
  }
}

/**
 * Postgres away 10 s under the same load, through a proxy: `cut` drops every connection and
 * refuses new ones (the host gone); `freeze` passes no byte either way and keeps connections open
 * (a paused database or a partition). 503 `DATABASE_UNAVAILABLE` is the expected answer meanwhile
 * for what needs the database: counted apart from other 5xx. DATABASE_STATEMENT_TIMEOUT_MS=2000
 * bounds the freeze's wait (7 s). Leftovers are counted after a restart (see below).
 */
async function postgresCase(mode: 'cut' | 'freeze'): Promise<Row> {
  const s = new Setup({ DATABASE_STATEMENT_TIMEOUT_MS: '2000' }, { proxied: true });
  try {
    await s.start();
    const ids = await seedPublic(s, 3);
    const stop = load(s, 6, ids);
    await Bun.sleep(6000);
    if (mode === 'cut') s.proxy!.cut();
    else s.proxy!.freeze();
    await Bun.sleep(10_000);
    if (mode === 'cut') s.proxy!.restore();
    else s.proxy!.thaw();
    await Bun.sleep(8000);
    await stop();
    // An upload whose connection was lost under its transaction keeps its object (its COMMIT may
    // have landed); the sweep of objects without a row removes those it did not, at start-up and
    // hourly: a restart shows that sweep.
    const kept = (await leftovers(s.db.url, s.dataDir)).orphanObjects;
    await s.srv.stop();
    await s.boot();
    const unavailable = s.statuses.filter((x) => x === 503).length;
    const other5xx = s.statuses.filter((x) => x >= 500 && x !== 503).length;
    const fault = mode === 'cut' ? 'Postgres unreachable 10 s under load (connections cut, new ones refused; 6 clients)' : 'Postgres answering nothing 10 s under load (every byte held, connections open: a pause or a partition; 6 clients)';
    return await s.finish(fault, `${unavailable}× 503 during the run; ${kept} objects of uploads answered 503 kept until the restart's sweep`, undefined, { e5xx: other5xx });
  } finally {
    await s.close();
  }
}

/** Uploads of 20 MB streamed over ~3 s each, SIGKILL while they run, restart on the same data. */
async function killDuringUploads(storage: 'fs' | 's3', minio?: Minio): Promise<Row> {
  const bucket = minio ? await minio.createBucket() : undefined;
  const s3 = minio && bucket ? { minio, bucket } : undefined;
  const s = new Setup(s3 ? minio!.env(bucket!) : {});
  try {
    await s.start();
    // Two clients upload 1 MB files back to back (acknowledged ones before the kill), while six
    // 20 MB uploads stream at ~8 MB/s each (in flight when it comes).
    let killed = false;
    const loops = [0, 1].map(async (c) => {
      for (let i = 0; !killed; i++) s.record(await streamUpload(s.srv.url, s.key, mid[(c + i) % 2]!));
    });
    const uploads = Array.from({ length: 6 }, (_, i) => Bun.sleep(i * 300).then(() => streamUpload(s.srv.url, s.key, big[i % 2]!, { delayMs: 30 })));
    await Bun.sleep(4000);
    killed = true;
    await s.kill();
    for (const r of await Promise.all(uploads)) s.record(r);
    await Promise.all(loops);
    const cut = s.statuses.filter((x) => x === 0).length;
    const atKill = await leftovers(s.db.url, s.dataDir, s3);
    await Bun.sleep(6000); // past ABANDONED_UPLOAD_AFTER, so the restart's sweep takes what the crash left
    await s.boot();
    await Bun.sleep(3000);
    s.statuses = s.statuses.filter((x) => x > 0); // cut by the kill: not "unanswered"
    const before = `left by the crash before the restart: temp ${atKill.temp}, open multipart ${atKill.openMultipart}, objects without a row ${atKill.orphanObjects}`;
    return await s.finish(`SIGKILL during uploads (${storage}): 2 clients of 1 MB files + 6 of 20 MB, restart`, `${cut} cut by the kill, ${s.acked.length} acknowledged before it; ${before}`, s3);
  } finally {
    await s.close();
  }
}

async function killDuringJobs(): Promise<Row> {
  const s = new Setup({ QUEUE_LEASE_MS: '3000', QUEUE_CONCURRENCY: '2' });
  try {
    await s.start();
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${s.srv.url}/api/files?transformations=${encodeURIComponent('w_1200,f_avif|w_600,f_webp|w_300,f_png')}`, {
        method: 'POST', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'image/png' }, body: new Uint8Array(await noisePng(3, 200 + i)),
      });
      const j = (await r.json().catch(() => ({}))) as { file?: { id: string; sha256: string } };
      s.record({ status: r.status, id: j.file?.id, sha: j.file?.sha256 });
    }
    await s.kill();
    const sql = postgres(s.db.url, { max: 1, onnotice: () => {} });
    const atKill = Number((await sql`select count(*)::int as n from jobs where status in ('pending', 'running')`)[0]!.n);
    await s.boot();
    let open = -1;
    for (let i = 0; i < 120 && open !== 0; i++) {
      open = Number((await sql`select count(*)::int as n from jobs where status in ('pending', 'running')`)[0]!.n);
      if (open) await Bun.sleep(1000);
    }
    const failed = Number((await sql`select count(*)::int as n from jobs where status = 'failed'`)[0]!.n);
    await sql.end();
    return await s.finish('SIGKILL with 18 derive jobs queued, restart', `${atKill} jobs pending/running at the kill; after the restart ${open} left, ${failed} failed`);
  } finally {
    await s.close();
  }
}

async function diskFull(): Promise<Row> {
  const disk = await smallDisk(48);
  if ('error' in disk) return { fault: 'disk full', sent: 0, answered: 0, e5xx: 0, lost: 0, note: `not run: ${disk.error}` };
  const s = new Setup({});
  try {
    await s.start(disk.dir);
    const imgs = [await noisePng(4, 300), await noisePng(4, 301)];
    for (let i = 0; i < 10; i++) s.record(await streamUpload(s.srv.url, s.key, imgs[i % 2]!));
    const batch = await Promise.all(Array.from({ length: 4 }, (_, i) => streamUpload(s.srv.url, s.key, imgs[i % 2]!)));
    batch.forEach((r) => s.record(r));
    const ready = (await (await fetch(`${s.srv.url}/health/ready`)).json().catch(() => ({}))) as Record<string, unknown>;
    const n507 = s.statuses.filter((x) => x === 507).length;
    const row = await s.finish('disk full (48 MiB tmpfs DATA_DIR, 14 uploads of 4 MB)', `${n507}× 507; /health/ready: ${JSON.stringify(ready).slice(0, 160)}`);
    // 507 INSUFFICIENT_STORAGE is the designed answer; only other 5xx count.
    return { ...row, e5xx: row.e5xx - n507 };
  } finally {
    await s.close();
    await disk.release();
  }
}

async function clientAborts(storage: 'fs' | 's3', minio?: Minio): Promise<Row> {
  const bucket = minio ? await minio.createBucket() : undefined;
  const s3 = minio && bucket ? { minio, bucket } : undefined;
  const s = new Setup(s3 ? minio!.env(bucket!) : {});
  try {
    await s.start();
    const aborted = Array.from({ length: 8 }, (_, i) => streamUpload(s.srv.url, s.key, big[i % 2]!, { delayMs: 5, abortAfter: (1 + i * 2) * 1024 * 1024 }));
    const whole = Array.from({ length: 3 }, (_, i) => streamUpload(s.srv.url, s.key, big[i % 2]!, { delayMs: 5 }));
    const cut = (await Promise.all(aborted)).filter((r) => r.status === 0).length;
    for (const r of await Promise.all(whole)) s.record(r);
    return await s.finish(`client aborts mid-upload (${storage}): 8 cut at 1–15 MB, 3 complete`, `${cut} of 8 cut before any answer`, s3);
  } finally {
    await s.close();
  }
}

async function stalledUploads(): Promise<Row> {
  const s = new Setup({ UPLOAD_IDLE_TIMEOUT: '5', RATE_LIMIT_UPLOAD_CONCURRENCY: '8' });
  try {
    await s.start();
    const port = Number(new URL(s.srv.url).port);
    // 1 KB of a declared 10 MB, then nothing: each holds an upload slot until the idle timeout.
    const stalled = await Promise.all(Array.from({ length: 8 }, () => sendRaw(port, {
      method: 'POST', target: '/api/files', body: small.subarray(0, 1024), contentLength: 10 * 1024 * 1024,
      headers: [['Host', '127.0.0.1'], ['Authorization', `Bearer ${s.key}`], ['Content-Type', 'image/png']],
    }, 60_000)));
    stalled.forEach((r) => s.statuses.push(r.status));
    s.record(await streamUpload(s.srv.url, s.key, small));
    const codes = stalled.map((r) => r.status).join(',');
    return await s.finish('8 stalled uploads (1 KB then silence), UPLOAD_IDLE_TIMEOUT=5, 8 slots', `stalled answered ${codes}; next upload ${s.statuses.at(-1)}`);
  } finally {
    await s.close();
  }
}

async function killWorker(): Promise<Row> {
  const s = new Setup({ WORKERS: '2' });
  try {
    await s.start();
    const uploads = Array.from({ length: 8 }, (_, i) => Bun.sleep(i * 200).then(() => streamUpload(s.srv.url, s.key, big[i % 2]!, { delayMs: 30 })));
    await Bun.sleep(2500);
    const workers = descendants(s.srv.pid);
    if (workers[0]) process.kill(workers[0], 'SIGKILL');
    const results = await Promise.all(uploads);
    results.forEach((r) => s.record(r));
    const cut = results.filter((r) => r.status === 0).length;
    s.statuses = s.statuses.filter((x) => x > 0);
    await Bun.sleep(3000); // the supervisor restarts the worker
    return await s.finish('WORKERS=2: SIGKILL of one worker during 8 uploads of 20 MB', `${cut} cut with the killed worker, ${s.acked.length} acknowledged`);
  } finally {
    await s.close();
  }
}

const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
let minio: Minio | undefined;
const cases: [string, () => Promise<Row>][] = [
  ['redis-stop', () => redisCase('stop')],
  ['redis-pause', () => redisCase('pause')],
  ['postgres-cut', () => postgresCase('cut')],
  ['postgres-freeze', () => postgresCase('freeze')],
  ['kill-upload-fs', () => killDuringUploads('fs')],
  ['kill-upload-s3', async () => killDuringUploads('s3', (minio ??= await startMinio()))],
  ['kill-jobs', killDuringJobs],
  ['kill-worker', killWorker],
  ['disk-full', diskFull],
  ['abort-fs', () => clientAborts('fs')],
  ['abort-s3', async () => clientAborts('s3', (minio ??= await startMinio()))],
  ['stalled', stalledUploads],
];
const rows: Row[] = [];
try {
  for (const [name, run] of cases) {
    if (only && !only.includes(name)) continue;
    const started = Date.now();
    try {
      rows.push(await run());
    } catch (err) {
      console.error(err);
      rows.push({ fault: name, sent: 0, answered: 0, e5xx: 0, lost: 0, note: `error: ${(err as Error).message.split('\n')[0]}` });
    }
    console.error(`${name}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  await minio?.stop();
  killOwned();
}

const fmt = (l?: Leftovers) => (l ? `${total(l)} (temp ${l.temp}, objects w/o row ${l.orphanObjects}, rows w/o object ${l.rowsWithoutObject}, open multipart ${l.openMultipart})` : '—');
console.log('| fault | requests answered | 5xx | acknowledged uploads lost | leftovers | notes |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.fault} | ${r.answered}/${r.sent} | ${r.e5xx} | ${r.lost} | ${fmt(r.left)} | ${r.note.replace(/\|/g, '/')} |`);
process.exit(rows.some((r) => r.lost || r.e5xx || (r.left && total(r.left)) || r.note.startsWith('error')) ? 1 : 0);
