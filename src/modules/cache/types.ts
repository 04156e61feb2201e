/** Shared shapes of the derivative cache tiers. */

/** Identifies one derivative: the original's bytes, the canonical options and the output format. */
export interface DerivativeKey {
  /** SHA-256 hex of the original: derivatives are content-addressed, whatever the file id. */
  readonly sha256: string;
  /** Hash of (canonical options, output format, pipeline version); also the ETag. */
  readonly variant: string;
  /** File extension of the output format (`webp`, `jpg`, …). */
  readonly ext: string;
}

/** An encoded derivative and the facts its response headers need. */
export interface CachedDerivative {
  readonly body: Uint8Array;
  readonly contentType: string;
  /** Quoted strong ETag. */
  readonly etag: string;
  /** HTTP date of when the derivative was rendered. */
  readonly lastModified: string;
}

export type CacheTier = 'HIT-MEMORY' | 'HIT-DISK';

export interface TierStats {
  items: number;
  bytes: number;
  max_bytes: number;
  hits: number;
  misses: number;
}

/** Content type of each output extension. */
export const CONTENT_TYPES: Record<string, string> = {
  webp: 'image/webp', avif: 'image/avif', jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif',
  mp4: 'video/mp4', webm: 'video/webm',
};
