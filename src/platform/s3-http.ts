/**
 * The S3 SDK's HTTP handler for this runtime. On Bun, requests go out through its native
 * `fetch`, whose socket writes run on Bun's HTTP client thread: through node:http (the SDK's
 * default) the request thread paid ~0.5 s more CPU per GiB and raw uploads to S3 ran ~18 %
 * slower (docs/TUNING.md, "Storage"). Bun's `fetch` also takes the node `Readable` bodies of
 * parts streamed while they fill (storage/s3-parts.ts `sendLive`). Elsewhere: the SDK's default
 * node:http handler, whose `requestTimeout` is the same idle bound (socket inactivity).
 *
 * Either way a request the storage stops answering (a frozen or partitioned S3) fails after
 * `S3_TIMEOUT_MS` without progress, as a `TimeoutError` the SDK retries and Pictor answers 503.
 * Bun's fetch has no such bound: such a request waited forever.
 */
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';
import { Readable } from 'node:stream';
import { isBun } from './runtime';

type Handled = Awaited<ReturnType<FetchHttpHandler['handle']>>;

/** 256 kB/s (about 2 Mbit/s): 4 s more per MiB of a request body held in memory. */
const SLOWEST_UPLINK_BYTES_PER_MS = 256;
/**
 * Bun's fetch takes a streamed body about 2 MiB at a time, and may still hold up to ~9 MiB of it
 * once it has taken the last byte (measured on loopback against a peer reading at 512 kB/s):
 * the time those need at the slowest uplink is added, or a slow link read as a stalled storage.
 */
const TAKE_BYTES = 2 * 1024 * 1024;
const HELD_BYTES = 9 * 1024 * 1024;
const atSlowestUplink = (bytes: number) => Math.ceil(bytes / SLOWEST_UPLINK_BYTES_PER_MS);

/**
 * A request body pushed as its bytes arrive (storage/s3-parts.ts `sendLive`) that knows how much
 * of it the request has taken, so that a storage that stops taking it mid-body is told apart from
 * an uploading client that is slow to give it.
 */
export class PacedBody extends Readable {
  private pushed = 0;
  constructor() {
    super({ read() {} });
  }
  override push(chunk: Uint8Array | null): boolean {
    if (chunk) this.pushed += chunk.byteLength;
    return super.push(chunk);
  }
  /** Bytes the request has read so far. */
  get taken(): number {
    return this.pushed - this.readableLength;
  }
}

/** Carries `$metadata` as the SDK's own errors do, so it is told apart as the storage's failure (errors.ts). */
class S3TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly $metadata = {};
}

/**
 * An answer's body cut off after its headers came (a connection reset mid-read) fails outside
 * the SDK, which marks only the errors of its own steps with `$metadata`: marked here the same
 * way, it reads as the storage's (`isStorageUnavailable`: a 503, not a bug's 500).
 */
function fromStorage(err: unknown): unknown {
  // Not an abort: that is the caller going away, or a body it cancelled.
  if (err && typeof err === 'object' && !('$metadata' in err) && (err as { name?: unknown }).name !== 'AbortError') Object.assign(err, { $metadata: {} });
  return err;
}

/**
 * Bun's handler with a stall bound: the timer runs while Pictor waits on the storage — while
 * bytes of a streamed body wait and none is taken (the body is paced by its own producer, the
 * uploading client: a body with nothing waiting is not the storage's fault), for the answer once
 * the body is sent, then for each chunk of the answer's body while one is asked for (a slow
 * downstream reader is not the storage's fault either).
 */
