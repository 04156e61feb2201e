/**
 * A JSON body written once, as text. Elysia serialises a returned object itself, and the request
 * log then had to serialise it again to know its size; for big hot bodies (a file list page,
 * whose text the database writes: files/list-query.ts) that was a measurable share of the
 * request. The answer is made after an `await`, so it is sent in one write (chunked on Bun:
 * platform/small-body.ts), and the request log reads its length from there. The body still
 * follows the route's documented schema: the suite checks every answer against /openapi.json.
 */
import { smallBodyResponse } from '../platform/small-body';

export function jsonTextResponse(text: string): Response {
  return smallBodyResponse(text, { headers: { 'content-type': 'application/json;charset=utf-8' } });
}
