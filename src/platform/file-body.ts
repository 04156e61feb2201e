/**
 * Part of a file as an HTTP response body whose length the server knows. On Bun a `Bun.file`
 * slice: `Bun.serve` sends it with sendfile(2) and a `Content-Length`, whereas a ReadableStream
 * body goes out chunked whatever `Content-Length` the handler set (oven-sh/bun#10507). Deno
 * honours the handler's `Content-Length` on a stream body, so it needs no file body.
 * Also the whole-file read of the storage driver, through `Bun.file` where it exists.
 */
import { readFile } from 'node:fs/promises';
import { isBun } from './runtime';

/** Bytes `start` (inclusive) to `end` (exclusive) of the file at `path`; null where not needed (Deno). */
export function fileSliceBody(path: string, start: number, end: number): Blob | null {
  return isBun ? Bun.file(path).slice(start, end) : null;
}

/** The whole file at `path` (the caller has checked its size). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  return isBun ? await Bun.file(path).bytes() : await readFile(path);
}
