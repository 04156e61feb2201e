/**
 * Public delivery of originals (API.md §5): `/i/:id[.ext]` inline, `/d/:id` as an attachment.
 * Private, deleted or banned-owner files are 404 (existence is never revealed), expired 410.
 * Bytes stream from storage with backpressure; nothing is buffered whole. A photo with GPS is
 * served as its location-free public copy (files/public-copy.ts), with that copy's ETag.
 */
import { Elysia, t } from 'elysia';
import { binaryResponse } from '../../openapi-contract';
import type { AppDeps } from '../../deps';
import { IMMUTABLE_CACHE_CONTROL, YEAR_S } from '../../lib/http-cache';
import { errorResponses, gone, notFound, rangeNotSatisfiable } from '../../errors';
import { answerErrorsAsPage, headResponse } from '../../http';
import { unmarkedRefused } from '../transform/service';
import { ensurePublicCopy } from '../files/public-copy';
import { isNotModified, parseRange, safetyHeaders } from './http';


/** What serving stored bytes needs to know about a file (a row or a cached lookup entry). */
export interface StoredFile {
  id: string;
  userId: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  storageKey: string;
  createdAt: Date;
}

/** The bytes anyone but the owner gets: the location-free copy when there is one, else the original. */
export function publicBytesOf<F extends StoredFile & { publicStorageKey: string | null; publicSha256: string | null }>(f: F): F {
  return f.publicStorageKey && f.publicSha256 ? { ...f, storageKey: f.publicStorageKey, sha256: f.publicSha256 } : f;
}

/**
 * A public, live file by public id (the `.ext` suffix is ignored), or the right error. Served
 * from the bus-invalidated lookup cache shared with `/t` (cache/lookup.ts), so a hot original
 * costs no database round trip; delete, visibility, expiry and ban changes reach it at once.
 */
export async function getPublicFileOrThrow(deps: AppDeps, idWithExt: string): Promise<StoredFile & { expiresAt: number | null; publicStorageKey: string | null; publicSha256: string | null }> {
  const id = idWithExt.split('.')[0] ?? '';
  if (!/^[A-Za-z0-9]{6,64}$/.test(id)) throw notFound('File');
  const f = await deps.delivery.lookup.get(id);
  if (!f || f.ownerBanned || !f.isPublic) throw notFound('File');
  if (f.expiresAt !== null && f.expiresAt <= deps.clock.now()) throw gone('This file has expired.');
  // An account that forces its watermark (settings `force_watermark`) never lets an original out unmarked.
  if ((await deps.delivery.accounts.get(f.userId)).force !== null) throw unmarkedRefused();
  return f;
}

/**
 * Builds the response for a stored original: 200, 206, 304 or 416, with ETag, Last-Modified,
 * caching and the safety headers. `cacheControl` lets signed/private delivery choose its own.
 */
export async function serveStoredFile(
  deps: AppDeps, request: Request, f: StoredFile, o: { attachment: boolean; cacheControl: string },
): Promise<Response> {
  const etag = `"${f.sha256}"`;
  const headers: Record<string, string> = {
    etag,
    'last-modified': f.createdAt.toUTCString(),
    'cache-control': o.cacheControl,
    'accept-ranges': 'bytes',
    ...safetyHeaders(f.contentType, f.name, o.attachment),
  };
  if (isNotModified(request.headers, etag, f.createdAt)) {
    const { 'content-type': _t, 'content-disposition': _d, ...rest } = headers;
    return new Response(null, { status: 304, headers: rest });
  }
  const ifRange = request.headers.get('if-range');
  const range = ifRange && ifRange !== etag ? { kind: 'full' as const } : parseRange(request.headers.get('range'), f.size);
  if (range.kind === 'unsatisfiable') throw rangeNotSatisfiable(f.size);
  const partial = range.kind === 'partial' ? range : null;
  const length = partial ? partial.end - partial.start + 1 : f.size;
  headers['content-length'] = String(length);
  if (partial) headers['content-range'] = `bytes ${partial.start}-${partial.end}/${f.size}`;
  const status = partial ? 206 : 200;
  if (request.method === 'HEAD') return headResponse(request, status, headers, length);
  // A body of known length where the driver has one (the file itself on Bun), so the answer
  // carries Content-Length instead of going out chunked. Bun applies a Range itself to a 200
  // with a file body, but only where this parser would too (it ignores malformed and multiple
  // ranges, and any with If-Range), so a Range ignored above gets the whole file, sized.
  const sized = deps.storage.getBody !== undefined;
  const body = f.size === 0 ? null : sized
    ? await deps.storage.getBody!(f.storageKey, partial ?? undefined)
    : await deps.storage.get(f.storageKey, partial ?? undefined);
  if (f.size > 0 && !body) {
    deps.log.error({ file_id: f.id, key: f.storageKey }, 'stored object missing');
    throw notFound('File');
  }
  deps.usage.record(f.userId, { originReads: 1, bytesServed: length });
  return new Response(body, { status, headers });
}

const cacheControlFor = (deps: AppDeps, f: { expiresAt: number | null }): string => {
  if (f.expiresAt === null) return IMMUTABLE_CACHE_CONTROL;
  const left = Math.max(0, Math.floor((f.expiresAt - deps.clock.now()) / 1000));
  return `public, max-age=${Math.min(left, YEAR_S)}`;
};

const Params = t.Object({ id: t.String({ maxLength: 80 }) });
// The file's own type: any allowed type (GET /api/reference/allowed-content-types).
const binary = { 200: binaryResponse('The original bytes.', ['*/*']), 206: binaryResponse('A byte range.', ['*/*']), 304: binaryResponse('Not modified.', []) };

export function deliveryRoutes(deps: AppDeps) {
  const original = (attachment: boolean) => async ({ request, params }: { request: Request; params: { id: string } }) => {
    const f = await getPublicFileOrThrow(deps, params.id);
    return serveStoredFile(deps, request, publicBytesOf(await ensurePublicCopy(deps, f)), { attachment, cacheControl: cacheControlFor(deps, f) });
  };
  const inline = {
    params: Params,
    response: { ...binary, ...errorResponses(403, 404, 410, 416, 429) },
    detail: {
      summary: 'Original (inline)',
      description: 'The original bytes of a public file, except that a photo\'s GPS location is blanked (lossless; ETag is then that copy\'s SHA-256, not the file\'s `sha256`). The owner gets the byte-exact original from `GET /api/files/{id}/original`. ETag, ranges, immutable caching (a year: making the file private or deleting it does not reach copies browsers or CDNs already hold). The extension is decoration: the file\'s own type is served. 403 when the owner forces a watermark on public renders (settings `force_watermark`): use `/t`.',
    },
  };
  const download = {
    params: Params,
    response: { ...binary, ...errorResponses(403, 404, 410, 416, 429) },
    detail: { summary: 'Original (download)', description: 'The same bytes with `Content-Disposition: attachment`.' },
  };
  // A link pasted into a browser gets a page, not the JSON envelope (an <img> asks for images).
  for (const route of ['/i/:id', '/d/:id']) answerErrorsAsPage(deps, route, 'File not available', true);
  return new Elysia({ name: 'pictor.delivery.routes', detail: { tags: ['delivery'] } })
    .get('/i/:id', original(false), inline)
    .head('/i/:id', original(false), { ...inline, detail: { ...inline.detail, summary: 'Original headers (inline)' } })
    .get('/d/:id', original(true), download)
    .head('/d/:id', original(true), { ...download, detail: { ...download.detail, summary: 'Original headers (download)' } });
}
