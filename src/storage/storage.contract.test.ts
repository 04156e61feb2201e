/**
 * The one contract every storage driver meets (types.ts), run against local disk and a real
 * MinIO server. Nothing half-written is ever visible, and a failed put leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMinio, type Minio } from '../../test/helpers/minio';
import { until } from '../../test/helpers/until';
import { createFsStorage } from './fs';
import { createS3Storage } from './s3';
import { ObjectTooLargeError, type StorageDriver } from './types';

interface Harness {
  driver: StorageDriver;
  /** Leftovers of failed puts: temp files (fs) or open multipart uploads (s3). */
  leftovers(): Promise<number>;
  close(): Promise<void>;
}

async function s3Harness(): Promise<Harness> {
  minio ??= await startMinio();
  const m = minio;
  const bucket = await m.createBucket();
  const driver = createS3Storage({
    endpoint: m.endpoint, region: 'us-east-1', bucket, forcePathStyle: true,
    accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey,
  });
  return { driver, leftovers: () => m.pendingUploads(bucket), close: () => driver.close() };
}

const drivers: Record<'fs' | 's3', () => Promise<Harness>> = {
  fs: async () => {
    const root = await mkdtemp(join(tmpdir(), 'pictor-fs-'));
    const driver = await createFsStorage(root);
    return {
      driver,
      leftovers: async () => (await readdir(join(root, '.tmp'))).length,
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
  s3: s3Harness,
};
let minio: Minio | undefined;
afterAll(() => minio?.stop());

/** A stream of `total` pseudo-random bytes in `chunk`-sized pieces; errors after `failAt` bytes if given. */
function byteStream(total: number, chunk = 64 * 1024, failAt?: number): { stream: ReadableStream<Uint8Array>; sha: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 12345;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (failAt !== undefined && sent >= failAt) return c.error(new Error('client went away'));
      if (sent >= total) return c.close();
      const n = Math.min(chunk, total - sent);
      const buf = new Uint8Array(n);
      for (let i = 0; i < n; i++) buf[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      hash.update(buf);
      sent += n;
      c.enqueue(buf);
    },
  });
  let digest: string | undefined;
  return { stream, sha: () => (digest ??= hash.digest('hex')) };
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

describe.each(['fs', 's3'] as const)('StorageDriver contract: %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await drivers[kind]();
  }, 30_000);
  afterAll(() => h.close());
  /** S3's abort of a failed multipart upload is sent, not awaited, as the put fails (s3-upload.ts). */
  const noLeftovers = () => until('the failed puts to leave nothing pending', async () => ((await h.leftovers()) === 0 ? true : null));

  test('put of unknown length reports size and SHA-256 of the stored bytes, then get byte-exact and head', async () => {
    const src = byteStream(3 * 1024 * 1024 + 17);
    const info = await h.driver.put('u1/a', src.stream);
    expect(info.size).toBe(3 * 1024 * 1024 + 17);
    const back = await collect((await h.driver.get('u1/a'))!);
    expect(createHash('sha256').update(back).digest('hex')).toBe(src.sha());
    expect(info.sha256).toBe(src.sha());
    expect(await h.driver.head('u1/a')).toEqual({ size: 3 * 1024 * 1024 + 17 });
  });

  test('put of known length and a multipart-sized object (> 8 MiB)', async () => {
    const small = byteStream(1000);
    expect(await h.driver.put('u1/small', small.stream, { size: 1000, contentType: 'application/octet-stream' })).toEqual({ size: 1000, sha256: small.sha() });
    const big = byteStream(9 * 1024 * 1024 + 5, 256 * 1024);
    expect(await h.driver.put('u1/big', big.stream)).toEqual({ size: 9 * 1024 * 1024 + 5, sha256: big.sha() });
    const back = await collect((await h.driver.get('u1/big'))!);
    expect(createHash('sha256').update(back).digest('hex')).toBe(big.sha());
    const empty = byteStream(0);
    expect(await h.driver.put('u1/empty', empty.stream)).toEqual({ size: 0, sha256: createHash('sha256').digest('hex') });
  });

  test('get with a byte range returns exactly that slice', async () => {
    const whole = await collect((await h.driver.get('u1/a'))!);
    const part = await collect((await h.driver.get('u1/a', { start: 100, end: 300_000 }))!);
    expect(part.length).toBe(300_000 - 100 + 1);
    expect(part.equals(whole.subarray(100, 300_001))).toBe(true);
    const last = await collect((await h.driver.get('u1/a', { start: whole.length - 1, end: whole.length - 1 }))!);
    expect(last.equals(whole.subarray(whole.length - 1))).toBe(true);
  });

  test('read returns the whole object byte-exact, and refuses one over its cap', async () => {
    const whole = await collect((await h.driver.get('u1/a'))!);
    const read = await h.driver.read('u1/a', whole.length);
    expect(read && Buffer.from(read).equals(whole)).toBe(true);
    await expect(h.driver.read('u1/a', whole.length - 1)).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(await h.driver.read('u1/nope', 1024)).toBeNull();
  });

  test('missing keys: get, read and head are null, delete is a no-op', async () => {
    expect(await h.driver.get('u1/nope')).toBeNull();
    expect(await h.driver.head('u1/nope')).toBeNull();
    await h.driver.delete('u1/nope');
    // A key under an existing object's key, and a key that is only a prefix of others: on disk
    // a path through a file (ENOTDIR) and a directory, both simply "no such object".
    await h.driver.put('u9/parent', new Blob(['p']).stream());
    for (const key of ['u9/parent/below', 'u9']) {
      expect(await h.driver.get(key)).toBeNull();
      expect(await h.driver.read(key, 1024)).toBeNull();
      expect(await h.driver.head(key)).toBeNull();
    }
  });

  test('a stream that fails mid-way leaves nothing visible and nothing pending', async () => {
    const src = byteStream(20 * 1024 * 1024, 256 * 1024, 10 * 1024 * 1024);
    await expect(h.driver.put('u1/broken', src.stream)).rejects.toThrow();
    expect(await h.driver.head('u1/broken')).toBeNull();
    await noLeftovers();
  }, 30_000);

  test('a known size streams exactly: whole parts, a short last part, empty; a body off its size fails and leaves nothing', async () => {
    // On S3 a known size lets each part go out while it fills (s3-upload.ts).
    for (const [key, n] of [['k/parts', 10 * 1024 * 1024], ['k/last', 12 * 1024 * 1024 + 5], ['k/one', 70_000], ['k/zero', 0]] as const) {
      const src = byteStream(n, 64 * 1024);
      expect({ key, put: await h.driver.put(key, src.stream, { size: n }) }).toEqual({ key, put: { size: n, sha256: src.sha() } });
      const back = await collect((await h.driver.get(key))!);
      expect({ key, sha: createHash('sha256').update(back).digest('hex') }).toEqual({ key, sha: src.sha() });
    }
    const failing = byteStream(12 * 1024 * 1024, 256 * 1024, 7 * 1024 * 1024);
    await expect(h.driver.put('k/failing', failing.stream, { size: 12 * 1024 * 1024 })).rejects.toThrow();
    if (kind === 's3') {
      // The driver checks the length itself (fs writes whatever arrives; its callers count the bytes).
      await expect(h.driver.put('k/short', byteStream(6 * 1024 * 1024).stream, { size: 9 * 1024 * 1024 })).rejects.toThrow('ended after');
      await expect(h.driver.put('k/long', byteStream(6 * 1024 * 1024).stream, { size: 5 * 1024 * 1024 })).rejects.toThrow('longer than');
    }
    for (const key of ['k/failing', 'k/short', 'k/long']) expect({ key, head: await h.driver.head(key) }).toEqual({ key, head: null });
    await noLeftovers();
  }, 60_000);

  test('an overwrite replaces the object atomically', async () => {
    await h.driver.put('u1/over', new Blob(['first']).stream());
    await h.driver.put('u1/over', new Blob(['second!']).stream());
    expect((await collect((await h.driver.get('u1/over'))!)).toString()).toBe('second!');
  });

  test('delete and deletePrefix', async () => {
    await h.driver.put('u2/x', new Blob(['x']).stream());
    await h.driver.put('u2/y', new Blob(['y']).stream());
    await h.driver.put('u3/z', new Blob(['z']).stream());
    await h.driver.delete('u2/x');
    expect(await h.driver.head('u2/x')).toBeNull();
    expect(await h.driver.deletePrefix('u2/')).toBe(1);
    expect(await h.driver.head('u2/y')).toBeNull();
    expect(await h.driver.head('u3/z')).toEqual({ size: 1 });
    expect(await h.driver.deletePrefix('nothing-here/')).toBe(0);
  });

  test('listOlderThan yields the objects under a prefix written before a time, with their dates', async () => {
    const list = async (prefix: string, before: Date) => {
      const out: { key: string; lastModified: Date }[] = [];
      for await (const o of h.driver.listOlderThan(prefix, before)) out.push(o);
      return out.sort((a, b) => a.key.localeCompare(b.key));
    };
    const started = new Date();
    for (const key of ['l1/a', 'l1/sub/b', 'l10/c', 'l2/d']) await h.driver.put(key, new Blob([key]).stream());
    const future = new Date(Date.now() + 3_600_000);
    const l1 = await list('l1/', future);
    expect(l1.map((o) => o.key)).toEqual(['l1/a', 'l1/sub/b']);
    for (const o of l1) {
      expect(o.lastModified).toBeInstanceOf(Date);
      // Within a minute of the puts (clocks of the test and MinIO, and S3's whole seconds).
      expect(Math.abs(o.lastModified.getTime() - started.getTime())).toBeLessThan(60_000);
    }
    expect((await list('l1', future)).map((o) => o.key)).toEqual(['l1/a', 'l1/sub/b', 'l10/c']);
    // Written after the bound: not listed.
    expect(await list('l1/', new Date(started.getTime() - 60_000))).toEqual([]);
    // Everything: no temp file of a failed put or other non-object is listed.
    const all = (await list('', future)).map((o) => o.key);
    expect(all).toContain('l2/d');
    expect(all).toContain('u1/a');
    expect(all.filter((k) => k.startsWith('.'))).toEqual([]);
    expect(await list('nothing-here/', future)).toEqual([]);
    // Deleting what was yielded while iterating is allowed.
    let deleted = 0;
    for await (const o of h.driver.listOlderThan('l1/', future)) {
      await h.driver.delete(o.key);
      deleted++;
    }
    expect(deleted).toBe(2);
    expect(await list('l1/', future)).toEqual([]);
  });

  test('keys that could escape are refused', async () => {
    for (const bad of ['../etc/passwd', '/abs', 'a//b', 'a/./b', '']) {
      await expect(h.driver.put(bad, new Blob(['x']).stream())).rejects.toThrow('invalid storage key');
    }
  });

  test('health resolves', async () => {
    await h.driver.health();
  });
});
