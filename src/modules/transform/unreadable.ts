/**
 * Originals the decoder cannot read (issue #17 point 7). Uploads refuse what a cheap check can
 * tell (a truncated JPEG/PNG/AVIF, an unreadable header); a file corrupt inside its data still
 * gets through, and each render of it would fail. Such a failure answers 422
 * `UNPROCESSABLE_IMAGE` with the decoder's reason, and the original's digest is remembered
 * (an LRU of keys, so memory stays bounded) so that variant and every later one answer the
 * same 422 at once, without reading or decoding the original again.
 */
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { AppError, unprocessableImage } from '../../errors';
import { decoderReason } from '../files/probe';
import { FAIL_ON } from './sharp-settings';

/** Originals remembered as undecodable: a digest and a short message each (~0.5 KiB). */
const MAX_REMEMBERED = 10_000;

/**
 * A libvips loader's own error (the source's bytes, not our pipeline): "vipspng: libpng read
 * error", "VipsJpeg: …", "VipsForeignLoad…", "webp2vips: …", "gifload: …", "heifload: …".
 */
const LOADER_ERROR = /^(vipspng|vipsjpeg|vipsforeignload\w*|webp2vips|gifload|heifload|tiff2vips|pngload|spngload|jpegload|webpload|tiffload)\b/i;

export interface DecodeOptions {
  limitInputPixels: number;
  animated: boolean;
}

export interface UnreadableSources {
  /** The remembered 422 for an original, by SHA-256. */
  get(sha256: string): AppError | undefined;
  /** Remembers a 422 for an original (its header could not be read). */
  remember(sha256: string, err: AppError): AppError;
  /**
   * Decides what a failed render means: when the original itself does not decode, the 422 to
   * answer (remembered); otherwise the original error, which stays a 500 (the fault is ours).
   */
  explain(sha256: string, input: Buffer | string, err: unknown, o: DecodeOptions): Promise<unknown>;
}

/**
 * sharp's message when libvips failed but its error buffer was empty. libvips keeps one error
 * buffer per process: when several renders of one bad source fail at once (an upload's eager
 * derive and the first request), one of them reads the loader's message and clears it, and the
 * others get this.
 */
const MESSAGE_TAKEN = 'Unknown error';

export function createUnreadableSources(max = MAX_REMEMBERED): UnreadableSources {
  const known = new LRUCache<string, AppError>({ max });
  /** Explanations in progress, by original: a render whose message was taken waits for its siblings'. */
  const explaining = new Map<string, Set<Promise<unknown>>>();
  const remember = (sha256: string, err: AppError) => {
    known.set(sha256, err);
    return err;
  };
  async function decide(sha256: string, input: Buffer | string, err: unknown, o: DecodeOptions, siblings: () => Promise<unknown>[]): Promise<unknown> {
    const already = known.get(sha256);
    if (already) return already;
    try {
      // Decode every pixel and nothing else (statistics are a streaming sink: bounded memory).
      await sharp(input, { failOn: FAIL_ON, limitInputPixels: o.limitInputPixels, animated: o.animated }).stats();
    } catch (decodeErr) {
      return remember(sha256, unprocessableImage(decoderReason(decodeErr)));
    }
    // The check decoded, yet the render's own loader failed on these bytes (seen under load with
    // a PNG damaged inside IDAT): the source is still what failed, not our pipeline.
    if (err instanceof Error && LOADER_ERROR.test(err.message)) return remember(sha256, unprocessableImage(decoderReason(err)));
    if (err instanceof Error && err.message === MESSAGE_TAKEN) {
      // A sibling render of the same original may hold the loader's message: its verdict decides.
      await Promise.allSettled(siblings());
      return known.get(sha256) ?? err;
    }
    return err;
  }
  return {
    get: (sha256) => known.get(sha256),
    remember,
    async explain(sha256, input, err, o) {
      // Our own refusals (limits, overload) and libvips' timeout say nothing about the bytes.
      if (err instanceof AppError || /timeout/i.test(err instanceof Error ? err.message : '')) return err;
      let set = explaining.get(sha256);
      if (!set) explaining.set(sha256, (set = new Set()));
      const running = set;
      // `decide` asks for its siblings only after an await, by which time `mine` is set.
      let mine: Promise<unknown> | undefined;
      mine = decide(sha256, input, err, o, () => [...running].filter((p) => p !== mine));
      running.add(mine);
      try {
        return await mine;
      } finally {
        running.delete(mine);
        if (running.size === 0) explaining.delete(sha256);
      }
    },
  };
}
