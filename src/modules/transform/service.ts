/**
 * Delivery of derivatives: the per-process objects (presets, lookup cache, derivative cache,
 * pool) and the request flow of TRANSFORMS.md:
 *
 *   parse → authorise (policy, signature, expiry, file visibility/owner) → resolve the format
 *   and cache key → 304 → memory hit → disk hit → miss: render under the pool (single-flight).
 *
 * A memory hit is synchronous after the lookup cache, with no Postgres, disk or hashing beyond
 * one short SHA-256 of the key.
 */
import { LRUCache } from 'lru-cache';
import { countBoundedLru } from '../../lib/lru';
import type { CoreDeps } from '../../deps';
import { AppError, forbidden, gone, invalidSignature, invalidTransformation, notFound } from '../../errors';
import { ObjectTooLargeError } from '../../storage/types';
import { releaseMemoryWhenIdle } from '../../platform/allocator';
import { createDerivativeCache, derivativeKey, type DerivativeCache } from '../cache/derivatives';
import { createFileLookup, type FileLookup, type FileLookupCache } from '../cache/lookup';
import type { CachedDerivative, DerivativeKey } from '../cache/types';
import { chooseFormat, EXTENSION_OF, factsFromContentType, type SourceFacts } from './negotiate';
import type { OutputFormat, ParsedTransformation, ParseLimits, Preset } from './options';
import { parseTransformation } from './parse';
import { renderTransformation } from './chain';
import { applyHints, hintHeaders, usesHints, type ClientHints } from './hints';
import { createTransformPool, type TransformPool } from './pool';
import { readableImage } from './heic';
import { loadPresets } from './presets';
import { probeImage, type ProbedImage } from './probe';
import { applySharpSettings } from './sharp-settings';
import { signedPayload, verifySignature } from './sign';
import { createUnreadableSources } from './unreadable';
import { createAccountLayers, resolveLayers, type AccountLayers, type AccountLayersCache, type LayerRef, type LayerResolver } from './layer-sources';
import type { ImageLayer } from './overlay';
import { checkVideoOptions, renditionExtOf, type RenditionExt } from '../video/grammar';
import { extractPoster } from '../video/poster';

export interface TransformRequest {
  transformations: string;
  /** `<id>[.<ext>]` as in the URL. */
  file: string;
  signature?: string;
  accept: string;
  /** Internal callers (the eager `derive` job): no policy or signature, private files allowed. */
  trusted?: boolean;
  /** Client Hints of the request, for `w_auto`/`dpr_auto` (hints.ts). */
  hints?: ClientHints;
}

/** Everything the response needs once a request is authorised and its key resolved. */
export interface ResolvedRequest {
  file: FileLookup;
  parsed: ParsedTransformation;
  format: OutputFormat;
  key: DerivativeKey;
  /** Format chosen by `Accept` (→ `Vary: Accept`). */
  negotiated: boolean;
  signed: boolean;
  /** A video rendition (`.mp4`/`.webm`, modules/video): served from its file, made by a queue job. */
  rendition?: RenditionExt;
  /** Image layers (layer-sources.ts): the URL's `l_` and a forced watermark, owner-checked. */
  layers?: readonly LayerRef[];
  /** Hint headers the answer depends on (`w_auto`/`dpr_auto`): listed in `Vary`, asked for with `Accept-CH`. */
  hints?: readonly string[];
  /** `file` is the `d_` default image standing in for a missing one: a short, revalidated cache life. */
  fallback?: boolean;
}

export interface Delivery {
  presets: ReadonlyMap<string, Preset>;
  limits: ParseLimits;
  lookup: FileLookupCache;
  /** Per-account watermark settings (layer-sources.ts). */
  accounts: AccountLayersCache;
  cache: DerivativeCache;
  pool: TransformPool;
  /** Whether an original's bytes are held in the source cache (for tests). */
  sources: { has(sha256: string): boolean };
  /** Responses the delivery fast path (fast.ts) answered itself; exported as a metric. */
  fastPath: { responses: number };
  /** Resolves a request: authorises it and finds its file, format and cache key (throws the request's error). */
  resolve(req: TransformRequest): Promise<ResolvedRequest>;
  /**
   * The synchronous half of `resolve`, for the delivery fast path: the same resolution when
   * nothing in it must wait (the file in the lookup cache, a format needing no probe, no layers
   * to look up); otherwise, and on every error `resolve` would throw, undefined.
   */
  resolveNow(req: TransformRequest): ResolvedRequest | undefined;
  /** Renders (or joins the render of) a missed derivative; resolves with the stored entry and render time. */
  render(r: ResolvedRequest): Promise<{ entry: CachedDerivative; ms: number }>;
  /** Renders presets marked eager, and `extra` segments (asked for at upload), for one file (the `derive` job). */
  deriveEager(fileId: string, extra?: readonly string[]): Promise<number>;
  /**
   * Renders bytes that are no stored file (remote sources, modules/remote) into `key`: the same
   * pool, pipeline, limits, unreadable-source memory and derivative cache as `render`.
   */
  renderBytes(key: DerivativeKey, input: Buffer, probed: ProbedImage, parsed: ParsedTransformation, format: OutputFormat): Promise<{ entry: CachedDerivative; ms: number }>;
  /** Probes bytes with the server's input limits (pixels, frames, SVG) before a render. */
  probeBytes(input: Buffer): Promise<ProbedImage>;
}

