/**
 * Account deletion (issue #25): `DELETE /api/account` (the owner, with a password or a fresh
 * session; or an admin for anyone) records a deletion and enqueues its `account_delete` job in
 * one transaction, and ends every session and API key at once so nothing more happens in the
 * account's name. The job, retried until it finishes, removes in order: export archives; files a
 * batch at a time (each batch releases its de-duplicated bytes in the transaction that deletes
 * the rows, files/blobs.ts, so bytes other accounts share stay and unshared ones are deleted,
 * their derivatives dropped on every instance); the account's jobs and their events; its request
 * logs; then, under the account row's lock (which an upload's commit takes too, so none can slip
 * in after), any file that appeared meanwhile and the account row itself, whose foreign keys
 * cascade to sessions, keys, folders, usage counters, tokens and every other per-account table;
 * a last job a few seconds later removes request logs written meanwhile. The deletion row has
 * no foreign key: its status stays readable by its id afterwards.
 */
import { and, eq, inArray, notInArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { conflict, notFound } from '../../errors';
import { revokeAllSessions } from '../auth/sessions';
import { publishFileChange } from '../cache/lookup';
import { releaseFileBlobs } from '../files/blobs';
import { deleteDeadBlobs } from '../files/purge';
import { files } from '../files/table';
import { removeUpload } from '../tus/service';
import { tusUploads } from '../tus/table';
import { apiKeys } from '../keys/table';
import { requestLogBatches } from '../logs/table';
import { enqueueJob } from '../queue/enqueue';
import type { JobContext } from '../queue/runner';
import { jobEvents, jobs } from '../queue/table';
import { users } from '../users/table';
import { exportKey } from './export';
import { accountDeletions, accountExports, type AccountDeletionRow } from './table';

export const DELETE_JOB = 'account_delete';
/** The deletion's last step: request logs written after the account went (see `runDeletion`). */
export const DELETE_LOGS_JOB = 'account_delete_logs';
/** How long after the account went its last log batches are swept: well past the buffers' 1 s flush. */
const LOG_SETTLE_MS = 5000;
/** Files released per transaction. */
const BATCH = 200;

export function toDeletionJson(d: AccountDeletionRow) {
  return {
    id: d.id,
    user_id: d.userId,
    status: d.status,
    job_id: d.jobId,
    error: d.error,
    removed: d.removed ? (JSON.parse(d.removed) as Record<string, number>) : null,
    created_at: d.createdAt.toISOString(),
    finished_at: d.finishedAt?.toISOString() ?? null,
  };
}

/**
 * Whether an administrator other than `userId` stays (not banned, not being deleted): a server
 * without one can no longer be managed (nobody can promote, ban or invite). Every admin row is
 * locked first, in one order, so two admins removing each other at once (deleting, demoting,
 * banning) cannot both pass, nor deadlock: call it before locking the account itself. `no key
 * update`: it still serialises with deletions and role changes, not with the key-share locks of
 * rows that refer to these accounts. With `update`, an admin creating invites for the account
 * (the insert's foreign keys lock it, then the admin) deadlocked with a deletion (a 500).
 */
export async function anotherAdminStays(tx: DbOrTx, userId: string): Promise<boolean> {
  const admins = await tx.select({ id: users.id, banned: users.isBanned }).from(users).where(eq(users.role, 'admin')).orderBy(users.id).for('no key update');
  const others = admins.filter((a) => a.id !== userId && !a.banned);
  if (others.length === 0) return false;
  const leaving = await tx.select({ userId: accountDeletions.userId }).from(accountDeletions)
    .where(and(inArray(accountDeletions.userId, others.map((a) => a.id)), inArray(accountDeletions.status, ['pending', 'running'])));
  const gone = new Set(leaving.map((l) => l.userId));
  return others.some((a) => !gone.has(a.id));
}

/** Records the deletion of `userId` and enqueues its job (an unfinished one is returned instead); sessions and keys end now. */
export async function requestDeletion(deps: AppDeps, userId: string, requestedBy: string): Promise<AccountDeletionRow> {
  const row = await deps.db.transaction(async (tx) => {
    const adminStays = await anotherAdminStays(tx, userId); // its locks come first
    const [u] = await tx.select({ id: users.id, role: users.role }).from(users).where(eq(users.id, userId)).for('no key update');
    if (!u) throw notFound('Account');
    if (u.role === 'admin' && !adminStays) {
      throw conflict('The last administrator cannot be deleted; give another account the admin role first (POST /api/admin/users/:id/role).');
    }
    const [open] = await tx.select().from(accountDeletions)
      .where(and(eq(accountDeletions.userId, userId), inArray(accountDeletions.status, ['pending', 'running'])));
    if (open) return open;
    const [created] = await tx.insert(accountDeletions).values({ userId, requestedBy: requestedBy === userId ? null : requestedBy }).returning();
    const d = created as AccountDeletionRow;
    // A system job (no owner): the account's own jobs are among what it removes.
    const job = await enqueueJob(tx, { type: DELETE_JOB, payload: { deletion_id: d.id, user_id: userId }, uniqueKey: `${DELETE_JOB}:${d.id}`, maxAttempts: 50 });
    const [withJob] = await tx.update(accountDeletions).set({ jobId: job?.id ?? null }).where(eq(accountDeletions.id, d.id)).returning();
    return withJob as AccountDeletionRow;
  });
  await endCredentials(deps, userId);
  deps.queue.wake();
  return row;
}

/** Every session and API key of the account stops working now, on every instance. */
async function endCredentials(deps: AppDeps, userId: string): Promise<void> {
  await revokeAllSessions(deps, userId);
  const revoked = await deps.db.update(apiKeys).set({ revokedAt: new Date(deps.clock.now()) })
    .where(eq(apiKeys.userId, userId)).returning({ keyHash: apiKeys.keyHash });
  const resolver = deps.credentials;
  for (const k of revoked) await resolver.invalidateKey(k.keyHash);
  await resolver.invalidateUser(userId);
}

export async function getDeletion(deps: AppDeps, id: string): Promise<AccountDeletionRow> {
  const [d] = await deps.db.select().from(accountDeletions).where(eq(accountDeletions.id, id));
  if (!d) throw notFound('Deletion');
  return d;
}

/** Deletes up to `limit` file rows of the account (live or awaiting purge), releasing their bytes; returns the rows. */
async function releaseBatch(tx: DbOrTx, backend: string, userId: string, limit: number) {
  const rows = await tx.select({
    id: files.id, storageKey: files.storageKey, publicStorageKey: files.publicStorageKey, sha256: files.sha256, publicSha256: files.publicSha256,
  }).from(files).where(eq(files.userId, userId)).orderBy(files.id).limit(limit).for('update');
  const released = await releaseFileBlobs(tx, backend, rows);
  return { rows, deadKeys: released.deadKeys };
}

/** After a batch committed: bytes nobody references go now (their jobs retry otherwise), derivatives of dead bytes everywhere. */
async function afterBatch(deps: AppDeps, batch: Awaited<ReturnType<typeof releaseBatch>>): Promise<number> {
  await deleteDeadBlobs(deps, batch.deadKeys);
  const dead = new Set(batch.deadKeys);
  for (const f of batch.rows) {
    const purge = dead.has(f.storageKey);
    await publishFileChange(deps, purge ? { id: f.id, sha256: f.sha256, purge: true } : { id: f.id }).catch(() => {});
    if (f.publicStorageKey && f.publicSha256 && dead.has(f.publicStorageKey)) {
      await publishFileChange(deps, { id: f.id, sha256: f.publicSha256, purge: true }).catch(() => {});
    }
  }
  return batch.deadKeys.length;
}

/** The `account_delete` job. Every step is safe to repeat, so a retry after a crash picks up where it stopped. */
export async function runDeletion(deps: AppDeps, ctx: JobContext): Promise<void> {
  const id = ctx.job.payload.deletion_id;
  if (typeof id !== 'string') throw new Error('account_delete job without deletion_id');
  const [d] = await deps.db.update(accountDeletions).set({ status: 'running' })
    .where(and(eq(accountDeletions.id, id), inArray(accountDeletions.status, ['pending', 'running']))).returning();
  if (!d) return;
  const { userId } = d;
  const backend = deps.storage.kind;
  // Files and objects go in batches, each counted with its commit: a retry after a crash goes on
  // from the counts so far (it restarted from zero, and reported only what it removed itself).
  const removed: Record<string, number> = { exports: 0, jobs: 0, log_batches: 0, files: 0, objects: 0, ...(d.removed ? (JSON.parse(d.removed) as Record<string, number>) : {}) };
  try {
    const exportRows = await deps.db.select().from(accountExports).where(eq(accountExports.userId, userId));
    for (const e of exportRows) await deps.storage.delete(e.storageKey ?? exportKey(e.userId, e.id));
    removed.exports = exportRows.length; // their rows stay until the account goes: a retry finds them all again
    for (;;) {
      await ctx.checkpoint();
      const batch = await deps.db.transaction(async (tx) => {
        const b = await releaseBatch(tx, backend, userId, BATCH);
        if (b.rows.length === 0) return b;
        const counted = { ...removed, files: (removed.files ?? 0) + b.rows.length, objects: (removed.objects ?? 0) + b.deadKeys.length };
        await tx.update(accountDeletions).set({ removed: JSON.stringify(counted) }).where(eq(accountDeletions.id, id));
        Object.assign(removed, counted);
        return b;
      });
      if (batch.rows.length === 0) break;
      await afterBatch(deps, batch);
    }
    // Unfinished tus uploads: their rows go with the account (cascade), and the expiry sweep works
    // from rows, so their bytes (partial file, S3 multipart parts and tail) are removed here.
    const unfinished = await deps.db.select().from(tusUploads).where(eq(tusUploads.userId, userId));
    if (unfinished.length) {
      for (const row of unfinished) await removeUpload(deps, deps.tus, row);
      removed.tus_uploads = unfinished.length;
    }
    // Its jobs and their events (a job still running elsewhere keeps its row; its owner goes null with the account).
    const gone = await deps.db.delete(jobs)
      .where(and(eq(jobs.userId, userId), notInArray(jobs.status, ['running']))).returning({ id: jobs.id });
    removed.jobs = gone.length;
    await deps.db.delete(jobEvents).where(eq(jobEvents.userId, userId));
    removed.log_batches = (await deps.db.delete(requestLogBatches).where(eq(requestLogBatches.userId, userId)).returning({ id: requestLogBatches.id })).length;
    // Last, under the account row's lock: what an upload committed meanwhile, then the row (cascading).
    const last = await deps.db.transaction(async (tx) => {
      const [u] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
      if (!u) return null;
      const batch = await releaseBatch(tx, backend, userId, 100_000);
      // An export that finished since the first sweep: its row cascades with the account, its archive goes below.
      const archives = await tx.select({ key: accountExports.storageKey }).from(accountExports).where(eq(accountExports.userId, userId));
      await tx.delete(users).where(eq(users.id, userId));
      return { ...batch, archives: archives.flatMap((a) => (a.key ? [a.key] : [])) };
    });
    if (last) {
      for (const key of last.archives) await deps.storage.delete(key); // idempotent: the first sweep's are gone already
      removed.files = (removed.files ?? 0) + last.rows.length;
      removed.objects = (removed.objects ?? 0) + await afterBatch(deps, last);
    }
    await deps.credentials.invalidateUser(userId);
    // Request logs are written in batches up to a second late, by every instance (the DELETE
    // request's own entry included): a last sweep of them a few seconds on completes the deletion.
    await deps.db.transaction(async (tx) => {
      await tx.update(accountDeletions).set({ removed: JSON.stringify(removed), error: null }).where(eq(accountDeletions.id, id));
      await enqueueJob(tx, {
        type: DELETE_LOGS_JOB, payload: { deletion_id: id, user_id: userId }, uniqueKey: `${DELETE_LOGS_JOB}:${id}`,
        runAt: new Date(deps.clock.now() + LOG_SETTLE_MS), maxAttempts: 50,
      });
    });
    deps.queue.wake();
    ctx.log.info({ deletion_id: id, removed }, 'account deleted; its last request logs follow');
  } catch (err) {
    await deps.db.update(accountDeletions)
      .set(ctx.job.attempts >= ctx.job.maxAttempts ? { status: 'failed', error: (err as Error).message, finishedAt: new Date(deps.clock.now()) } : { error: (err as Error).message })
      .where(eq(accountDeletions.id, id));
    throw err;
  }
}

/** The `account_delete_logs` job: this process's buffered entries out, then every batch of the account; the deletion is complete. */
export async function finishDeletion(deps: AppDeps, ctx: JobContext): Promise<void> {
  const id = ctx.job.payload.deletion_id;
  const userId = ctx.job.payload.user_id;
  if (typeof id !== 'string' || typeof userId !== 'string') throw new Error('account_delete_logs job without deletion_id and user_id');
  await deps.requestLogs.flush();
  const n = (await deps.db.delete(requestLogBatches).where(eq(requestLogBatches.userId, userId)).returning({ id: requestLogBatches.id })).length;
  await deps.db.delete(jobEvents).where(eq(jobEvents.userId, userId));
  const [d] = await deps.db.select().from(accountDeletions).where(eq(accountDeletions.id, id));
  const removed = { ...(d?.removed ? (JSON.parse(d.removed) as Record<string, number>) : {}) };
  removed.log_batches = (removed.log_batches ?? 0) + n;
  await deps.db.update(accountDeletions).set({ status: 'completed', finishedAt: new Date(deps.clock.now()), removed: JSON.stringify(removed) })
    .where(eq(accountDeletions.id, id));
  ctx.log.info({ deletion_id: id, removed }, 'account deletion completed');
}
