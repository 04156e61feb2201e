/**
 * `GET|HEAD /t/<video transformations>/<id>.mp4|.webm`: a rendition ready in the derivative
 * cache's disk tier is streamed from its file (`Range` → 206); otherwise GET starts (or finds)
 * its `video_render` job and answers 202 with the job's status and `Retry-After`, as Openinary
 * and Cloudinary's eager/async video do. HEAD only tells: 200 ready, 202 not yet (no job started).
 * A job that failed answers 422 with its readable error, for an hour and under the same settings;
 * after that the next request tries again.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { AppError, invalidTransformation, notFound, overloaded, rangeNotSatisfiable } from '../../errors';
import { derivativeKey } from '../cache/derivatives';
import { parseTransformation } from '../transform/parse';
import { checkVideoOptions } from './grammar';
import { fileSliceBody } from '../../platform/file-body';
import { headResponse } from '../../http';
import { parseRange } from '../delivery/http';
import { enqueueJob } from '../queue/enqueue';
import { jobs } from '../queue/table';
import type { Delivery, ResolvedRequest } from '../transform/service';
import { matchesEtag } from '../../lib/http-cache';
import { cacheControl, varyHeaders } from '../transform/headers';
import { checkRendition, videoInfo } from './info';
import { enforceIpLimit } from '../limits/plugin';
import type { VideoInfo } from './probe';
import { fetchStoredRendition, type StoredRendition } from './stored';

export const VIDEO_RENDER_JOB = 'video_render';
/** Seconds a client is told to wait before asking again. */
const RETRY_AFTER_S = 2;

export interface RenditionPayload {
  file_id: string;
  sha256: string;
  canonical: string;
  ext: 'mp4' | 'webm';
  variant: string;
  /** The asking process's cache folder id: a worker with another stores the result (stored.ts). */
  asked_by?: string;
  /** Store the result whatever the ids say: asked again by a process that found a finished job's rendition nowhere. */
  store?: boolean;
  /** `renditionSettings` of the asker when it asked: a failure stands only under the same. */
  settings?: string;
}

/**
 * How long a failed rendition answers 422 with its error before the next request tries again:
 * a failure may not recur (a timeout on a loaded machine). One under other settings (a limit
 * raised since) is tried again at once.
 */
export const FAILURE_KEPT_S = 3600;

/**
 * The settings a rendition can fail by (its limits, the largest file the disk cache keeps), as
 * one string kept in the job: a failure under other values says nothing about these.
 */
export function renditionSettings(deps: Pick<AppDeps, 'config' | 'delivery'>): string {
  const v = deps.config.video;
  const l = deps.delivery.limits;
  return [v.maxPixels, v.maxDurationS, v.maxOutputBytes, v.timeoutMs, v.storedBytes, l.maxOutputPixels, l.maxDimension, deps.delivery.cache.files.largest].join(',');
}

async function latestJob(deps: AppDeps, variant: string) {
  const [job] = await deps.db.select({
    id: jobs.id, status: jobs.status, progress: jobs.progress, lastError: jobs.lastError,
    settings: sql<string | null>`${jobs.payload}->>'settings'`,
    // The database's clock, the one that wrote finished_at.
    recent: sql<boolean>`coalesce(${jobs.finishedAt} > now() - ${FAILURE_KEPT_S}::int * interval '1 second', false)`,
  })
    .from(jobs)
    .where(and(eq(jobs.type, VIDEO_RENDER_JOB), sql`${jobs.payload}->>'variant' = ${variant}`))
    .orderBy(desc(jobs.createdAt)).limit(1);
  return job;
}

function pending(status: string, jobId: string | null, progress: number, head: boolean): Response {
  const body = { status, job_id: jobId, progress, retry_after: RETRY_AFTER_S, message: 'The rendition is being made; ask again after Retry-After seconds.' };
  return new Response(head ? null : JSON.stringify(body), {
    status: 202,
    headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(RETRY_AFTER_S), 'cache-control': 'no-store' },
  });
}

