/**
 * The queue's own maintenance job, `prune` (hourly, once per hour cluster-wide): finished jobs
 * and queue events past `QUEUE_RETENTION_DAYS`, expired sessions and tokens, then the steps
 * other features hand in (`registerJobs`, src/jobs.ts, lists them: request logs, exports,
 * abandoned uploads, webhook deliveries).
 */
import { and, isNotNull, lt } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { emailTokens, refreshTokens, sessions } from '../auth/table';
import { uploadTokens } from '../files/table';
import { jobEvents, jobs } from './table';

export const PRUNE_PERIOD_MS = 3_600_000;

/** One more thing the hourly `prune` removes; `run` returns how many rows or objects went. */
export interface PruneStep {
  name: string;
  run(deps: AppDeps): Promise<number>;
}

export function registerQueueJobs(deps: AppDeps, pruneSteps: readonly PruneStep[]): void {
  deps.queue.register(
    'prune',
    async ({ log, checkpoint }) => {
      const retention = new Date(Date.now() - deps.config.queue.retentionDays * 86_400_000);
      const now = new Date();
      const removed: Record<string, number> = {};
      const count = async (name: string, p: Promise<unknown[]>) => void (removed[name] = (await p).length);
      await count('jobs', deps.db.delete(jobs).where(and(isNotNull(jobs.finishedAt), lt(jobs.finishedAt, retention))).returning({ id: jobs.id }));
      await count('job_events', deps.db.delete(jobEvents).where(lt(jobEvents.createdAt, retention)).returning({ id: jobEvents.id }));
      await count('sessions', deps.db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.expiresAt }));
      await count('refresh_tokens', deps.db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now)).returning({ id: refreshTokens.expiresAt }));
      await count('email_tokens', deps.db.delete(emailTokens).where(lt(emailTokens.expiresAt, now)).returning({ id: emailTokens.expiresAt }));
      await count('upload_tokens', deps.db.delete(uploadTokens).where(lt(uploadTokens.expiresAt, now)).returning({ id: uploadTokens.expiresAt }));
      for (const step of pruneSteps) {
        await checkpoint();
        removed[step.name] = await step.run(deps);
      }
      log.info({ removed }, 'pruned');
    },
    { periodMs: PRUNE_PERIOD_MS, backoffBaseMs: 60_000 },
  );
}
