/**
 * The tus feature's background work: unfinished uploads past their `Upload-Expires` lose their
 * bytes (partial file, S3 multipart parts) and rows; whole uploads a crash left without their
 * file are finished (their client may never ask again). A timer in every server and worker process
 * rather than a queued job: it must run more often than the hourly prune (every quarter of an
 * upload's lifetime), and each pass is safe to run anywhere at once (rows are claimed one by one).
 */
import type { AppDeps } from '../../deps';
import { expireUploads, finishStranded } from './service';

export function registerTusJobs(deps: AppDeps): void {
  // Swept every quarter of their lifetime (at most each minute, at least each second).
  const every = Math.max(1000, Math.min(60_000, Math.floor(deps.config.abandonedUploadAfterMs / 4)));
  let running = false; // a pass that outlasts the interval is not joined by another
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    expireUploads(deps, deps.tus)
      .then((n) => n && deps.log.info({ removed: n }, 'removed expired tus uploads'))
      .catch((err: unknown) => deps.log.warn({ err }, 'could not sweep expired tus uploads'))
      .then(() => finishStranded(deps, deps.tus))
      .then((n) => n && deps.log.info({ finished: n }, 'finished tus uploads a crash left without their file'))
      .catch((err: unknown) => deps.log.warn({ err }, 'could not finish stranded tus uploads'))
      .finally(() => (running = false));
  }, every);
  (timer as { unref?: () => void }).unref?.();
  deps.onShutdown(() => clearInterval(timer));
}
