/**
 * The `webhook_deliver` job: POSTs one delivery to its endpoint under the SSRF guard, signs it
 * (sign.ts), records the attempt (status code, error, duration) in the delivery log, and fails
 * the job (→ the queue retries with `WEBHOOK_RETRY_BASE_MS`·2ⁿ backoff) until a 2xx arrives or
 * `WEBHOOK_MAX_ATTEMPTS` are spent. A target the SSRF rules refuse is not retried. A delivery
 * given up ends its job `failed` with the delivery's error (not `completed`), without further
 * queue retries. An endpoint turned off meanwhile gets nothing more: its delivery is marked
 * `cancelled` at its next attempt (a `webhook.test` excepted, which is sent enabled or not),
 * and the job ends `cancelled`. Retrying a failed or cancelled job (`/api/queue/jobs/:id/retry`)
 * sends its delivery again. Deliveries whose job was cancelled or deleted: settle.ts.
 *
 * Registered with `job.failed` emission: a job of an account that fails for good becomes a
 * `job.failed` event (never for `webhook_deliver` jobs themselves, which would loop). Old
 * deliveries are a step of the queue's hourly `prune` (`pruneWebhookDeliveries`).
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { guardedFetch, readBounded, SsrfError } from '../../lib/ssrf';
import { JobCancelledError } from '../queue/runner';
import { jobs, type JobRow } from '../queue/table';
import { outboundPolicy } from '../remote/source';
import { DELIVER_JOB, emitWebhookEvent } from './emit';
import { signatures } from './sign';
import { webhookDeliveries, webhooks, type DeliveryAttempt, type WebhookRow } from './table';

/** The hourly `prune` step (src/jobs.ts): the delivery log is kept as long as finished jobs (QUEUE_RETENTION_DAYS). */
export async function pruneWebhookDeliveries(deps: AppDeps): Promise<number> {
  const before = new Date(Date.now() - deps.config.queue.retentionDays * 86_400_000);
  return (await deps.db.delete(webhookDeliveries).where(lt(webhookDeliveries.createdAt, before)).returning({ id: webhookDeliveries.id })).length;
}

/**
 * After a delivery's last attempt: a success clears the endpoint's `failing_since`; a failure
 * sets it (if unset), and once every delivery has failed for WEBHOOK_DISABLE_AFTER_DAYS the
 * endpoint is turned off, saying why, as Stripe and Svix do: a receiver gone for good would
 * otherwise cost every event all its attempts, for ever. A `webhook.test` counts like any other.
 */
async function trackEndpointHealth(deps: AppDeps, hook: WebhookRow, succeeded: boolean, error: string | null): Promise<void> {
  if (succeeded) {
    if (hook.failingSince) await deps.db.update(webhooks).set({ failingSince: null }).where(eq(webhooks.id, hook.id));
    return;
  }
  const now = deps.clock.now();
  const since = hook.failingSince ?? new Date(now);
  const limit = deps.config.webhooks.disableAfterMs;
  const giveUp = hook.enabled && limit > 0 && now - since.getTime() >= limit;
  const days = Math.round(limit / 86_400_000);
  await deps.db.update(webhooks).set({
    // Only where still unset: two deliveries finishing at once keep the earlier start.
    failingSince: sql`coalesce(${webhooks.failingSince}, ${since.toISOString()}::timestamptz)`,
    ...(giveUp ? {
      enabled: false,
      disabledReason: `Turned off on ${new Date(now).toISOString().slice(0, 10)}: every delivery since ${since.toISOString().slice(0, 10)} failed (${days} day${days === 1 ? '' : 's'} or more); the last one: ${error ?? 'failed'}. Fix the receiver, then turn the endpoint on again.`,
      updatedAt: new Date(now),
    } : {}),
  }).where(eq(webhooks.id, hook.id));
  if (giveUp) deps.log.warn({ webhook_id: hook.id, user_id: hook.userId, failing_since: since.toISOString() }, 'webhook endpoint turned off after failing for good');
}

/** Thrown to make the queue retry a delivery (the message lands in the job's `last_error`). */
class RetryDelivery extends Error {}

/**
 * Ends a delivery's job `failed` now, with `error` as its `last_error`. The job's `max_attempts`
 * is only a ceiling (DELIVER_JOB_MAX_ATTEMPTS: the handler decides when to give up, by
 * WEBHOOK_MAX_ATTEMPTS read when it runs), so it is lowered to the attempts made: the failure
 * thrown next is the queue's last, recorded as `failed` rather than retried.
 */
async function giveUp(deps: AppDeps, job: JobRow, error: string): Promise<never> {
  await deps.db.update(jobs).set({ maxAttempts: sql`${jobs.attempts}` })
    .where(and(eq(jobs.id, job.id), eq(jobs.status, 'running'), job.lockedBy ? eq(jobs.lockedBy, job.lockedBy) : undefined));
  throw new Error(error);
}

