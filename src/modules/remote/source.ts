/**
 * Remote sources: fetching an image that lives on another server, under the SSRF guard
 * (lib/ssrf.ts), and keeping it by URL.
 *
 * - One fetch per URL at a time (concurrent requests for a new URL share it).
 * - Within `REMOTE_CACHE_TTL` a kept source is used without asking its server. After it, the
 *   server is asked with the kept `ETag` (`If-None-Match`) / `Last-Modified`
 *   (`If-Modified-Since`): a 304 keeps the bytes for another TTL, a 200 replaces them.
 * - Kept in memory, bounded by `REMOTE_CACHE_BYTES`; the body read is bounded by
 *   `REMOTE_MAX_BYTES` and the whole exchange by `REMOTE_TIMEOUT_MS`.
 * - What the bytes are is decided by sniffing them, like an upload (files/sniff.ts), never by
 *   the server's `Content-Type`.
 * - Derivatives are keyed by the SHA-256 of the bytes, so an unchanged source reuses them.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Config } from '../../config';
import { AppError, overloaded, payloadTooLarge, unsupportedMediaType } from '../../errors';
import { BodyTooLargeError, guardedFetch, readBounded, SsrfError, type Resolver, type SsrfPolicy } from '../../lib/ssrf';
import { sniffType, SNIFF_BYTES } from '../files/sniff';

export interface RemoteSource {
  url: string;
  bytes: Buffer;
  sha256: string;
  contentType: string;
  etag: string | null;
  lastModified: string | null;
  /** When the server last confirmed (200 or 304) these bytes, ms. */
  checkedAt: number;
}

/** The SSRF policy of every outbound request to a client-chosen URL, from the configuration. */
export function outboundPolicy(config: Config, extra: Partial<SsrfPolicy> = {}): SsrfPolicy {
  return { allowLoopback: config.outbound.allowLoopback, allowPrivate: config.outbound.allowPrivate, ...extra };
}

/** An `SsrfError` (or a fetch failure) as the client's error. */
export function refusalOf(err: unknown, what = 'remote source'): AppError {
  if (err instanceof SsrfError) {
    if (err.reason === 'redirects' || err.reason === 'resolve') {
      return new AppError('REMOTE_SOURCE_UNAVAILABLE', 502, `The ${what} could not be fetched: ${err.message}.`, { reason: err.reason });
    }
    return new AppError('REMOTE_SOURCE_REFUSED', 403, `The ${what} is not allowed: ${err.message}.`, {
      reason: err.reason, ...(err.address ? { address: err.address } : {}),
    });
  }
  const failure = connectionFailure(err);
  return new AppError('REMOTE_SOURCE_UNAVAILABLE', 502, `The ${what} could not be fetched: ${failure.words}.`, { reason: failure.reason });
}

/**
 * A failed connection in the API's words. The runtimes' own read "ECONNREFUSED: Unable to
 * connect. Is the computer able to access the url?" (Bun) or held the OS error (Deno).
 */
export function connectionFailure(err: unknown): { reason: string; words: string } {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const text = `${code} ${(err as Error | null)?.message ?? ''}`;
  if (/ECONNREFUSED|ConnectionRefused|refused/i.test(text)) return { reason: 'refused', words: 'the connection was refused' };
  if (/ETIMEDOUT|timed? ?out/i.test(text)) return { reason: 'timeout', words: 'the connection timed out' };
  if (/ENOTFOUND|EAI_AGAIN|DNS|lookup|resolve/i.test(text)) return { reason: 'resolve', words: 'the host name does not resolve' };
  if (/CERT|TLS|SSL|certificate/i.test(text)) return { reason: 'tls', words: 'its TLS certificate was not accepted' };
  if (/ECONNRESET|ConnectionClosed|reset|closed/i.test(text)) return { reason: 'reset', words: 'the connection was closed before an answer' };
  return { reason: 'connection', words: 'the connection failed' };
}

