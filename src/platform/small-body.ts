/**
 * A small in-memory body for an answer that is ready only after an `await` (a database read).
 * Bun 1.4 corks a socket only around the synchronous part of a request handler, so such an
 * answer leaves uncorked: the status line and each header's name, `: `, value and CRLF in a
 * `send()` of their own, ~50 system calls and TCP segments for an API answer with Pictor's
 * headers (oven-sh/bun#41341, open). A body given as a one-chunk stream is written corked:
 * headers and body in one `send()`, and the chunked terminator in a second. The price is
 * `Transfer-Encoding: chunked` instead of `Content-Length` (Bun ignores a handler's
 * `Content-Length` on a stream body, as file-body.ts notes); `bodyLength` keeps the length for
 * the request log. On a file list page this saved ~25 % of the server's CPU (docs/TUNING.md,
 * "The file list"). Deno writes a plain body in one go: there it stays one, with its length.
 */
import { isBun } from './runtime';

const lengths = new WeakMap<Response, number>();

/** An answer with `text` as its UTF-8 body, sent in as few writes as the runtime allows. */
export function smallBodyResponse(text: string, init: { status?: number; headers: Record<string, string> }): Response {
  if (!isBun) return new Response(text, init); // Deno adds the Content-Length
  const bytes = Buffer.from(text);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const res = new Response(stream, init);
  lengths.set(res, bytes.byteLength);
  return res;
}

/** The body length of a `smallBodyResponse` that carries no `Content-Length`, else undefined. */
export const bodyLength = (res: Response): number | undefined => lengths.get(res);
