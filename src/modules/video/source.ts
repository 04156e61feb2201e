/**
 * A stored video as a local path ffmpeg/ffprobe can seek in. MP4/MOV keep their index (`moov`)
 * wherever the muxer put it — often at the end — so a pipe (stdin) is not enough; on local disk
 * the object's own path is used, on S3 the object is copied once to a temp file (streamed,
 * never held in memory) that is removed when `fn` ends. The copy goes to the derivative cache's
 * temp folder, named after this process, so the next start removes what a crash left (the OS
 * temp folder kept a whole video per crash, and may be memory). A presigned URL would also work with
 * ffmpeg's HTTP range reads, but costs one request per seek and leaks the URL into process lists.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageDriver } from '../../storage/types';

/** Where temp files live: the derivative cache's (cache/derivatives.ts `files`). */
export interface TempFiles {
  /** Settles once the folder is swept at start (a file made before would be swept with it). */
  readonly ready: Promise<unknown>;
  tempPath(): string;
}

export async function withLocalSource<T>(storage: StorageDriver, key: string, temp: TempFiles, fn: (path: string) => Promise<T>): Promise<T> {
  if (storage.localPath) return fn(storage.localPath(key));
  await temp.ready;
  const path = temp.tempPath();
  await mkdir(dirname(path), { recursive: true }); // made at start, unless the cache could not open
  try {
    const body = await storage.get(key);
    if (!body) throw new Error(`stored object ${key} is missing`);
    await pipeline(Readable.fromWeb(body as unknown as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(path));
    return await fn(path);
  } finally {
    await rm(path, { force: true });
  }
}
