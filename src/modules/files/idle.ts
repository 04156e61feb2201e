/**
 * The upload idle timeout (`UPLOAD_IDLE_TIMEOUT`, issue #17.4). Uploads lift the server's
 * socket idle timeout (a big file may take long), so without this a client that sends a few
 * bytes and stops holds its concurrency slot, a temp file or an S3 multipart upload for as long
 * as it keeps the socket open. Only the time spent waiting for the client counts: while storage
 * applies backpressure (nothing is being read), the clock is stopped, so a slow disk never
 * aborts a moving upload.
 */
import { uploadTimedOut } from '../../errors';
import { markOwned } from '../../platform/memory';

/**
 * `body` as a pull-based stream that errors with 408 `REQUEST_TIMEOUT` (and cancels `body`)
 * when one read waits longer than `timeoutMs`. The error flows down the upload path like a
 * client disconnect: the staged bytes are discarded, and the route answers 408.
 */
export function guardIdleBody(body: ReadableStream<Uint8Array>, timeoutMs: number, opts: { owned?: boolean } = {}): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  /** When the pending read started (ms, monotonic), or null while no read is pending. */
  let waitingSince: number | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let stopped = false;
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      // One coarse timer per upload rather than one per chunk (a GiB is ~16 000 chunks).
      const every = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));
      timer = setInterval(() => {
        if (waitingSince === null || performance.now() - waitingSince < timeoutMs) return;
        stopped = true;
        stopTimer();
        const err = uploadTimedOut(Math.round(timeoutMs / 1000));
        c.error(err);
        void reader.cancel(err).catch(() => {});
      }, every);
      (timer as { unref?: () => void }).unref?.();
    },
    async pull(c) {
      waitingSince = performance.now();
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (err) {
        stopTimer();
        throw err;
      } finally {
        waitingSince = null;
      }
      if (stopped) return;
      if (next.done) {
        stopTimer();
        c.close();
      } else {
        // Owned: the caller's last reader may free the chunk at once (platform/memory.ts `releaseChunk`).
        c.enqueue(opts.owned ? markOwned(next.value) : next.value);
      }
    },
    async cancel(reason) {
      stopped = true;
      stopTimer();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
