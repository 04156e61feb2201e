/**
 * `/api/uploads/tus` (API.md §4, issue #22): tus 1.0.0 with `creation`, `creation-with-upload`,
 * `creation-defer-length`, `termination`, `expiration` and `checksum` (sha256). Answers carry
 * `Tus-Resumable`; errors keep the usual JSON envelope, with tus's own statuses where the
 * protocol names one (409 offset, 412 version, 423 busy, 460 checksum).
 *
 * Credentials: the creating request authenticates like any upload (API key with `files:write`,
 * cookie + CSRF, JWT), or is a presigned URL (`POST /api/uploads/<token>/tus`); later requests
 * to the upload URL need the same account again, except for a presigned upload, whose random
 * upload URL is then the credential (a browser holding a presigned URL has nothing else).
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { AppError, errorResponse, errorResponses, insufficientStorage, internalError, isDiskFullError, methodNotAllowed, notFound, outageCause, outageOf, validationError } from '../../errors';
import { onUnmatchedPath, requestIdOf, streamRequestBody } from '../../http';
import { clientDisconnected } from '../../platform/server';
import { authGuard, notAuthenticated, requireScope } from '../auth/guard';
import { claimUploadToken } from '../files/presign';
import { guardIdleBody } from '../files/idle';
import { acquireUploadSlot } from '../limits/lease';
import { enforceApiLimit, limitHeadersOf } from '../limits/plugin';
import type { Account } from '../limits/service';
import { chargeUploadBytes, startUploadLimits } from '../limits/upload';
import { prepareUpload } from '../files/upload';
import { users } from '../users/table';
import { eq } from 'drizzle-orm';
import { appendChunk, chunkError, createUpload, finishSaved, getFinished, getUpload, terminateUpload, type ChunkResult } from './service';
import type { TusFinishedRow, TusUploadRow } from './table';

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,creation-with-upload,creation-defer-length,termination,expiration,checksum';
const BASE = '/api/uploads/tus';

type Headers = Record<string, string>;

const numberHeader = (request: Request, name: string): number | null => {
  const raw = request.headers.get(name);
  if (raw === null) return null;
  const n = /^\d{1,16}$/.test(raw.trim()) ? Number(raw) : NaN;
  // 16 digits may pass 2^53: such a value would be rounded, and compared as another number.
  if (!Number.isSafeInteger(n)) throw validationError(`${name} must be a non-negative integer.`, [{ path: `/${name}`, message: raw.slice(0, 32) }]);
  return n;
};

/** `Upload-Checksum: sha256 <base64>`; other algorithms → 400 (tus: only those in `Tus-Checksum-Algorithm`). */
function checksumOf(request: Request): Buffer | null {
  const raw = request.headers.get('upload-checksum');
  if (raw === null) return null;
  const [algo, value, extra] = raw.trim().split(' ');
  const digest = value && extra === undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
  // A value that is no SHA-256 digest (32 bytes) is malformed (400), not a mismatch (460).
  if (algo !== 'sha256' || digest?.byteLength !== 32) {
    throw validationError('Upload-Checksum must be `sha256 <base64 of the 32-byte digest>`.', [{ path: '/Upload-Checksum', message: raw.slice(0, 80) }]);
  }
  return digest;
}

function checkVersion(request: Request): void {
  const v = request.headers.get('tus-resumable');
  if (v !== TUS_VERSION) {
    throw new AppError('PRECONDITION_FAILED', 412, `Send Tus-Resumable: ${TUS_VERSION}.`, undefined, { 'tus-version': TUS_VERSION });
  }
}

/** The methods of each tus URL, for the 405 of another one (tus: `Tus-Resumable` on every answer but OPTIONS). */
const TUS_PATHS: [RegExp, string[]][] = [
  [/^\/api\/uploads\/tus$/, ['OPTIONS', 'POST']],
  [/^\/api\/uploads\/tus\/[^/]+$/, ['DELETE', 'HEAD', 'OPTIONS', 'PATCH']],
  [/^\/api\/uploads\/[^/]+\/tus$/, ['OPTIONS', 'POST']],
];

