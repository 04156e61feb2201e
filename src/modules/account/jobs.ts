/**
 * The account's jobs (issue #25): `account_export` builds the ZIP (export.ts), `account_delete`
 * removes an account's data and `account_delete_logs` its request logs last (deletion.ts).
 * Expired export archives are a step of the queue's hourly `prune` (`expireExports`, listed in
 * src/jobs.ts).
 */
import type { AppDeps } from '../../deps';
import { DELETE_JOB, DELETE_LOGS_JOB, finishDeletion, runDeletion } from './deletion';
import { buildExport, EXPORT_JOB } from './export';

export function registerAccountJobs(deps: AppDeps): void {
  deps.queue.register(EXPORT_JOB, (ctx) => buildExport(deps, ctx), { backoffBaseMs: 5000 });
  deps.queue.register(DELETE_JOB, (ctx) => runDeletion(deps, ctx), { backoffBaseMs: 2000, backoffMaxMs: 15 * 60_000 });
  deps.queue.register(DELETE_LOGS_JOB, (ctx) => finishDeletion(deps, ctx), { backoffBaseMs: 2000, backoffMaxMs: 15 * 60_000 });
}