export function registerWebhookJobs(deps: AppDeps): void {
  const cfg = deps.config.webhooks;
  const policy = outboundPolicy(deps.config, { maxRedirects: 0 });

  deps.queue.register(DELIVER_JOB, async ({ job, signal }) => {
    const deliveryId = String(job.payload.delivery_id ?? '');
    const [d] = await deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).limit(1);
    const [hook] = d ? await deps.db.select().from(webhooks).where(eq(webhooks.id, d.webhookId)).limit(1) : [];
    // The endpoint was deleted (its deliveries went with it), or the log was pruned: nothing to send.
    if (!d || !hook) throw new JobCancelledError('Not sent: its endpoint was deleted (or the delivery pruned from the log).');
    // Settled already. A job retried through /api/queue starts again at attempt 1 and sends its
    // failed or cancelled delivery again; any other run (a duplicate) leaves it be.
    if (d.status !== 'pending' && (d.status === 'succeeded' || job.attempts !== 1)) return;
    if (!hook.enabled && d.eventType !== 'webhook.test') {
      // Turned off (by its owner, or for failing for days) after the event was queued: its
      // retries stop here. A test event is sent whether the endpoint is on or not.
      const reason = `Not sent: the endpoint was turned off before this delivery was made${d.attempts.length ? ` (after ${d.attempts.length} failed attempt${d.attempts.length === 1 ? '' : 's'})` : ''}.`;
      await deps.db.update(webhookDeliveries).set({ status: 'cancelled', lastError: reason }).where(eq(webhookDeliveries.id, d.id));
      throw new JobCancelledError(reason);
    }

    // In the documented order (jsonb keeps its keys sorted its own way: data, type, timestamp).
    const { type, timestamp: at, data, ...rest } = d.payload as Record<string, unknown>;
    const body = JSON.stringify({ type, timestamp: at, data, ...rest });
    const sentAt = new Date(deps.clock.now());
    const timestamp = Math.floor(sentAt.getTime() / 1000);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    let permanent = false;
    const timeout = AbortSignal.timeout(cfg.timeoutMs);
    try {
      const { response } = await guardedFetch(hook.url, policy, {
        method: 'POST',
        body,
        signal: AbortSignal.any([signal, timeout]),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Pictor-Webhooks/1',
          'webhook-id': d.eventId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatures(hook, d.eventId, timestamp, body, sentAt),
        },
      });
      status = response.status;
      // A little of the answer is read so the connection can be reused; nothing of it is kept.
      await readBounded(response, 64 * 1024, timeout).catch(() => response.body?.cancel().catch(() => {}));
      if (status >= 300 && status <= 399) {
        // Any 3xx, with a Location or not (300, 304): the same answer next time, as a redirect's would be.
        error = `the receiver answered ${status} (a redirect status); deliveries do not follow redirects (give the final URL)`;
        permanent = true;
      } else if (status < 200 || status > 299) error = `the receiver answered ${status}`;
    } catch (err) {
      if (err instanceof SsrfError) {
        if (err.reason === 'redirects') status = err.status ?? null; // the log keeps the 3xx the receiver gave
        error = err.reason === 'redirects'
          ? `the receiver answered ${status ?? ''} (a redirect); deliveries do not follow redirects (give the final URL)`.replace('  ', ' ')
          : `refused: ${err.message}`;
        permanent = err.reason !== 'resolve';
      } else {
        error = timeout.aborted ? `no answer within ${cfg.timeoutMs} ms` : `could not connect: ${(err as Error).message}`;
      }
    }
    if (signal.aborted && !timeout.aborted) throw new Error('delivery interrupted (shutdown)');
    // `at` is when the attempt was sent (the receiver's time for it), `duration_ms` how long it took.
    const attempt: DeliveryAttempt = { at: sentAt.toISOString(), status, error, duration_ms: Math.round(performance.now() - started) };
    const done = error === null;
    const final = done || permanent || job.attempts >= cfg.maxAttempts;
    await deps.db.update(webhookDeliveries).set({
      attempts: sql`${webhookDeliveries.attempts} || ${JSON.stringify([attempt])}::jsonb`,
      responseStatus: status,
      lastError: error,
      status: done ? 'succeeded' : final ? 'failed' : 'pending',
      ...(done ? { deliveredAt: new Date(deps.clock.now()) } : {}),
    }).where(eq(webhookDeliveries.id, d.id));
    if (!final) throw new RetryDelivery(error ?? 'failed');
    await trackEndpointHealth(deps, hook, done, error);
    if (!done) await giveUp(deps, job, error ?? 'failed');
  }, { backoffBaseMs: cfg.retryBaseMs, backoffMaxMs: cfg.retryMaxMs });

  deps.queue.onFailed((job) => {
    if (job.type === DELIVER_JOB || !job.userId) return;
    const userId = job.userId;
    void deps.db.transaction((tx) => emitWebhookEvent(tx, userId, 'job.failed', {
      id: job.id, type: job.type, attempts: job.attempts, last_error: job.lastError, file_id: job.fileId,
    })).then((ids) => {
      if (ids.length) deps.queue.wake();
    }, (err: unknown) => deps.log.warn({ err, job_id: job.id }, 'could not emit job.failed'));
  });
}