class StallBoundHandler extends FetchHttpHandler {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  override async handle(request: Parameters<FetchHttpHandler['handle']>[0], options: HttpHandlerOptions = {}): Promise<Handled> {
    const abort = new AbortController();
    const outer = options.abortSignal as AbortSignal | undefined;
    const follow = () => abort.abort(outer?.reason);
    if (outer?.aborted) follow();
    else outer?.addEventListener('abort', follow, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => clearTimeout(timer);
    const arm = (extraMs = 0) => {
      stop();
      timer = setTimeout(() => abort.abort(new S3TimeoutError(`the storage did not answer within ${this.timeoutMs} ms (S3_TIMEOUT_MS)`)), this.timeoutMs + extraMs);
    };
    const body: unknown = request.body;
    let unwatch = () => {};
    if (body instanceof PacedBody) {
      const stopWatching = this.watchTaking(body, abort);
      const length = Number(request.headers['content-length']) || HELD_BYTES;
      const onEnd = () => {
        stopWatching();
        arm(atSlowestUplink(Math.min(length, HELD_BYTES)));
      };
      body.once('end', onEnd);
      // Also when S3 answers before taking the whole body: a late 'end' must not arm a timer.
      unwatch = () => (stopWatching(), body.off('end', onEnd));
    } else if (body instanceof Readable) {
      body.once('end', () => arm());
    } else {
      // fetch tells nothing of a body's progress: a whole part gets the time a slow uplink needs to send it.
      arm(body instanceof Uint8Array ? atSlowestUplink(body.byteLength) : 0);
    }
    let out: Handled;
    try {
      out = await super.handle(request, { ...options, abortSignal: abort.signal });
    } catch (err) {
      stop();
      unwatch();
      outer?.removeEventListener('abort', follow);
      throw abort.signal.reason instanceof S3TimeoutError ? abort.signal.reason : err;
    }
    stop();
    unwatch();
    const stream = out.response.body as unknown;
    if (!(stream instanceof ReadableStream)) {
      outer?.removeEventListener('abort', follow);
      return out;
    }
    const reader = (stream as ReadableStream<Uint8Array>).getReader();
    const done = () => {
      stop();
      outer?.removeEventListener('abort', follow);
    };
    out.response.body = new ReadableStream<Uint8Array>({
      async pull(c) {
        arm();
        try {
          const next = await reader.read();
          stop();
          if (next.done) {
            done();
            c.close();
          } else c.enqueue(next.value);
        } catch (err) {
          done();
          c.error(abort.signal.reason instanceof S3TimeoutError ? abort.signal.reason : abort.signal.aborted ? err : fromStorage(err));
        }
      },
      cancel(reason) {
        done();
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
    return out;
  }

  /**
   * Aborts the request once `body` has had bytes waiting and none taken for the whole timeout,
   * plus the time one take of Bun's needs at the slowest uplink.
   */
  private watchTaking(body: PacedBody, abort: AbortController): () => void {
    let taken = body.taken;
    let stalledSince: number | null = null;
    const limitMs = this.timeoutMs + atSlowestUplink(TAKE_BYTES);
    const every = Math.max(50, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    const tick = setInterval(() => {
      const now = body.taken;
      if (now !== taken || body.readableLength === 0) {
        taken = now;
        stalledSince = null;
      } else if (stalledSince === null) {
        stalledSince = performance.now();
      } else if (performance.now() - stalledSince >= limitMs) {
        clearInterval(tick);
        abort.abort(new S3TimeoutError(`the storage took no byte of the request body within ${limitMs} ms (S3_TIMEOUT_MS, plus what a 256 kB/s link needs for one take of the runtime's)`));
      }
    }, every);
    tick.unref?.();
    return () => clearInterval(tick);
  }
}

/** Elsewhere, node:http's handler; its answers' body errors are marked as the storage's too. */
class MarkingNodeHandler extends NodeHttpHandler {
  override async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const out = await super.handle(...args);
    const body = out.response.body as unknown;
    // First of its listeners, so that every other one sees the mark.
    if (body instanceof Readable) body.prependListener('error', fromStorage);
    return out;
  }
}

export const s3RequestHandler = (timeoutMs: number): FetchHttpHandler | NodeHttpHandler =>
  isBun ? new StallBoundHandler(timeoutMs) : new MarkingNodeHandler({ requestTimeout: timeoutMs, connectionTimeout: timeoutMs });
