/**
 * Parts for bench/faults.ts: a private Redis on its own port (never the machine's shared
 * 6379), a small tmpfs for disk-full, uploads streamed at a chosen pace (to be cut by a kill,
 * an abort or a stall), and the checks every fault ends with: acknowledged uploads still
 * downloadable with the same SHA-256, and leftovers (temp files, objects without rows, rows
 * without objects, open S3 multipart uploads).
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import postgres from 'postgres';
import sharp from 'sharp';
import type { Minio } from '../../test/helpers/minio';
import { freePort, runCommand, spawnOwned, stopChild } from './procs';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A PNG of noise (incompressible) of about `mb` megabytes; `seed` makes each one different. */
export async function noisePng(mb: number, seed: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt((mb * 1024 * 1024) / 3));
  const raw = Buffer.alloc(side * side * 3);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < raw.length; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    raw.writeInt32LE(x | 0, Math.min(i, raw.length - 4));
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

export interface PrivateRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** redis-server on a free port with no persistence; `stop`/`start` keep the port. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pictor-faults-redis-'));
  let proc: ReturnType<typeof spawnOwned> | null = null;
  const start = async () => {
    proc = spawnOwned('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const { stdout } = await runCommand('redis-cli', ['-p', String(port), 'ping']);
      if (stdout.trim() === 'PONG') return;
      await Bun.sleep(100);
    }
    throw new Error(`redis-server on ${port} did not answer`);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    pause: () => proc?.kill('SIGSTOP'),
    resume: () => proc?.kill('SIGCONT'),
    stop: async () => {
      if (proc) await stopChild(proc, 3000);
      proc = null;
    },
    close: async () => {
      if (proc) await stopChild(proc, 3000);
      proc = null;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A tmpfs of `mb` MiB (needs root); `release` unmounts it. Null with the reason when mounting fails. */
export async function smallDisk(mb: number): Promise<{ dir: string; release(): Promise<void> } | { error: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-faults-disk-'));
  const res = await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir]);
  if (res.code !== 0) return { error: `mount -t tmpfs failed: ${res.stderr.trim()}` };
  await mkdir(join(dir, 'data'));
  return {
    dir: join(dir, 'data'),
    release: async () => {
      await runCommand('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface UploadResult {
  status: number;
  id?: string;
  sha?: string;
  error?: string;
}

/**
 * A raw-body upload streamed in 256 KiB chunks, `delayMs` apart; `abortAfter` bytes → the client
 * aborts there. Resolves with the answer, or the error when the connection went away.
 */
export async function streamUpload(url: string, key: string, bytes: Buffer, opts: { delayMs?: number; abortAfter?: number } = {}): Promise<UploadResult> {
  const ctl = new AbortController();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (sent >= bytes.length) return c.close();
      if (opts.abortAfter !== undefined && sent >= opts.abortAfter) {
        ctl.abort();
        return c.error(new Error('aborted by the client'));
      }
      const chunk = bytes.subarray(sent, sent + 256 * 1024);
      sent += chunk.length;
      if (opts.delayMs) await Bun.sleep(opts.delayMs);
      c.enqueue(chunk);
    },
  });
  try {
    const res = await fetch(`${url}/api/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'image/png' },
      body,
      signal: ctl.signal,
      duplex: 'half',
    } as RequestInit);
    const json = (await res.json().catch(() => null)) as { file?: { id: string; sha256: string } } | null;
    return { status: res.status, id: json?.file?.id, sha: json?.file?.sha256 };
  } catch (err) {
    return { status: 0, error: (err as Error).message };
  }
}

/** Acknowledged uploads (201) that are gone or changed: each original is fetched and hashed. */
export async function lostUploads(url: string, key: string, acked: { id: string; sha: string }[]): Promise<string[]> {
  const lost: string[] = [];
  for (const a of acked) {
    const res = await fetch(`${url}/api/files/${a.id}/original`, { headers: { authorization: `Bearer ${key}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200 || sha256(bytes) !== a.sha) lost.push(`${a.id}: ${res.status}`);
  }
  return lost;
}

export interface Leftovers {
  temp: number;
  orphanObjects: number;
  rowsWithoutObject: number;
  openMultipart: number;
  detail: string[];
}

export const total = (l: Leftovers) => l.temp + l.orphanObjects + l.rowsWithoutObject + l.openMultipart;

/** What is stored against what the files table says (fs under DATA_DIR/files, or a MinIO bucket). */
export async function leftovers(dbUrl: string, dataDir: string, s3?: { minio: Minio; bucket: string }): Promise<Leftovers> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const rows = await sql<{ storage_key: string; public_storage_key: string | null }[]>`select storage_key, public_storage_key from files`;
  await sql.end();
  const keys = new Set(rows.flatMap((r) => [r.storage_key, r.public_storage_key].filter((k): k is string => !!k)));
  const objects = new Set<string>();
  let temp = 0;
  let openMultipart = 0;
  const root = join(dataDir, 'files');
  for (const e of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile()) continue;
    const rel = relative(root, join(e.parentPath, e.name));
    if (rel.startsWith('.tmp')) temp++;
    else if (!s3) objects.add(rel);
  }
  if (s3) {
    let token: string | undefined;
    do {
      const page = await s3.minio.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) objects.add(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    openMultipart = (await s3.minio.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }))).Uploads?.length ?? 0;
  }
  const orphans = [...objects].filter((o) => !keys.has(o));
  const missing = [...keys].filter((k) => !objects.has(k));
  return {
    temp,
    orphanObjects: orphans.length,
    rowsWithoutObject: missing.length,
    openMultipart,
    detail: [...orphans.map((o) => `object without row: ${o}`), ...missing.map((k) => `row without object: ${k}`)].slice(0, 10),
  };
}