const NO_LAYERS: { refs: LayerRef[]; identity: string } = { refs: [], identity: '' };

/** Largest original we read into memory for a render; bigger files answer 400. */
const MAX_SOURCE_BYTES = 512 * 1024 * 1024;
/** What the parsed-segment cache may hold in all (its entries are counted as 6 × the key's length + 1 KiB). */
const PARSED_CACHE_BYTES = 32 * 1024 * 1024;

/** The delivery objects of one app (built once by `buildDeps`). */
export function createDelivery(deps: CoreDeps): Delivery {
  const c = deps.config;
  applySharpSettings(c.transformConcurrency);
  const limits: ParseLimits = { maxDimension: c.maxDimension, maxOutputPixels: c.maxOutputPixels };
  const presets = loadPresets(c.presets, limits);
  const cache = createDerivativeCache({ dir: c.cacheDir, memoryBytes: c.cacheMemoryBytes, diskBytes: c.cacheDiskBytes, log: deps.log });
  /**
   * Recently rendered originals with their probed header, by SHA-256 (content never changes
   * under a digest). A page asks for several sizes of a new image at once (`srcset`), and each
   * miss would otherwise read the whole original from storage again (an S3 GET each) and
   * re-probe it. Bounded by bytes; an original bigger than a quarter of the budget is not kept.
   */
  const sources = c.sourceCacheBytes > 0
    ? new LRUCache<string, { input: Buffer; probed: ProbedImage }>({ maxSize: c.sourceCacheBytes, sizeCalculation: (v) => Math.max(1, v.input.byteLength) })
    : null;
  const lookup = createFileLookup(deps, (sha) => {
    sources?.delete(sha);
    return cache.purgeOriginal(sha);
  });
  // Idle after renders: glibc keeps what libvips freed unless asked to return it (#17.19).
  const pool: TransformPool = createTransformPool({
    concurrency: c.transformConcurrency, queue: c.transformQueue, timeoutMs: c.transformTimeoutMs,
    onIdle: () => releaseMemoryWhenIdle(() => pool.stats().in_flight === 0),
  });
  const accounts = createAccountLayers(deps);
  const layerResolver: LayerResolver = {
    lookup, accounts, now: () => deps.clock.now(), parseSpec: (spec) => parse(spec, undefined).options,
  };
  /**
   * Parsed segments: the same few URLs repeat endlessly on a busy site. Keys come from URLs (up to
   * MAX_CHAIN_STEPS segments of 1024 characters), so the bound is in bytes too: a parse and its
   * canonical form are about as large again as the key, plus a fixed part.
   */
  const parsedCache = new LRUCache<string, ParsedTransformation>({ max: 10_000, maxSize: PARSED_CACHE_BYTES, sizeCalculation: (_, key) => 6 * key.length + 1024 });
  /** Probed facts per original (alpha, animation), for `f_auto` without re-reading it. */
  const factsCache = countBoundedLru<string, SourceFacts>(100_000);
  /** Originals that do not decode: answered 422 at once, never read or rendered again (#17.7). */
  const unreadable = createUnreadableSources();
  const renderLimits = { ...limits, maxInputPixels: c.maxInputPixels, timeoutMs: c.transformTimeoutMs };
  const probeLimits = { maxInputPixels: c.maxInputPixels, maxAnimationFrames: c.maxAnimationFrames, rasterizeSvg: c.rasterizeSvg };

  function parse(segment: string, ext: string | undefined): ParsedTransformation {
    const k = ext === undefined ? segment : `${segment}\n${ext}`;
    let p = parsedCache.get(k);
    if (!p) {
      p = parseTransformation(segment, ext, limits, presets);
      parsedCache.set(k, p);
    }
    return p;
  }

  async function readOriginal(file: FileLookup): Promise<Buffer> {
    const tooBig = () => invalidTransformation('file', `a source of at most ${MAX_SOURCE_BYTES} bytes`, String(file.size));
    if (file.size > MAX_SOURCE_BYTES) throw tooBig();
    const bytes = await deps.storage.read(file.storageKey, MAX_SOURCE_BYTES).catch((err: unknown) => {
      throw err instanceof ObjectTooLargeError ? tooBig() : err;
    });
    if (!bytes) throw notFound('File');
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Originals being read and probed, by SHA-256. */
  const loading = new Map<string, Promise<{ input: Buffer; probed: ProbedImage }>>();

  async function probeSource(file: FileLookup): Promise<{ input: Buffer; probed: ProbedImage }> {
    if (!file.contentType.startsWith('image/') || (file.contentType === 'image/svg+xml' && !c.rasterizeSvg)) {
      throw invalidTransformation('file', 'a raster image (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)', `not a raster image (${file.contentType})`);
    }
    const kept = sources?.get(file.sha256);
    if (kept) return kept;
    const known = unreadable.get(file.sha256);
    if (known) throw known;
    // The sizes of a `srcset` arrive together: one read (and one HEIC decode) serves them all.
    let load = loading.get(file.sha256);
    if (!load) {
      load = loadSource(file).finally(() => loading.delete(file.sha256));
      loading.set(file.sha256, load);
    }
    return load;
  }

  async function loadSource(file: FileLookup): Promise<{ input: Buffer; probed: ProbedImage }> {
    const remember = (err: unknown): never => {
      throw err instanceof AppError && err.code === 'UNPROCESSABLE_IMAGE' ? unreadable.remember(file.sha256, err) : err;
    };
    // An HEVC-coded HEIC is decoded once, here, into bytes every later render reads (heic.ts).
    const input = await readableImage(await readOriginal(file), { maxPixels: c.maxInputPixels, timeoutMs: c.transformTimeoutMs, sha256: file.sha256 }).catch(remember);
    const probed = await probeImage(input, probeLimits).catch(remember);
    factsCache.set(file.sha256, { hasAlpha: probed.hasAlpha, animated: probed.animated });
    if (sources && input.byteLength <= c.sourceCacheBytes / 4) sources.set(file.sha256, { input, probed });
    return { input, probed };
  }

  /** A video's poster frame (modules/video/poster.ts) as the render's source image. */
  async function posterSource(r: ResolvedRequest, signal: AbortSignal): Promise<{ input: Buffer; probed: ProbedImage }> {
    const input = await extractPoster(deps, cache.files, r.file, r.parsed.options, signal);
    return { input, probed: await probeImage(input, probeLimits) };
  }

  function checkAccess(file: FileLookup | null, signed: boolean): asserts file is FileLookup {
    if (!file || file.ownerBanned) throw notFound('File');
    if (!file.isPublic && !signed) throw notFound('File');
    if (file.expiresAt !== null && file.expiresAt <= deps.clock.now()) throw gone('This file has expired.');
  }

  /**
   * The one resolution of a request, written once for both callers: a generator that yields a
   * thunk wherever it must wait (a lookup-cache miss, a default image, an account's watermark
   * settings, a probe for the format, image layers). `resolve` (the routed path) awaits each
   * thunk; `resolveNow` (the fast path) stops at the first one. Errors are thrown as they are
   * found, in the same order for both.
   */
  function* resolution(req: TransformRequest): Generator<() => Promise<unknown>, ResolvedRequest, unknown> {
    const dot = req.file.lastIndexOf('.');
    const id = dot > 0 ? req.file.slice(0, dot) : req.file;
    const ext = dot > 0 ? req.file.slice(dot + 1) : undefined;
    // No file has such an id (`..%2fabc` read as the id `.` with a bad extension): 404, not a word on the extension.
    if (!FILE_ID.test(id)) throw notFound('File');
    const rendition = renditionExtOf(ext);
    const written = parse(req.transformations, rendition ? undefined : ext);
    const parsed = applyHints(written, req.hints ?? {}, limits);
    const signed = req.signature !== undefined || req.trusted === true;
    if (req.trusted) {
      // Internal render: nothing to verify.
    } else if (signed) {
      if (!verifySignature(deps.secrets.signingSecrets, signedPayload(req.transformations, req.file), req.signature as string)) {
        throw invalidSignature();
      }
      if (parsed.exp !== undefined && parsed.exp * 1000 <= deps.clock.now()) throw gone('This signed URL has expired.');
    } else if (c.transformPolicy === 'signed' || (c.transformPolicy === 'presets' && !parsed.presetOnly)) {
      throw new AppError('INVALID_SIGNATURE', 403,
        c.transformPolicy === 'signed' ? 'This server only serves signed transformation URLs.' : 'Unsigned URLs may only use presets (t_<name>), f_auto and dpr.');
    } else if (parsed.exp !== undefined) {
      // An expiry nobody verifies would promise something the URL does not do.
      throw invalidTransformation('exp', 'only in signed URLs (/authenticated/s--<signature>/…)', String(parsed.exp));
    }
    const cached = lookup.peek(id);
    const requested = cached ? cached.value : ((yield () => lookup.get(id)) as FileLookup | null);
    const wantsDefault = parsed.options.d !== undefined && !signed && !rendition && !servable(requested);
    const fallback = wantsDefault ? ((yield () => defaultImage(requested, parsed.options.d as string)) as FileLookup | null) : null;
    const file = fallback ?? requested;
    checkAccess(file, signed);
    checkVideoOptions(file.contentType, parsed.options, rendition);
    // Unsigned renders carry the account's forced watermark; a rendition cannot, so it is refused.
    const forced = req.signature === undefined;
    if (rendition && forced) {
      const account = accounts.peek(file.userId) ?? ((yield () => accounts.get(file.userId)) as AccountLayers);
      if (account.force !== null) throw unmarkedRefused();
    }
    if (rendition) {
      // A rendition is one ffmpeg job over the video: a chain of image steps cannot apply to it.
      if (parsed.steps) throw invalidTransformation('transformations', 'a single step for a video rendition (.mp4, .webm)', req.transformations);
      return {
        file, parsed, format: 'jpeg', key: derivativeKey(file.sha256, parsed.canonical, rendition), negotiated: false, signed, rendition,
        ...(usesHints(written) ? { hints: hintHeaders(written) } : {}),
      };
    }
    // A chain renders an animation's first frame (chain.ts): its output is a still image.
    const still = parsed.steps ? { animated: false } : {};
    const facts = { ...factsFromContentType(file.contentType), ...factsCache.get(file.sha256), ...still };
    let format = chooseFormat(parsed.options, req.accept, c.autoAvif, facts);
    if (!format) {
      const { probed } = (yield () => probeSource(file)) as { probed: ProbedImage };
      format = chooseFormat(parsed.options, req.accept, c.autoAvif, { hasAlpha: probed.hasAlpha, animated: probed.animated, ...still }) as OutputFormat;
    }
    // No `l_` and no forced watermark (known without waiting): no layers to look up.
    const noLayers = parsed.options.l === undefined && (!forced || accounts.peek(file.userId)?.force === null);
    const layers = noLayers ? NO_LAYERS : ((yield () => resolveLayers(layerResolver, file, parsed.options, forced)) as typeof NO_LAYERS);
    const key = derivativeKey(file.sha256, parsed.canonical + layers.identity, EXTENSION_OF[format]);
    return {
      file, parsed, format, key, negotiated: parsed.options.f === undefined, signed, ...(layers.refs.length ? { layers: layers.refs } : {}),
      ...(usesHints(written) ? { hints: hintHeaders(written) } : {}), ...(fallback ? { fallback: true } : {}),
    };
  }

  async function resolve(req: TransformRequest): Promise<ResolvedRequest> {
    const steps = resolution(req);
    let step = steps.next();
    while (!step.done) step = steps.next(await step.value());
    return step.value;
  }

  function resolveNow(req: TransformRequest): ResolvedRequest | undefined {
    try {
      const step = resolution(req).next();
      return step.done ? step.value : undefined;
    } catch {
      return undefined; // the routed path answers the error
    }
  }

  /** What `/t` renders: raster images (SVG with RASTERIZE_SVG), and videos (their poster frame). */
  const isRaster = (contentType: string) =>
    contentType.startsWith('video/') || (contentType.startsWith('image/') && (contentType !== 'image/svg+xml' || c.rasterizeSvg));

  /** Public and renderable: what an unsigned `/t` URL may show. */
  const servable = (f: FileLookup | null): boolean =>
    f !== null && !f.ownerBanned && f.isPublic && (f.expiresAt === null || f.expiresAt > deps.clock.now()) && isRaster(f.contentType);

  /**
   * `d_<id>`: the default image when the requested file cannot be shown (missing, private,
   * expired, its owner banned, or not a raster image). The default must itself be a public,
   * unexpired raster image whose owner is not banned, and, when the requested file is a public
   * file of another type, belong to that file's owner (a public non-image never borrows another
   * account's image); for a file nobody may see, any such public image (already reachable by
   * its own URL) will do. Otherwise the request answers as without `d_`. Null: no substitution.
   */
  async function defaultImage(requested: FileLookup | null, defaultId: string): Promise<FileLookup | null> {
    if (servable(requested)) return null;
    const peeked = lookup.peek(defaultId);
    const candidate = peeked ? peeked.value : await lookup.get(defaultId);
    if (!candidate || !servable(candidate)) return null;
    const visible = requested !== null && !requested.ownerBanned && requested.isPublic && (requested.expiresAt === null || requested.expiresAt > deps.clock.now());
    if (visible && candidate.userId !== requested.userId) return null;
    return candidate;
  }

  function render(r: ResolvedRequest): Promise<{ entry: CachedDerivative; ms: number }> {
    const known = unreadable.get(r.file.sha256);
    if (known) return Promise.reject(known);
    return pool.run(`${r.key.sha256}/${r.key.variant}`, async (signal) => {
      const started = performance.now();
      const epoch = cache.epochOf(r.file.sha256);
      const { input, probed } = r.file.contentType.startsWith('video/') ? await posterSource(r, signal) : await probeSource(r.file);
      const images: ImageLayer[] = [];
      for (const l of r.layers ?? []) images.push({ ...l, input: (await probeSource(l.file)).input });
      const out = await renderTransformation(input, probed, r.parsed, r.format, renderLimits, undefined, signal, images).catch(async (err: unknown) => {
        // A failure the original's own decode reproduces is a 422, remembered; anything else stays ours (500).
        throw signal.aborted ? err : await unreadable.explain(r.file.sha256, input, err, { limitInputPixels: c.maxInputPixels, animated: probed.animated });
      });
      deps.usage.record(r.file.userId, { imageOps: 1 });
      deps.metrics.transformDuration.observe({ format: r.format }, (performance.now() - started) / 1000);
      return { entry: cache.set(r.key, out.body, epoch), ms: performance.now() - started };
    });
  }

  async function deriveEager(fileId: string, extra: readonly string[] = []): Promise<number> {
    const file = await lookup.get(fileId);
    if (!file || !file.contentType.startsWith('image/') || file.contentType === 'image/svg+xml') return 0;
    const segments = [...[...presets.values()].filter((p) => p.eager).map((p) => `t_${p.name}`), ...extra];
    let n = 0;
    for (const segment of segments) {
      // Browsers send both; derive what they will ask for first (a segment with its own `f_` resolves to one key).
      for (const accept of c.autoAvif ? ['image/avif,image/webp', 'image/webp'] : ['image/webp']) {
        const r = await resolve({ transformations: segment, file: file.id, accept, trusted: true }).catch(() => null);
        if (!r || (await cache.get(r.key))) continue;
        const done = await render(r).then(() => true, (err: unknown) => {
          // An original that does not decode has nothing to derive: done, not a job to retry.
          if (err instanceof AppError && err.code === 'UNPROCESSABLE_IMAGE') return false;
          throw err;
        });
        if (!done) return n;
        n++;
      }
    }
    return n;
  }

  function renderBytes(key: DerivativeKey, input: Buffer, probed: ProbedImage, parsed: ParsedTransformation, format: OutputFormat) {
    const known = unreadable.get(key.sha256);
    if (known) return Promise.reject(known);
    return pool.run(`${key.sha256}/${key.variant}`, async (signal) => {
      const started = performance.now();
      const epoch = cache.epochOf(key.sha256);
      const out = await renderTransformation(input, probed, parsed, format, renderLimits, undefined, signal).catch(async (err: unknown) => {
        throw signal.aborted ? err : await unreadable.explain(key.sha256, input, err, { limitInputPixels: c.maxInputPixels, animated: probed.animated });
      });
      deps.metrics.transformDuration.observe({ format }, (performance.now() - started) / 1000);
      return { entry: cache.set(key, out.body, epoch), ms: performance.now() - started };
    });
  }

  return {
    presets, limits, lookup, accounts, cache, pool, sources: { has: (sha) => sources?.has(sha) ?? false }, fastPath: { responses: 0 }, resolve, resolveNow, render, deriveEager,
    renderBytes, probeBytes: (input) => probeImage(input, probeLimits),
  };
}

/** The shape of every file id (`randomString`, 12 characters today). */
const FILE_ID = /^[A-Za-z0-9]{6,64}$/;

/** A public original or rendition of an account whose renders must all carry its watermark. */
export const unmarkedRefused = () =>
  forbidden('This account serves its images only with its watermark: use a /t/<transformations>/<id> URL (or a signed URL from the owner).');