export function tusRoutes(deps: AppDeps) {
  onUnmatchedPath(deps, (request, path) => {
    const allowed = TUS_PATHS.find(([pattern]) => pattern.test(path))?.[1];
    if (!allowed || allowed.includes(request.method)) return undefined;
    const refused = methodNotAllowed(request.method, allowed);
    return new AppError(refused.code, refused.status, refused.message, refused.details, { ...refused.headers, 'tus-resumable': TUS_VERSION });
  });
  streamRequestBody(deps, BASE);
  streamRequestBody(deps, `${BASE}/:id`);
  streamRequestBody(deps, '/api/uploads/:token/tus');
  const store = deps.tus;
  const resolver = deps.credentials;
  // The PATCHes this process is receiving, by upload: a termination stops its own process's one
  // (as tusd's request interruption does) instead of removing bytes under it.
  const writing = new Map<string, Set<{ stop: () => void; done: Promise<void> }>>();

  const tusHeaders = (row?: TusUploadRow): Headers => ({
    'tus-resumable': TUS_VERSION,
    ...(row ? { 'upload-expires': row.expiresAt.toUTCString() } : {}),
  });

  /**
   * Runs a tus handler: every error but a client's disconnect (the global mapper's 499) becomes
   * the envelope with the tus headers kept (tus wants `Tus-Resumable` on every answer; the global
   * mapper's have none): AppErrors, outages (503, 507), and a bug's 500, logged as the mapper does.
   */
  const tus = async (request: Request, set: { status?: unknown; headers: Record<string, unknown> }, fn: () => Promise<Response>): Promise<Response> => {
    try {
      return await fn();
    } catch (caught) {
      if (clientDisconnected(request, caught)) throw caught;
      let err = caught instanceof AppError ? caught : isDiskFullError(caught) ? insufficientStorage() : outageOf(caught);
      if (!err) {
        err = internalError(requestIdOf(request));
        deps.log.error({ err: caught, request_id: requestIdOf(request), method: request.method, url: request.url }, 'unhandled error');
      } else if (err !== caught) deps.log.warn({ request_id: requestIdOf(request), code: err.code, cause: outageCause(err) }, err.message);
      const headers: Headers = { 'tus-resumable': TUS_VERSION, 'x-request-id': requestIdOf(request) };
      for (const [k, v] of Object.entries(set.headers)) if (k.startsWith('x-ratelimit-') && typeof v === 'string') headers[k] = v;
      set.status = err.status;
      return errorResponse(err, headers);
    }
  };

  const accountOf = async (row: TusUploadRow): Promise<Account & { isBanned: boolean }> => {
    const [u] = await deps.db.select({ role: users.role, isPromoted: users.isPromoted, isBanned: users.isBanned }).from(users).where(eq(users.id, row.userId));
    if (!u) throw notFound('Upload');
    return { userId: row.userId, ...u };
  };

  /** The upload, if this caller may touch it (404 otherwise: never reveal another account's upload). */
  const ownUpload = async (request: Request, path: string, set: { headers: Record<string, unknown> }, id: string): Promise<{ row: TusUploadRow; account: Account }> => {
    const row = await getUpload(deps, id);
    const account = await accountOf(row);
    if (account.isBanned) throw new AppError('ACCOUNT_BANNED', 403, 'This account is banned.');
    if (!row.viaToken) {
      const principal = await resolver.resolve(request);
      if (!principal) throw notAuthenticated(request);
      await enforceApiLimit(deps, path, set, principal);
      requireScope(principal, 'files:write');
      if (principal.userId !== row.userId) throw notFound('Upload');
    }
    return { row, account };
  };

  /**
   * A finished upload's URL asked about again, if this caller may see it; else the 404 an unknown
   * upload gets (`notFound`), so another account learns nothing.
   */
  const ownFinished = async (request: Request, path: string, set: { headers: Record<string, unknown> }, id: string, notFoundError: AppError): Promise<TusFinishedRow> => {
    const done = await getFinished(deps, id);
    if (!done) throw notFoundError;
    if (!done.viaToken) {
      const principal = await resolver.resolve(request);
      if (!principal) throw notAuthenticated(request);
      await enforceApiLimit(deps, path, set, principal);
      requireScope(principal, 'files:write');
      if (principal.userId !== done.userId) throw notFoundError;
    }
    return done;
  };
  /** The live upload, or (404 for it) the finished one of that id, which `onFinished` answers for. */
  const liveOrFinished = async (request: Request, path: string, set: { headers: Record<string, unknown> }, id: string, onFinished: (done: TusFinishedRow) => Response): Promise<{ row: TusUploadRow; account: Account } | Response> => {
    try {
      return await ownUpload(request, path, set, id);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 404) throw err;
      return onFinished(await ownFinished(request, path, set, id, err));
    }
  };
  const finishedHeaders = (done: TusFinishedRow): Headers => ({
    'tus-resumable': TUS_VERSION, 'upload-offset': String(done.length), 'upload-length': String(done.length),
    'x-file-id': done.fileId, 'cache-control': 'no-store',
  });

  /** PATCH (and creation-with-upload): one body at `Upload-Offset`, under the account's concurrency slot. */
  const patch = async (request: Request, row: TusUploadRow, account: Account, offset: number, set: { headers: Record<string, unknown> }): Promise<ChunkResult> => {
    const type = request.headers.get('content-type');
    if (type?.split(';')[0]?.trim().toLowerCase() !== 'application/offset+octet-stream') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'PATCH bodies are sent as Content-Type: application/offset+octet-stream.', { detected: type ?? 'none' });
    }
    const checksum = checksumOf(request);
    // A stale offset changes nothing (checked again under the lease, where a chunk too large for the upload removes it).
    if (offset !== row.offset) throw chunkError(409, `Upload-Offset ${offset} does not match the ${row.offset} bytes received.`);
    // Set under the upload's lease (appendChunk): a PATCH refused there (423) or here (429) changes nothing.
    const length = numberHeader(request, 'upload-length');
    const declared = numberHeader(request, 'content-length');
    const slot = await acquireUploadSlot(deps, account);
    try {
      // `upload_bytes` counts the bytes as they arrive (creation only checked that the length fits).
      const charge = chargeUploadBytes(deps, limitHeadersOf(set), account);
      const body = request.body ? guardIdleBody(request.body, deps.config.uploadIdleTimeoutMs, { owned: true }) : null;
      const interrupt = new AbortController();
      let ended = () => {};
      const entry = { stop: () => interrupt.abort(), done: new Promise<void>((r) => (ended = r)) };
      // A set: a PATCH about to be refused (423) is in it for a moment too, beside the one writing.
      const here = writing.get(row.id) ?? new Set();
      writing.set(row.id, here.add(entry));
      try {
        return await appendChunk(deps, store, account, row, {
          offset, length, body, checksum, declared, onBytes: charge.chargeBytes, interrupt: interrupt.signal,
        });
      } finally {
        // Also when the PATCH fails: a dropped or idle client's bytes are kept, and count.
        await charge.finish().catch((err: unknown) => deps.log.warn({ err }, 'upload_bytes not counted for a tus chunk'));
        here.delete(entry);
        if (here.size === 0 && writing.get(row.id) === here) writing.delete(row.id);
        ended();
      }
    } finally {
      await slot.release();
    }
  };

  const fileHeaders = (r: ChunkResult): Headers => (r.file ? { 'x-file-id': r.file.id } : {});

  /** Creation: checks, rate limits (count, declared bytes, a concurrency slot), then the optional first chunk. */
  const create = async (
    request: Request, set: { status?: unknown; headers: Record<string, unknown> }, account: Account, policy: Parameters<typeof createUpload>[3]['policy'], token: string | null,
    progress: { created: boolean } = { created: false },
  ) => {
    checkVersion(request);
    // Not offered (Tus-Extension has no concatenation): a partial upload taken as a whole file was a file of one part.
    if (request.headers.has('upload-concat')) {
      throw validationError('Upload-Concat is not supported here (the concatenation extension is not offered): send the file as one upload.', [{ path: '/Upload-Concat', message: 'not supported' }]);
    }
    const length = numberHeader(request, 'upload-length');
    const defer = request.headers.get('upload-defer-length');
    if ((length === null) === (defer === null) || (defer !== null && defer !== '1')) {
      throw validationError('Send either Upload-Length or Upload-Defer-Length: 1.', [{ path: '/Upload-Length', message: 'missing or both' }]);
    }
    // A body is the first chunk (creation-with-upload), sent as every chunk is; another was dropped unread.
    const type = request.headers.get('content-type');
    const chunkType = type?.split(';')[0]?.trim().toLowerCase() === 'application/offset+octet-stream';
    // (Some clients send an empty POST chunked, with no type: that is no body.)
    const withBody = chunkType || Number(request.headers.get('content-length') ?? 0) > 0 || (type !== null && request.headers.has('transfer-encoding'));
    if (withBody && !chunkType) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'A creation body is the first chunk: send it as Content-Type: application/offset+octet-stream, or send none.', { detected: type ?? 'none' });
    }
    const limits = await startUploadLimits(deps, limitHeadersOf(set), account, length);
    await limits.release();
    const row = await createUpload(deps, store, account, { length, metadata: request.headers.get('upload-metadata'), policy, token });
    progress.created = true;
    const headers: Headers = { ...tusHeaders(row), location: `${BASE}/${row.id}` };
    let result: ChunkResult = { row, file: null };
    if (withBody) {
      try {
        result = await patch(request, row, account, 0, set);
      } catch (err) {
        throw await failedCreation(row, err);
      }
      headers['upload-offset'] = String(result.row.offset);
    }
    set.status = 201;
    return new Response(null, { status: 201, headers: { ...headers, ...fileHeaders(result) } });
  };

  /**
   * The first chunk of a creation failed. An upload that kept bytes is answered with its
   * `Location` (and `Upload-Offset`), as tusd does, so a client can resume it; one with none, or
   * whose client is gone (it never learned the URL), is removed: left, it held its length of the
   * quota for an hour and its bytes for a day, out of everyone's reach.
   */
  const failedCreation = async (row: TusUploadRow, err: unknown): Promise<unknown> => {
    const now = await getUpload(deps, row.id).catch(() => null);
    if (!now) return err; // removed by the refusal itself (413, 415)
    if (err instanceof AppError && now.offset > 0) {
      return new AppError(err.code, err.status, err.message, err.details, { ...err.headers, location: `${BASE}/${row.id}`, 'upload-offset': String(now.offset), ...tusHeaders(now) });
    }
    await terminateUpload(deps, store, now).catch((e: unknown) => deps.log.warn({ err: e, upload_id: row.id }, 'a failed tus creation could not remove its upload'));
    return err;
  };

  /** Tus-Max-Size: the caller's own limit when the request says who it is, else the largest plan's. */
  const discovery = async (request: Request): Promise<Response> => {
    const principal = await resolver.resolve(request).catch(() => null);
    const max = principal
      ? (await prepareUpload(deps, principal)).maxBytes
      : Math.max(deps.config.maxUploadBytes, deps.config.promotedMaxUploadBytes);
    return new Response(null, {
      status: 204,
      headers: {
        'tus-resumable': TUS_VERSION, 'tus-version': TUS_VERSION, 'tus-extension': TUS_EXTENSIONS,
        'tus-max-size': String(max), 'tus-checksum-algorithm': 'sha256',
      },
    });
  };

  const tusHeaderDoc = 'tus 1.0.0 headers (`Tus-Resumable`, `Upload-Offset`, `Upload-Length`, …) as in https://tus.io/protocols/resumable-upload.';
  const IdParams = t.Object({ id: t.String({ maxLength: 64 }) });
  return new Elysia({ name: 'pictor.tus.routes', detail: { tags: ['files'] } })
    // Before the guard: its 401 (and any refusal made before `tus()` runs) carries it too, as tus asks of every answer.
    .onTransform(({ set }) => {
      set.headers['tus-resumable'] = TUS_VERSION;
    })
    .use(authGuard(deps))
    .options(BASE, ({ request }) => discovery(request), { response: { 204: t.Void() }, detail: { summary: 'tus discovery', description: `Tus-Version, Tus-Extension (${TUS_EXTENSIONS}), Tus-Max-Size (with credentials your own per-file limit, without them the largest plan's), Tus-Checksum-Algorithm: sha256.` } })
    .options(`${BASE}/:id`, ({ request }) => discovery(request), { params: IdParams, response: { 204: t.Void() }, detail: { summary: 'tus discovery (upload URL)' } })
    .options('/api/uploads/:token/tus', ({ request }) => discovery(request), {
      params: t.Object({ token: t.String({ maxLength: 128 }) }),
      response: { 204: t.Void() },
      detail: { summary: 'tus discovery (presigned URL)', description: 'As `OPTIONS /api/uploads/tus`, for a client given `<presigned url>/tus` as its endpoint.' },
    })
    .post(BASE, ({ request, principal, set }) => tus(request, set, () => create(request, set, principal, {}, null)), {
      auth: 'files:write',
      parse: 'none',
      response: { 201: t.Void(), ...errorResponses(400, 401, 403, 408, 412, 413, 415, 429, 460, 507) },
      detail: {
        summary: 'Create a resumable (tus) upload',
        description: `${tusHeaderDoc} \`Upload-Length\` (≤ your upload limit, else 413) or \`Upload-Defer-Length: 1\`; \`Upload-Metadata\` keys \`name\`/\`filename\`, \`type\`/\`filetype\` (checked against the sniffed type), \`folder\`, \`is_public\` or \`visibility\` (public|private), \`expires_in\` or \`expires_at\`, \`tags\`, \`metadata\` (JSON object), \`transformations\` (\`|\`-separated), checked as on \`POST /api/files\` (400); other keys are ignored, as tusd does. 201 with \`Location\` and \`Upload-Expires\` (unfinished uploads are removed then). With a body (\`Content-Type: application/offset+octet-stream\`) the first chunk is stored at once (creation-with-upload); when it fails after bytes were kept (408, 429), the error carries \`Location\` and \`Upload-Offset\` to resume from, and when none were kept no upload is left. \`Upload-Concat\` → 400 (not offered). Counts against \`upload_count\` and \`upload_bytes\` like any upload.`,
      },
    })
    .post('/api/uploads/:token/tus', ({ request, params, set }) => tus(request, set, async () => {
      checkVersion(request);
      const claim = await claimUploadToken(deps, params.token);
      const progress = { created: false };
      try {
        return await create(request, set, claim.owner, claim.policy, claim.tokenHash, progress);
      } catch (err) {
        // Once the upload exists it holds the token: removing it gives the token back, and one kept
        // (resumable) keeps it. Given back here too, a second file could be stored with one URL.
        if (!progress.created) await claim.release();
        throw err;
      }
    }), {
      parse: 'none',
      params: t.Object({ token: t.String({ maxLength: 128 }) }),
      response: { 201: t.Void(), ...errorResponses(400, 404, 408, 409, 410, 412, 413, 415, 429, 460, 507) },
      detail: { summary: 'Create a resumable (tus) upload from a presigned URL', description: 'As `POST /api/uploads/tus`, without credentials: use `<presigned url>/tus` as the tus endpoint. The creation takes the token (the upload URL is then the credential; another use of the presigned URL meanwhile is a 409); an upload that ends without a file (refused, terminated or abandoned) gives it back, so the URL works again until it expires; a stored file spends it.' },
    })
    .head(`${BASE}/:id`, ({ request, params, path, set }) => tus(request, set, async () => {
      checkVersion(request);
      // Finished: whole (offset = length), and which file it became, as tusd answers.
      const found = await liveOrFinished(request, path, set, params.id, (done) => new Response(null, { status: 200, headers: finishedHeaders(done) }));
      if (found instanceof Response) return found;
      const { row, account } = found;
      // Whole but without its file (the request that brought the last byte died): finished now,
      // so the client that asks where to resume learns the file (a client told "whole" and no
      // file reported success, and no file ever came).
      if (row.length !== null && row.offset === row.length && row.contentType !== null) {
        const result = await finishSaved(deps, store, account, row);
        return new Response(null, { status: 200, headers: { ...tusHeaders(result.row), 'upload-offset': String(row.offset), 'upload-length': String(row.length), 'cache-control': 'no-store', ...fileHeaders(result) } });
      }
      return new Response(null, {
        status: 200,
        headers: {
          ...tusHeaders(row), 'upload-offset': String(row.offset), 'cache-control': 'no-store',
          ...(row.length === null ? { 'upload-defer-length': '1' } : { 'upload-length': String(row.length) }),
          ...(row.metadata ? { 'upload-metadata': row.metadata } : {}),
        },
      });
    }), { params: IdParams, response: { 200: t.Void(), ...errorResponses(400, 401, 403, 404, 410, 412, 415, 423, 429, 507) }, detail: { summary: 'Offset of a tus upload', description: `${tusHeaderDoc} A finished upload answers 200 with \`Upload-Offset\` = \`Upload-Length\` and its file's id in \`X-File-Id\` until the upload URL would have expired (a client whose last answer was lost learns the upload is whole). An upload whose bytes all arrived but whose file was never made (the server stopped in between) is finished by this request, with the checks of the last \`PATCH\` (415, 507: the upload is then removed; 423 while another request finishes it). 404 unknown (or another account's), 410 expired.` } })
    .patch(`${BASE}/:id`, ({ request, params, path, set }) => tus(request, set, async () => {
      checkVersion(request);
      const offset = numberHeader(request, 'upload-offset');
      if (offset === null) throw validationError('Upload-Offset is required.', [{ path: '/Upload-Offset', message: 'missing' }]);
      // The last PATCH again (its answer was lost): whole already, nothing more to take.
      const found = await liveOrFinished(request, path, set, params.id, (done) => {
        if (offset !== done.length || Number(request.headers.get('content-length') ?? 0) > 0) {
          throw chunkError(409, `This upload is finished: all ${done.length} bytes arrived and became file ${done.fileId}.`);
        }
        return new Response(null, { status: 204, headers: finishedHeaders(done) });
      });
      if (found instanceof Response) return found;
      const { row, account } = found;
      const result = await patch(request, row, account, offset, set);
      return new Response(null, { status: 204, headers: { ...tusHeaders(result.row), 'upload-offset': String(result.row.offset), ...fileHeaders(result) } });
    }), {
      parse: 'none',
      params: IdParams,
      response: { 204: t.Void(), ...errorResponses(400, 401, 403, 404, 408, 409, 410, 412, 413, 415, 423, 429, 460, 507) },
      detail: {
        summary: 'Append to a tus upload',
        description: `${tusHeaderDoc} \`Upload-Offset\` must equal the stored offset (409, checked before anything else, so a stale retry never removes the upload). Optional \`Upload-Checksum: sha256 <base64 of the 32-byte digest>\` of this chunk (anything else → 400): a mismatch answers 460 and the chunk is discarded. Bytes beyond \`Upload-Length\` or your limit → 413 and the upload is removed; with a deferred length, a chunk that would take the upload past what your quota leaves (beside your files and other uploads under way) → 507 and the chunk is discarded, the upload kept, and an \`Upload-Length\` the quota cannot hold → 507; a type not accepted (sniffed from the first bytes) → 415 and the upload is removed. A dropped connection keeps what arrived (HEAD tells where to resume). The request that brings the last byte creates the file (its id in \`X-File-Id\`) exactly like \`POST /api/files\`: sha256, jobs, usage, quota (507). Sent again to a finished upload (offset = length, no body), it answers 204 with the same \`X-File-Id\`; anything else there is a 409. On an upload whose bytes all arrived but whose file was never made (the server stopped in between), that empty \`PATCH\` makes the file; one with a body is a 409.`,
      },
    })
    .delete(`${BASE}/:id`, ({ request, params, path, set }) => tus(request, set, async () => {
      checkVersion(request);
      const found = await liveOrFinished(request, path, set, params.id, (done) => {
        throw chunkError(409, `This upload is finished and became file ${done.fileId}: delete the file (DELETE /api/files/${done.fileId}) to remove it.`);
      });
      if (found instanceof Response) return found;
      const { row } = found;
      if (!(await terminateUpload(deps, store, row))) {
        // A PATCH holds the upload: stopped first when this process receives it, else 423.
        const running = [...(writing.get(row.id) ?? [])];
        for (const r of running) r.stop();
        if (running.length) await Promise.race([Promise.all(running.map((r) => r.done)), new Promise((r) => setTimeout(r, 10_000))]);
        if (!running.length || !(await terminateUpload(deps, store, row))) {
          throw chunkError(423, 'A PATCH is writing to this upload; retry the termination shortly.');
        }
      }
      return new Response(null, { status: 204, headers: { 'tus-resumable': TUS_VERSION } });
    }), {
      params: IdParams,
      response: { 204: t.Void(), ...errorResponses(401, 403, 404, 409, 410, 412, 423) },
      detail: {
        summary: 'Terminate a tus upload',
        description: 'Removes the unfinished upload and every byte of it (termination extension). A PATCH this server is receiving for it is stopped first (it answers 410); one another server process holds answers 423: retry. A finished upload is a 409 naming its file (delete the file instead).',
      },
    });
}
