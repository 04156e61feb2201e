/**
 * Part of a file as an HTTP response body whose length the server knows. On Bun a `Bun.file`
 * slice: `Bun.serve` sends it with sendfile(2) and a `Content-Length`, whereas a ReadableStream
 * body goes out chunked whatever `Content-Length` the handler set (oven-sh/bun#10507). Deno
 * honours the handler's `Content-Length` on a stream body, so it needs no file body.
 */
import { isBun } from './runtime';

/** Bytes `start` (inclusive) to `end` (exclusive) of the file at `path`; null where not needed (Deno). */
export function fileSliceBody(path: string, start: number, end: number): Blob | null {
  return isBun ? Bun.file(path).slice(start, end) : null;
}
