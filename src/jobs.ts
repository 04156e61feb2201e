/**
 * `registerJobs(deps)`: every job type the server knows, registered on `deps.queue` once per
 * process, by the server (boot.ts), by `npm run worker` (worker.ts) and by test apps. Each
 * feature owns its handlers in its `jobs.ts`; the hourly `prune` runs the steps listed here.
 * A job type registered twice throws (queue/runner.ts).
 */
import type { AppDeps } from './deps';
import { registerAccountJobs } from './modules/account/jobs';
import { expireExports } from './modules/account/export';
import { sweepAbandonedUploads } from './modules/files/abandoned';
import { registerFileJobs } from './modules/files/jobs';
import { pruneLogs } from './modules/logs/service';
import { registerQueueJobs, type PruneStep } from './modules/queue/jobs';
import { registerTransformJobs } from './modules/transform/jobs';
import { registerTusJobs } from './modules/tus/jobs';
import { registerVideoJobs } from './modules/video/jobs';
import { sweepStoredRenditions } from './modules/video/stored';
import { pruneWebhookDeliveries, registerWebhookJobs } from './modules/webhooks/jobs';

export function registerJobs(deps: AppDeps): void {
  registerFileJobs(deps); // purge, blob_delete, expire
  registerTransformJobs(deps); // derive
  registerVideoJobs(deps); // video_render
  registerAccountJobs(deps); // account_export, account_delete, account_delete_logs
  registerWebhookJobs(deps); // webhook_deliver (+ job.failed events)
  registerTusJobs(deps); // the expiry sweep of unfinished tus uploads (a timer)

  // What the hourly `prune` removes besides finished jobs, events, expired sessions and tokens.
  const pruneSteps: PruneStep[] = [
    ...(deps.config.requestLogs.enabled ? [{ name: 'request_logs', run: (d: AppDeps) => pruneLogs(d.db, d.config.logRetentionDays) }] : []),
    { name: 'account_exports', run: expireExports },
    { name: 'abandoned_uploads', run: sweepAbandonedUploads },
    { name: 'webhook_deliveries', run: pruneWebhookDeliveries },
    { name: 'stored_renditions', run: sweepStoredRenditions },
  ];
  registerQueueJobs(deps, pruneSteps); // prune
}
