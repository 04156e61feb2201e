/**
 * A JSON body written once, as text, with its length. Elysia serialises a returned object itself,
 * and the request log then had to serialise it again to know its size (logs/routes.ts reads
 * `Content-Length` of a `Response`); for big hot bodies (a file list page, whose text the
 * database writes: files/list-query.ts) that second pass was a measurable share of the request.
 * The body still follows the route's documented schema: the suite checks every answer against
 * /openapi.json.
 */
export function jsonTextResponse(text: string): Response {
  return new Response(text, {
    headers: { 'content-type': 'application/json;charset=utf-8', 'content-length': String(Buffer.byteLength(text)) },
  });
}
