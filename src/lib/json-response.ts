/**
 * A JSON body serialised once, with its length. Elysia serialises a returned object itself, and
 * the request log then had to serialise it again to know its size (logs/routes.ts reads
 * `Content-Length` of a `Response`); for big hot bodies (a file list page) that second pass was
 * a measurable share of the request. The body still follows the route's documented schema:
 * the suite checks every answer against /openapi.json.
 */
export function jsonResponse(value: unknown): Response {
  const text = JSON.stringify(value);
  return new Response(text, {
    headers: { 'content-type': 'application/json;charset=utf-8', 'content-length': String(Buffer.byteLength(text)) },
  });
}