/**
 * Renditions of one account's videos waiting or running at once; the next request that would add
 * one is a 503 with `Retry-After` (anyone may ask for a public video's renditions, and each is
 * minutes of CPU).
 */
export const MAX_QUEUED_RENDITIONS = 16;

async function queuedRenditions(deps: AppDeps, userId: string): Promise<number> {
  const [row] = await deps.db.select({ n: sql<number>`count(*)::int` }).from(jobs)
    .where(and(eq(jobs.userId, userId), eq(jobs.type, VIDEO_RENDER_JOB), inArray(jobs.status, ['pending', 'running'])));
  return row?.n ?? 0;
}

export async function serveRendition(
  deps: AppDeps, delivery: Delivery, request: Request, r: ResolvedRequest, set: { headers: Record<string, unknown> },
): Promise<Response> {
  const head = request.method === 'HEAD';
  await delivery.cache.files.ready;
  // Made here, or by a worker with another cache folder (then copied from the storage once).
  const made = async () => (await delivery.cache.files.fileOf(r.key)) ?? (await fetchStoredRendition(deps, r.key));
  const file = await made();
  if (file) return serveFile(deps, request, r, file, head);
  const job = await latestJob(deps, r.key.variant);
  const settings = renditionSettings(deps);
  if (job?.status === 'failed' && job.recent && job.settings === settings) {
    const reason = (job.lastError ?? 'the transcode failed').replace(/\.$/, '');
    throw new AppError('UNPROCESSABLE_IMAGE', 422, `This rendition cannot be made: ${reason}.`, { job_id: job.id, reason: job.lastError });
  }
  if (job && (job.status === 'pending' || job.status === 'running')) return pending(job.status, job.id, job.progress, head);
  // Its job finished between the two looks: the rendition is there now (a poll then queued it again).
  const justMade = job?.status === 'completed' ? await made() : undefined;
  if (justMade) return serveFile(deps, request, r, justMade, head);
  // Checked now (HEAD too), so an over-limit source is a 400 at once rather than a failed job later.
  checkRendition(deps, delivery.limits, await videoInfo(deps, r.file), r.parsed.options, r.parsed.canonical);
  if (head) return pending('not_started', null, 0, true);
  // A new rendition is a cache miss like an image render: the caller's `transform` bucket pays.
  if (!deps.config.disableRateLimit) await enforceIpLimit(deps, request, set, 'transform');
  if (await queuedRenditions(deps, r.file.userId) >= MAX_QUEUED_RENDITIONS) {
    throw overloaded(`At most ${MAX_QUEUED_RENDITIONS} renditions of this account's videos are made at a time; ask again later.`, 30);
  }
  const payload: RenditionPayload = {
    file_id: r.file.id, sha256: r.file.sha256, canonical: r.parsed.canonical, ext: r.rendition ?? 'mp4', variant: r.key.variant,
    asked_by: await askedBy(deps), settings,
    // Made, but neither here nor stored: evicted from the folder its worker shares with this
    // process, or made in a copy of this folder (its id too), which the worker tells apart (jobs.ts).
    ...(job?.status === 'completed' ? { store: true } : {}),
  };
  const created = await enqueueJob(deps.db, {
    type: VIDEO_RENDER_JOB, fileId: r.file.id, userId: r.file.userId, payload: { ...payload }, maxAttempts: 1, priority: 1,
  });
  deps.queue.wake();
  return pending('pending', created?.id ?? null, 0, false);
}

/** This process's cache folder id, for the job (stored.ts); none when it cannot be known. */
export async function askedBy(deps: Pick<AppDeps, 'delivery' | 'log'>): Promise<string | undefined> {
  return deps.delivery.cache.files.identity().catch((err: unknown) => {
    deps.log.warn({ err }, 'the derivative cache folder has no id: renditions made elsewhere will not be stored for this process');
    return undefined;
  });
}

