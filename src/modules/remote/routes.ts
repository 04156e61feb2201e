/**
 * Remote sources (#24): `GET /t/<transformations>/remote/<source>` and its signed form
 * `/authenticated/s--<sig>/<transformations>/remote/<source>`, plus
 * `POST /api/remote/signed-url`.
 *
 * `<source>` is the source URL either percent-encoded (`https%3A%2F%2Fimg.example.com%2Fa.jpg`)
 * or base64url without padding (`aHR0cHM6Ly9pbWcuZXhhbXBsZS5jb20vYS5qcGc`), imgproxy's two
 * forms. Off unless `REMOTE_SOURCES=true`: then nothing is parsed or fetched, the answer is 404.
 *
 * The flow is the stored-file one with a different source: parse the segment (same grammar,
 * presets, limits) → policy/signature → fetch or reuse the source (source.ts, under the SSRF
 * guard) → probe → format (`f_auto` by `Accept`) → derivative cache (keyed by the source's
 * SHA-256) → render under the same pool (`Delivery.renderBytes`). Misses count against the
 * `transform` rate-limit bucket before anything is fetched.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { AppError, errorResponses, gone, invalidSignature, invalidTransformation, notFound, validationError } from '../../errors';
import { checkUrl, SsrfError } from '../../lib/ssrf';
import { binaryResponse } from '../../openapi-contract';
import { authGuard } from '../auth/guard';
import { derivativeKey } from '../cache/derivatives';
import type { CachedDerivative } from '../cache/types';
import { enforceIpLimit } from '../limits/plugin';
import { isNotModified } from '../../lib/http-cache';
import { DEFAULT_SIGNED_TTL_S, matchesEtag, YEAR_S } from '../transform/headers';
import { chooseFormat, EXTENSION_OF } from '../transform/negotiate';
import type { OutputFormat, ParsedTransformation } from '../transform/options';
import { parseTransformation } from '../transform/parse';
import { remoteChain } from '../transform/chain-routes';
import { ACCEPT_CH, applyHints, hintHeaders, readHints, usesHints } from '../transform/hints';
import { signPayload, verifySignature } from '../transform/sign';
import { expirySecond } from '../transform/signed-url';
import { refusalOf } from './source';
import { rawSegments } from '../transform/raw-path';

/** The source URL a `<source>` segment names (percent-encoded or base64url), or a 400. */
export function decodeSource(segment: string): string {
  const bad = (why: string) => validationError(`Invalid remote source: ${why}. Give the URL percent-encoded (https%3A%2F%2F…) or base64url-encoded.`, [{ path: '/source', message: why }]);
  let text: string;
  if (/^https?:\/\//i.test(segment)) {
    text = segment; // already decoded by the router
  } else if (/^https?%3A/i.test(segment)) {
    try {
      text = decodeURIComponent(segment);
    } catch {
      throw bad('malformed percent-encoding');
    }
  } else if (/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) {
    text = Buffer.from(segment, 'base64url').toString('utf8');
  } else {
    throw bad('neither percent-encoded nor base64url');
  }
  if (!/^https?:\/\//i.test(text)) throw bad('not an http(s) URL');
  try {
    return new URL(text).href;
  } catch {
    throw bad('not a valid URL');
  }
}

/**
 * Keys a remote source cannot honour: image layers (`l_`) and the default image (`d_`) name
 * files of an account. Refused rather than ignored.
 */
const NOT_FOR_REMOTE: Record<string, string> = { l: 'l', d: 'd' };

function checkRemoteOptions(parsed: ParsedTransformation): void {
  const steps = [parsed.options, ...(((parsed as { steps?: unknown }).steps as object[] | undefined) ?? [])];
  for (const o of steps) {
    for (const [k, key] of Object.entries(NOT_FOR_REMOTE)) {
      const v = (o as Record<string, unknown>)[k];
      if (v !== undefined) throw invalidTransformation(key, 'a key that does not need an account\'s file (not l_ or d_ on a remote source)', String(v));
    }
  }
}

const sourceParam = t.String({
  description: 'The source URL, percent-encoded (`https%3A%2F%2Fimg.example.com%2Fa.jpg`) or base64url (`aHR0cHM6Ly9pbWcuZXhhbXBsZS5jb20vYS5qcGc`).',
});

export function remoteRoutes(deps: AppDeps) {
  const c = deps.config;
  const delivery = deps.delivery;
  const parsedOf = (segment: string): ParsedTransformation => {
    // The signed URL's body may hold a chain the remote route could never serve (it takes one segment).
    if (segment.includes('/')) throw remoteChain(segment);
    return parseTransformation(segment, undefined, delivery.limits, delivery.presets);
  };

  /** `Vary` (and `Accept-CH`) of an answer: `Accept` when the format was negotiated, the hint headers `w_auto`/`dpr_auto` read. */
  function varyOf(parsed: ParsedTransformation, negotiated: boolean): Record<string, string> {
    const vary = [...(negotiated ? ['Accept'] : []), ...hintHeaders(parsed)];
    return { ...(vary.length ? { vary: vary.join(', ') } : {}), ...(usesHints(parsed) ? { 'accept-ch': ACCEPT_CH } : {}) };
  }

  function headersFor(entry: CachedDerivative, parsed: ParsedTransformation, negotiated: boolean, xCache: string, nowMs: number): Record<string, string> {
    const ttlS = Math.floor(c.remote.cacheTtlMs / 1000);
    const maxAge = parsed.exp !== undefined ? Math.max(0, Math.min(ttlS, parsed.exp - Math.floor(nowMs / 1000))) : ttlS;
    const headers: Record<string, string> = {
      'content-type': entry.contentType,
      'content-length': String(entry.body.byteLength),
      etag: entry.etag,
      'last-modified': entry.lastModified,
      // Not immutable: the source may change; it is revalidated after REMOTE_CACHE_TTL.
      'cache-control': `public, max-age=${Math.min(maxAge, YEAR_S)}`,
      'x-content-type-options': 'nosniff',
      'x-cache': xCache,
    };
    return { ...headers, ...varyOf(parsed, negotiated) };
  }

  async function handle(request: Request, set: { headers: Record<string, unknown> }, transformations: string, source: string, signature?: string) {
    // Off: answer before parsing or fetching anything.
    if (!c.remote.enabled) throw new AppError('NOT_FOUND', 404, 'Remote sources are turned off on this server (REMOTE_SOURCES).');
    const url = decodeSource(source);
    const parsed = parsedOf(transformations);
    checkRemoteOptions(parsed);
    if (signature !== undefined) {
      if (!verifySignature(deps.secrets.signingSecrets, `${transformations}/remote/${source}`, signature)) throw invalidSignature();
      if (parsed.exp !== undefined && parsed.exp * 1000 <= deps.clock.now()) throw gone('This signed URL has expired.');
    } else if (c.remote.signedOnly || c.transformPolicy === 'signed') {
      throw new AppError('INVALID_SIGNATURE', 403, 'This server only serves signed remote-source URLs (POST /api/remote/signed-url).');
    } else if (c.transformPolicy === 'presets' && !parsed.presetOnly) {
      throw new AppError('INVALID_SIGNATURE', 403, 'Unsigned URLs may only use presets (t_<name>), f_auto and dpr.');
    } else if (parsed.exp !== undefined) {
      throw invalidTransformation('exp', 'only in signed URLs (/authenticated/s--<signature>/…)', String(parsed.exp));
    }
    const sources = deps.remoteSources;
    try {
      checkUrl(url, sources.policy); // scheme and allow-list: refused before the rate limit or the network
    } catch (err) {
      throw err instanceof SsrfError ? refusalOf(err) : err;
    }
    if (!c.disableRateLimit) await enforceIpLimit(deps, request, set, 'transform');
    const src = await sources.get(url);
    const probed = await delivery.probeBytes(src.bytes);
    // Client Hints (`w_auto`, `dpr_auto`): replaced by the stepped hint values, as on stored files.
    const hinted = applyHints(parsed, readHints((n) => request.headers.get(n)), delivery.limits);
    const accept = request.headers.get('accept') ?? '';
    const format = chooseFormat(hinted.options, accept, c.autoAvif, { hasAlpha: probed.hasAlpha, animated: probed.animated }) as OutputFormat;
    const key = derivativeKey(src.sha256, hinted.canonical, EXTENSION_OF[format]);
    const negotiated = hinted.options.f === undefined;
    const now = deps.clock.now();
    if (matchesEtag(request.headers.get('if-none-match'), `"${key.variant}"`)) {
      const h = headersFor({ body: new Uint8Array(0), contentType: '', etag: `"${key.variant}"`, lastModified: '' }, parsed, negotiated, 'HIT', now);
      return new Response(null, { status: 304, headers: { etag: h.etag!, 'cache-control': h['cache-control']!, ...varyOf(parsed, negotiated) } });
    }
    const hit = await delivery.cache.get(key);
    if (hit) {
      const headers = headersFor(hit.entry, parsed, negotiated, hit.tier, now);
      // Without If-None-Match, If-Modified-Since decides (RFC 9110 §13.1.3); a render is always newer.
      if (isNotModified(request.headers, `"${key.variant}"`, hit.entry.lastModified)) {
        return new Response(null, { status: 304, headers: { etag: headers.etag!, 'cache-control': headers['cache-control']!, ...varyOf(parsed, negotiated) } });
      }
      return new Response(hit.entry.body as Uint8Array<ArrayBuffer>, { status: 200, headers });
    }
    const { entry, ms } = await delivery.renderBytes(key, src.bytes, probed, hinted, format);
    const headers = headersFor(entry, parsed, negotiated, 'MISS', now);
    headers['server-timing'] = `transform;dur=${ms.toFixed(1)}`;
    return new Response(entry.body as Uint8Array<ArrayBuffer>, { status: 200, headers });
  }

  const response = {
    200: binaryResponse('The derivative of the remote image.', ['image/*']),
    304: binaryResponse('Not modified.', []),
    ...errorResponses(400, 403, 404, 410, 413, 415, 422, 429, 502, 503, 504),
  };
  const description = 'Off unless `REMOTE_SOURCES=true` (404). The source is fetched under the SSRF rules (public addresses only after DNS, '
    + 'redirects re-checked, connection pinned to the checked address), limited to `REMOTE_ALLOW_HOSTS`, `REMOTE_MAX_BYTES` (413) and '
    + '`REMOTE_TIMEOUT_MS` (504), sniffed like an upload (415 unless a raster image), kept by URL for `REMOTE_CACHE_TTL` then revalidated '
    + 'with its ETag/Last-Modified. A refused address or host → 403 `REMOTE_SOURCE_REFUSED`; an unreachable source or non-2xx answer → 502.';

  type Ctx = { request: Request; set: { headers: Record<string, unknown> }; params: { source: string } };
  const unsigned = ({ request, set, params }: Ctx) => handle(request, set, rawSegments(request.url)[1] as string, params.source);
  const unsignedDoc = (head: boolean) => ({
    params: t.Object({ transformations: t.String({ description: 'Comma-separated parameters (TRANSFORMS.md), e.g. `w_400,f_webp`.' }), source: sourceParam }),
    response,
    detail: { tags: ['transformations'], summary: `Transformed image of a remote source${head ? ' (headers)' : ''}`, description: `${description} With \`REMOTE_SIGNED_ONLY=true\` only the signed form works.` },
  });
  const signed = ({ request, set, params }: Ctx & { params: { signature: string } }) => {
    if (!params.signature.startsWith('s--')) throw notFound('File');
    return handle(request, set, rawSegments(request.url)[2] as string, params.source, params.signature.slice(3));
  };
  const signedDoc = (head: boolean) => ({
    params: t.Object({ signature: t.String({ description: '`s--<signature>` over `<transformations>/remote/<source>`.' }), transformations: t.String(), source: sourceParam }),
    response,
    detail: { tags: ['transformations'], summary: `Transformed image of a remote source, signed${head ? ' (headers)' : ''}`, description },
  });

  return new Elysia({ name: 'pictor.remote' })
    .use(authGuard(deps))
    // The transformation as sent (transform/raw-path.ts): `/t/<step>/remote/…` or `/authenticated/s--<sig>/<step>/remote/…`.
    .get('/t/:transformations/remote/:source', unsigned, unsignedDoc(false))
    .head('/t/:transformations/remote/:source', unsigned, unsignedDoc(true))
    .get('/authenticated/:signature/:transformations/remote/:source', signed, signedDoc(false))
    .head('/authenticated/:signature/:transformations/remote/:source', signed, signedDoc(true))
    .post('/api/remote/signed-url', ({ body }) => {
      if (!c.remote.enabled) throw new AppError('NOT_FOUND', 404, 'Remote sources are turned off on this server (REMOTE_SOURCES).');
      let url: string;
      try {
        url = checkUrl(body.url, deps.remoteSources.policy).href;
      } catch (err) {
        if (err instanceof SsrfError && (err.reason === 'scheme' || err.reason === 'credentials')) throw validationError(`Invalid url: ${err.message}.`, [{ path: '/url', message: err.message }]);
        throw err instanceof SsrfError ? refusalOf(err) : err;
      }
      const parsed = parsedOf(body.transformations ?? 'f_auto');
      checkRemoteOptions(parsed);
      // The expiry is the server's to write from expires_in: one sent was dropped without a word.
      if (parsed.exp !== undefined) {
        throw validationError('transformations may not carry exp_: the signed URL\'s expiry comes from expires_in (seconds).', [{ path: '/transformations', message: 'without exp_; send expires_in instead' }]);
      }
      const expiresAt = expirySecond(deps.clock.now(), body.expires_in);
      const segment = [...(parsed.canonical ? parsed.canonical.split(',') : []), `exp_${expiresAt}`].sort().join(',');
      const source = Buffer.from(url).toString('base64url');
      const signature = signPayload(deps.secrets.signingSecrets[0] as string, `${segment}/remote/${source}`);
      return {
        url: `${c.publicUrl}/authenticated/s--${signature}/${segment}/remote/${source}`,
        expires_at: new Date(expiresAt * 1000).toISOString(),
      };
    }, {
      auth: 'transform:sign',
      body: t.Object({
        url: t.String({ minLength: 1, maxLength: 4096, description: 'The source image URL (http or https).', examples: ['https://images.example/photo.jpg'] }),
        transformations: t.Optional(t.String({ minLength: 1, maxLength: 1024, description: 'One transformation segment, e.g. `w_400,f_webp` (a remote source takes no chain of `/`-joined steps: 400); default none (`f_auto`).' })),
        expires_in: t.Optional(t.Integer({ minimum: 1, maximum: YEAR_S, description: `Seconds the URL stays valid (default ${DEFAULT_SIGNED_TTL_S}).` })),
      }),
      response: {
        200: t.Object({
          url: t.String({ description: 'The signed `/authenticated/s--…/<segment>/remote/<base64url source>` URL.' }),
          expires_at: t.String({ format: 'date-time' }),
        }),
        ...errorResponses(400, 401, 403, 404),
      },
      detail: {
        tags: ['transformations'],
        summary: 'Sign a remote-source URL',
        description: 'A signed transformation URL of a remote image (needed with `REMOTE_SIGNED_ONLY=true`). The URL is checked against the allow-list here; its addresses are checked when it is fetched.',
      },
    });
}
