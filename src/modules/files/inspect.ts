/**
 * The inspection stage every uploaded byte passes through on its way to storage: it counts
 * (and stops the stream the moment the byte limit is crossed), sniffs the type from the first
 * bytes before any of them reach storage, and keeps a bounded head of the file for the image
 * probe. Memory: at most `PROBE_BYTES` plus one chunk. The SHA-256 is not taken here: the
 * storage driver reports it from the bytes it stored (`StorageDriver.put`), which lets the fs
 * driver hash and write from one copy.
 */
import { collectYoungGarbage } from '../../platform/memory';
import { AppError, fileTooLarge, unsupportedMediaType } from '../../errors';
import { isAllowedType } from '../reference/content-types';
import { SNIFF_BYTES, sniffType, typesAgree } from './sniff';
import { truncationCheckFor, type TruncationCheck } from './truncation';

/** The young generation is collected after every this many bytes of one upload (platform/memory.ts). */
const GC_EVERY_BYTES = 16 * 1024 * 1024;

/** Head kept for probing image headers (dimensions, EXIF) without re-reading storage. */
export const PROBE_BYTES = 512 * 1024;

export interface InspectOptions {
  maxBytes: number;
  allowedTypes: readonly string[];
  /** A further restriction (presigned uploads): the type must pass both lists. */
  restrictTypes?: readonly string[];
  /** The type the client declared (already normalised by `declaredTypeOf`), if any. */
  declared?: string;
  /** Told each chunk's size as it streams (the `upload_bytes` rate limit); its AppError stops the upload. */
  onBytes?: (bytes: number) => Promise<void>;
  /** The file's length, or an upper bound of it, when the request gives one: sizes the head buffer. */
  sizeHint?: number;
}

export interface Inspection {
  size: number;
  contentType: string;
  /** The first ≤ PROBE_BYTES bytes. */
  head: Uint8Array;
  /** True when `head` is the whole file. */
  complete: boolean;
}

export interface Inspector {
  /**
   * `body` as seen through the inspector: a pull-based stream (nothing is read ahead of the
   * consumer) that yields the same chunks once the type is decided, and errors (cancelling
   * `body`) the moment a limit or check fails.
   */
  wrap(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  /** The client-facing reason the stream was stopped (413/415), if the inspector stopped it. */
  failure(): AppError | undefined;
  /** Available once the wrapped stream has been fully consumed. */
  result(): Inspection;
}

/**
 * The type sniffed from a file's first bytes, or the 415 that refuses it (not allowed, or not
 * what was declared). The one decision every upload path takes, streamed or resumable (tus).
 */
export async function decideType(
  head: Uint8Array, complete: boolean, o: Pick<InspectOptions, 'allowedTypes' | 'restrictTypes' | 'declared'>,
): Promise<string> {
  const detected = await sniffType(head.subarray(0, SNIFF_BYTES), complete);
  if (!isAllowedType(detected, o.allowedTypes) || (o.restrictTypes && !isAllowedType(detected, o.restrictTypes))) {
    throw unsupportedMediaType(`Files of type ${detected} are not accepted.`, { detected });
  }
  if (o.declared && !typesAgree(o.declared, detected)) {
    throw unsupportedMediaType(`The content is ${detected}, not ${o.declared} as declared.`, { detected, declared: o.declared });
  }
  return detected;
}

/**
 * One pull loop rather than a `TransformStream`: a transform stage costs several promise hops
 * and two queues per chunk, which at ~16 000 chunks per GiB was a large share of the upload
 * path. Here each pull is one read of the body, a few synchronous checks, and one enqueue.
 */
export function createInspector(o: InspectOptions): Inspector {
  let size = 0;
  let contentType: string | undefined;
  let failure: AppError | undefined;
  // The first PROBE_BYTES, copied once into one buffer: sized from the hint when there is one,
  // else grown by doubling. Not one copy per chunk concatenated later: for a small file every
  // extra copy of it is a large share of its upload's CPU (docs/TUNING.md, "Measurements behind
  // code choices").
  let head = new Uint8Array(0);
  let headBytes = 0;
  const hint = o.sizeHint !== undefined && Number.isSafeInteger(o.sizeHint) && o.sizeHint > 0 ? o.sizeHint : undefined;
  const keepHead = (chunk: Uint8Array) => {
    const n = Math.min(chunk.byteLength, PROBE_BYTES - headBytes);
    if (headBytes + n > head.byteLength) {
      const size = head.byteLength === 0 && hint !== undefined ? hint : Math.max(head.byteLength * 2, 64 * 1024);
      const grown = new Uint8Array(Math.min(PROBE_BYTES, Math.max(size, headBytes + n)));
      grown.set(head.subarray(0, headBytes));
      head = grown;
    }
    head.set(chunk.subarray(0, n), headBytes);
    headBytes += n;
  };
  let held: Uint8Array[] = [];
  let result: Inspection | undefined;
  /** Follows the image's structure as it streams, so a truncated file is refused (415) before it is kept. */
  let truncation: TruncationCheck | null = null;

  const decide = async (complete: boolean) => {
    try {
      contentType = await decideType(head.subarray(0, headBytes), complete, o);
    } catch (err) {
      if (err instanceof AppError) failure = err;
      throw err;
    }
    truncation = truncationCheckFor(contentType);
  };
  const release = (c: ReadableStreamDefaultController<Uint8Array>) => {
    for (const chunk of held) {
      truncation?.push(chunk);
      c.enqueue(chunk);
    }
    held = [];
  };

  /** Checks one chunk; true when it (and any held before it) went on to the consumer. */
  async function take(chunk: Uint8Array, c: ReadableStreamDefaultController<Uint8Array>): Promise<boolean> {
    if (Math.floor((size + chunk.byteLength) / GC_EVERY_BYTES) > Math.floor(size / GC_EVERY_BYTES)) collectYoungGarbage();
    size += chunk.byteLength;
    if (size > o.maxBytes) throw (failure = fileTooLarge(o.maxBytes));
    if (o.onBytes) {
      try {
        await o.onBytes(chunk.byteLength);
      } catch (err) {
        if (err instanceof AppError) failure = err;
        throw err;
      }
    }
    // Copied: the runtime may reuse the chunk's buffer once we pass it on.
    if (headBytes < PROBE_BYTES) keepHead(chunk);
    if (contentType) {
      truncation?.push(chunk);
      c.enqueue(chunk);
      return true;
    }
    held.push(chunk);
    if (headBytes < SNIFF_BYTES) return false;
    await decide(false);
    release(c);
    return true;
  }

  async function finish(c: ReadableStreamDefaultController<Uint8Array>) {
    if (!contentType) {
      await decide(true);
      release(c);
    }
    const cut = truncation?.end();
    if (cut) throw (failure = unsupportedMediaType(`The image cannot be decoded: ${cut}.`, { detected: contentType as string, reason: cut }));
    result = {
      size,
      contentType: contentType as string,
      head: head.subarray(0, headBytes),
      complete: size === headBytes,
    };
    c.close();
  }

  return {
    wrap(body) {
      const reader = body.getReader();
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return await finish(c);
              if (await take(value, c)) return;
            }
          } catch (err) {
            await reader.cancel(err).catch(() => {});
            throw err;
          }
        },
        async cancel(reason) {
          await reader.cancel(reason);
        },
      }, { highWaterMark: 0 });
    },
    failure: () => failure,
    result: () => {
      if (!result) throw new Error('inspection read before the stream ended');
      return result;
    },
  };
}