/** A rendition's file in this process's disk cache, or (`key`) its copy in the storage (stored.ts). */
type RenditionSource = { path: string; size: number; mtimeMs: number } | StoredRendition;

async function serveFile(deps: AppDeps, request: Request, r: ResolvedRequest, f: RenditionSource, head: boolean): Promise<Response> {
  const etag = `"${r.key.variant}"`;
  const headers: Record<string, string> = {
    'content-type': r.rendition === 'webm' ? 'video/webm' : 'video/mp4',
    etag,
    ...(f.mtimeMs > 0 ? { 'last-modified': new Date(f.mtimeMs).toUTCString() } : {}),
    'accept-ranges': 'bytes',
    // As an image derivative's: bounded by the URL's `exp` and the file's expiry (it was an hour past them).
    'cache-control': cacheControl(r, deps.clock.now()),
    'x-content-type-options': 'nosniff',
    // A made rendition is a file of the disk tier, here or in the storage's store for other
    // folders (the 202 before it carries no X-Cache: nothing is served).
    'x-cache': 'HIT-DISK',
  };
  varyHeaders(r, headers); // `w_auto`/`dpr_auto` follow the Client Hints

  if (matchesEtag(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers });
  const ifRange = request.headers.get('if-range');
  const range = ifRange && ifRange !== etag ? { kind: 'full' as const } : parseRange(request.headers.get('range'), f.size);
  if (range.kind === 'unsatisfiable') throw rangeNotSatisfiable(f.size);
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : f.size - 1;
  headers['content-length'] = String(end - start + 1);
  if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${f.size}`;
  const status = range.kind === 'partial' ? 206 : 200;
  if (head) return headResponse(request, status, headers, end - start + 1);
  if ('key' in f) {
    const stored = await deps.storage.get(f.key, { start, end });
    if (!stored) throw notFound('Rendition'); // removed since (its video deleted)
    return new Response(stored, { status, headers });
  }
  const body = fileSliceBody(f.path, start, end + 1)
    ?? (Readable.toWeb(createReadStream(f.path, { start, end })) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status, headers });
}

/** `<transformations>.mp4|.webm`: an eager rendition asked for at upload (`transformations=w_320.mp4`). */
export function splitRenditionSegment(segment: string): { segment: string; ext: 'mp4' | 'webm' } | null {
  const m = /^(.+)\.(mp4|webm)$/i.exec(segment);
  return m ? { segment: m[1] as string, ext: (m[2] as string).toLowerCase() as 'mp4' | 'webm' } : null;
}

/**
 * The `video_render` jobs of a new video's eager renditions (like the `derive` job of an image's
 * eager presets); enqueued in the transaction that writes the row. Throws 400 for a segment a
 * rendition cannot take.
 */
export function eagerRenditionJobs(
  deps: Pick<AppDeps, 'config' | 'delivery'>, delivery: Pick<Delivery, 'limits' | 'presets'>, file: { id: string; userId: string; sha256: string; contentType: string },
  info: VideoInfo, segments: readonly string[], askedBy?: string,
) {
  return segments.map((raw) => {
    const split = splitRenditionSegment(raw);
    if (!split) throw invalidTransformation('transformations', 'for a video: renditions written <transformations>.mp4 or .webm', raw);
    const parsed = parseTransformation(split.segment, undefined, delivery.limits, delivery.presets);
    checkVideoOptions(file.contentType, parsed.options, split.ext);
    checkRendition(deps, delivery.limits, info, parsed.options, raw);
    const key = derivativeKey(file.sha256, parsed.canonical, split.ext);
    const payload: RenditionPayload = {
      file_id: file.id, sha256: file.sha256, canonical: parsed.canonical, ext: split.ext, variant: key.variant, asked_by: askedBy, settings: renditionSettings(deps),
    };
    return { type: VIDEO_RENDER_JOB, fileId: file.id, userId: file.userId, payload: { ...payload }, maxAttempts: 1 };
  });
}
