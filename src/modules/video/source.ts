/**
 * A stored video as a local path ffmpeg/ffprobe can seek in. MP4/MOV keep their index (`moov`)
 * wherever the muxer put it — often at the end — so a pipe (stdin) is not enough; on local disk
 * the object's own path is used, on S3 the object is copied once to a temp file (streamed,
 * never held in memory) that is removed when `fn` ends. A presigned URL would also work with
 * ffmpeg's HTTP range reads, but costs one request per seek and leaks the URL into process lists.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageDriver } from '../../storage/types';

export async function withLocalSource<T>(storage: StorageDriver, key: string, fn: (path: string) => Promise<T>): Promise<T> {
  if (storage.localPath) return fn(storage.localPath(key));
  const dir = await mkdtemp(join(tmpdir(), 'pictor-video-'));
  try {
    const body = await storage.get(key);
    if (!body) throw new Error(`stored object ${key} is missing`);
    const path = join(dir, 'source');
    await pipeline(Readable.fromWeb(body as unknown as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(path));
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