/**
 * Distinct sources fetched at once per process; past it 503 `OVERLOADED`. Each holds at most
 * `REMOTE_MAX_BYTES` while it downloads, so this bounds the memory of fetches in flight.
 */
export const MAX_CONCURRENT_FETCHES = 16;

export interface RemoteSourceOptions {
  config: Config;
  now: () => number;
  /** Tests only: a resolver of their own; production resolves with the system resolver. */
  resolver?: Resolver;
}

export function createRemoteSources(opts: RemoteSourceOptions) {
  const c = opts.config.remote;
  const policy = outboundPolicy(opts.config, { allowList: c.allowHosts, maxRedirects: c.maxRedirects, resolver: opts.resolver });
  const kept = c.cacheBytes > 0
    ? new LRUCache<string, RemoteSource>({ maxSize: c.cacheBytes, sizeCalculation: (v) => Math.max(1, v.bytes.byteLength) })
    : null;
  const inFlight = new Map<string, Promise<RemoteSource>>();
  let fetches = 0;

  async function fetchSource(url: string, previous: RemoteSource | undefined): Promise<RemoteSource> {
    fetches++;
    const signal = AbortSignal.timeout(c.timeoutMs);
    const timedOut = () => new AppError('REMOTE_SOURCE_TIMEOUT', 504, `The remote source did not arrive within ${c.timeoutMs} ms (REMOTE_TIMEOUT_MS).`, { timeout_ms: c.timeoutMs });
    const headers: Record<string, string> = { accept: 'image/*', 'user-agent': 'Pictor remote-source fetcher' };
    if (previous?.etag) headers['if-none-match'] = previous.etag;
    if (previous?.lastModified) headers['if-modified-since'] = previous.lastModified;
    try {
      const { response } = await guardedFetch(url, policy, { headers, signal });
      if (response.status === 304 && previous) {
        await response.body?.cancel().catch(() => {});
        return { ...previous, checkedAt: opts.now() };
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => {});
        throw new AppError('REMOTE_SOURCE_UNAVAILABLE', 502, `The remote source answered ${response.status}.`, { status: response.status });
      }
      const body = await readBounded(response, c.maxBytes, signal);
      const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const contentType = await sniffType(bytes.subarray(0, SNIFF_BYTES), bytes.byteLength <= SNIFF_BYTES);
      if (!contentType.startsWith('image/') || (contentType === 'image/svg+xml' && !opts.config.rasterizeSvg)) {
        throw unsupportedMediaType(`The remote source is not a raster image (its bytes are ${contentType}).`, { detected: contentType });
      }
      return {
        url,
        bytes,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        contentType,
        etag: response.headers.get('etag'),
        lastModified: response.headers.get('last-modified'),
        checkedAt: opts.now(),
      };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (signal.aborted) throw timedOut();
      if (err instanceof BodyTooLargeError) throw payloadTooLarge(err.maxBytes, 'The remote source');
      throw refusalOf(err);
    }
  }

  return {
    policy,
    /** Fetches so far (tests: a cache hit fetches nothing). */
    fetches: () => fetches,
    /** The source of `url`: kept and fresh, revalidated, or fetched. */
    async get(url: string): Promise<RemoteSource> {
      const have = kept?.get(url);
      if (have && opts.now() - have.checkedAt < c.cacheTtlMs) return have;
      let p = inFlight.get(url);
      if (!p) {
        if (inFlight.size >= MAX_CONCURRENT_FETCHES) throw overloaded(`${MAX_CONCURRENT_FETCHES} remote sources are being fetched already; retry shortly.`);
        p = fetchSource(url, have).finally(() => inFlight.delete(url));
        inFlight.set(url, p);
      }
      const src = await p;
      if (kept && src.bytes.byteLength <= c.cacheBytes / 4) kept.set(url, src);
      return src;
    },
  };
}

export type RemoteSources = ReturnType<typeof createRemoteSources>;
