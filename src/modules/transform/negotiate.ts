/**
 * Output format negotiation for `f_auto` (TRANSFORMS.md): AVIF when accepted and enabled
 * (never for animations, which sharp cannot write as AVIF), else WebP when accepted, else PNG for
 * sources that may be transparent (or animated → GIF), else JPEG.
 */
import type { OutputFormat, TransformOptions } from './options';

/** What negotiation needs to know about the source; unknown facts are absent. */
export interface SourceFacts {
  hasAlpha?: boolean;
  animated?: boolean;
}

/** Facts that follow from the stored content type alone (JPEG is never transparent, only GIF/WebP animate). */
export function factsFromContentType(contentType: string): SourceFacts {
  if (contentType === 'image/jpeg') return { hasAlpha: false, animated: false };
  if (contentType === 'image/gif' || contentType === 'image/webp') return {};
  // A video's poster is one opaque frame.
  if (contentType.startsWith('video/')) return { hasAlpha: false, animated: false };
  return { animated: false };
}

/** Extension used in cache paths and URLs for each output format. */
export const EXTENSION_OF: Record<OutputFormat, string> = { webp: 'webp', avif: 'avif', jpeg: 'jpg', png: 'png', gif: 'gif' };

const CANONICAL_ACCEPTS = ['', 'image/webp', 'image/avif', 'image/avif,image/webp'] as const;

/**
 * The `Accept` header reduced to what `chooseFormat` reads from it, for keys of caches in front
 * of it: any Accept and its canonical form choose the same format, and a client cannot add a key
 * per Accept it makes up (the fast path's memo held each one in full, up to the header limit).
 */
export function canonicalAccept(accept: string): string {
  return CANONICAL_ACCEPTS[(accept.includes('image/avif') ? 2 : 0) + (accept.includes('image/webp') ? 1 : 0)]!;
}

/** Chooses the output format, or undefined when it depends on a source fact not yet known (probe, then ask again). */
export function chooseFormat(o: TransformOptions, accept: string, autoAvif: boolean, facts: SourceFacts): OutputFormat | undefined {
  if (o.f) return o.f;
  if (autoAvif && accept.includes('image/avif')) {
    // sharp cannot write animated AVIF: an animation gets WebP instead.
    if (facts.animated === undefined) return undefined;
    return facts.animated ? 'webp' : 'avif';
  }
  if (accept.includes('image/webp')) return 'webp';
  if (facts.animated === undefined) return undefined;
  if (facts.animated) return 'gif';
  // Rounded corners and opacity make transparency JPEG would flatten away.
  if (o.r !== undefined || o.o !== undefined) return 'png';
  if (facts.hasAlpha === undefined) return undefined;
  return facts.hasAlpha ? 'png' : 'jpeg';
}
