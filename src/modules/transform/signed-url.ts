/**
 * `POST /api/files/:id/signed-url` (API.md §6) as a plain function: the signed URL of a file
 * the caller may manage (files/service.ts `getManagedFileOrThrow` looks it up), a derivative by
 * default and the original for files `/t` cannot render.
 */
import type { AppDeps } from '../../deps';
import { validationError } from '../../errors';
import { signOriginal } from '../delivery/private';
import { contentTypeInfo } from '../reference/content-types';
import { checkVideoOptions } from '../video/grammar';
import { splitRenditionSegment } from '../video/rendition';
import { DEFAULT_SIGNED_TTL_S } from './headers';
import type { ParseLimits, Preset } from './options';
import { parseTransformation } from './parse';
import { signPayload, signedPayload } from './sign';

/**
 * The `exp_` second of a URL signed at `nowMs` for `expiresIn` seconds: rounded up, so the URL is
 * good for at least that long (rounded down, `expires_in: 1` lasted 0.65 s).
 */
export const expirySecond = (nowMs: number, expiresIn = DEFAULT_SIGNED_TTL_S): number => Math.ceil(nowMs / 1000) + expiresIn;

/** Files `/t` can render; anything else is signed as its original by default. */
const isRenderable = (contentType: string) => contentType.startsWith('image/') && contentType !== 'image/svg+xml';

export interface SignedUrlRequest {
  transformations?: string;
  expires_in?: number;
  original?: boolean;
}

export interface SignedUrl {
  url: string;
  download_url?: string;
  expires_at: string;
}

type Grammar = { limits: ParseLimits; presets: ReadonlyMap<string, Preset> };

function refuseContradiction(req: SignedUrlRequest): void {
  if (req.original && req.transformations !== undefined) {
    throw validationError('original and transformations exclude each other.', [{ path: '/original', message: 'not with transformations' }]);
  }
}

/** `exp_` is the server's to write from `expires_in`: one sent was dropped and replaced without a word. */
function refuseOwnExpiry(parsed: { exp?: number }): void {
  if (parsed.exp !== undefined) {
    throw validationError('transformations may not carry exp_: the signed URL\'s expiry comes from expires_in (seconds).', [
      { path: '/transformations', message: 'without exp_; send expires_in instead' },
    ]);
  }
}

/** What no file could take (a contradictory request, a transformation outside the grammar): 400 before any file is looked at. */
export function checkSignedUrlRequest(grammar: Grammar, req: SignedUrlRequest): void {
  refuseContradiction(req);
  if (req.transformations !== undefined) {
    refuseOwnExpiry(parseTransformation(splitRenditionSegment(req.transformations)?.segment ?? req.transformations, undefined, grammar.limits, grammar.presets));
  }
}

/** Signs `file` (with its owner's URL base) as asked; 400 on a bad transformation, a contradictory request, or one this file cannot take. */
export function createSignedUrl(
  deps: Pick<AppDeps, 'clock' | 'secrets'>, grammar: Grammar,
  file: { id: string; contentType: string; urlBase: string }, req: SignedUrlRequest,
): SignedUrl {
  refuseContradiction(req); // the grammar is checked by the one parse below
  const base = file.urlBase;
  if (req.original ?? (req.transformations === undefined && !isRenderable(file.contentType))) {
    const expiresAt = expirySecond(deps.clock.now(), req.expires_in);
    const ext = contentTypeInfo(file.contentType)?.extensions[0];
    const signed = signOriginal(deps.secrets.signingSecrets[0] as string, ext ? `${file.id}.${ext}` : file.id, expiresAt);
    return { url: base + signed.path, download_url: base + signed.downloadPath, expires_at: new Date(expiresAt * 1000).toISOString() };
  }
  // `<transformations>.mp4|.webm`: a video rendition; the signature covers the extension.
  const rendition = req.transformations ? splitRenditionSegment(req.transformations) : null;
  const parsed = parseTransformation(rendition?.segment ?? req.transformations ?? 'f_auto', undefined, grammar.limits, grammar.presets);
  refuseOwnExpiry(parsed);
  if (rendition) checkVideoOptions(file.contentType, parsed.options, rendition.ext);
  const id = rendition ? `${file.id}.${rendition.ext}` : file.id;
  const expiresAt = expirySecond(deps.clock.now(), req.expires_in);
  // A chain (`a/b/c`) keeps its steps; `exp_` joins the last one.
  const steps = parsed.canonical.split('/');
  const last = [...(steps.pop() || '').split(',').filter(Boolean), `exp_${expiresAt}`].sort().join(',');
  const segment = [...steps, last].join('/');
  const signature = signPayload(deps.secrets.signingSecrets[0] as string, signedPayload(segment, id));
  return { url: `${base}/authenticated/s--${signature}/${segment}/${id}`, expires_at: new Date(expiresAt * 1000).toISOString() };
}
