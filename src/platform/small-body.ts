/**
 * Answers with a JSON body too large for one corked write, made after an `await` (a database
 * read, a Redis round trip). Bun 1.4 assembles an answer in a 16 KiB cork buffer; one whose
 * headers and body do not fit, written outside the synchronous part of a request handler, leaves
 * uncorked: the status line and each header's name, `: `, value and CRLF in a `send()` of their
 * own, ~50 system calls and TCP segments with Pictor's headers (oven-sh/bun#41341, open; a file
 * list page is ~30 KB). A body given as a one-chunk stream is written corked: headers and body in
 * one `send()`, and the chunked terminator in a second. The price is `Transfer-Encoding: chunked`
 * instead of `Content-Length` (Bun ignores a handler's `Content-Length` on a stream body, as
 * file-body.ts notes). On a list page this saved ~25 % of the server's CPU (docs/TUNING.md, "The
 * file list"). Smaller answers leave in one write as they are; Deno writes any body in one go.
 */

/** Answers that carry no body, whatever they declare. */
const BODILESS = new Set([101, 204, 205, 304]);
/** Bodies up to this size fit Bun's 16 KiB cork buffer with their headers (a few hundred bytes; 4 KiB allowed). */
const FITS_ONE_WRITE = 12 * 1024;
/** Larger JSON bodies are left as they are (nothing Pictor answers in JSON from memory comes near it). */
const MAX_BYTES = 1024 * 1024;

/**
 * `res`, made after an `await` by the app, re-made with a one-chunk body when it is JSON held in
 * memory (it declares its length) and too large to fit the cork buffer; any other answer (small,
 * files, streams, HTML, empty) is returned as it is. For Bun's handler (server.ts); HEAD answers
 * are not passed here.
 */
export async function inOneWrite(res: Response): Promise<Response> {
  const type = res.headers.get('content-type');
  if (!type || !(type.startsWith('application/json') || type.includes('+json')) || BODILESS.has(res.status)) return res;
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (!(declared > FITS_ONE_WRITE && declared <= MAX_BYTES)) return res;
  const bytes = await res.bytes();
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(body, { status: res.status, headers });
}
