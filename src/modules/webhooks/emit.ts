/**
 * Emitting webhook events, outbox style: `emitWebhookEvent(tx, …)` inside the transaction of
 * the change writes one delivery row and one `webhook_deliver` job per subscribed endpoint,
 * so a committed change always gets its deliveries and a rolled-back one never does. An
 * account without endpoints costs one indexed query.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { DbOrTx } from '../../db/client';
import { enqueueJobs } from '../queue/enqueue';
import { files } from '../files/table';
import { webhookDeliveries, webhooks } from './table';

export const WEBHOOK_EVENTS = ['file.uploaded', 'file.deleted', 'file.expired', 'job.failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number] | 'webhook.test';

/** The job type that delivers one delivery row. */
export const DELIVER_JOB = 'webhook_deliver';
/**
 * Upper bound of a delivery job's attempts; the handler gives up earlier, after
 * `WEBHOOK_MAX_ATTEMPTS` (read when it runs, so a changed setting applies to queued events too).
 */
export const DELIVER_JOB_MAX_ATTEMPTS = 100;

export const newEventId = () => `evt_${randomUUID().replaceAll('-', '')}`;

/** Writes deliveries for `type` to the account's subscribed endpoints (or to `only` one endpoint). Returns the delivery ids. */
export async function emitWebhookEvent(
  tx: DbOrTx, userId: string, type: WebhookEvent, data: Record<string, unknown>, only?: string,
): Promise<string[]> {
  // FOR KEY SHARE: an endpoint deleted at the same moment waits for this transaction (then takes
  // its new deliveries with it) instead of failing the delivery rows' foreign key, which rolled
  // back the whole change (an upload) with a 500. Edits (PATCH) are not held up.
  const targets = await tx.select({ id: webhooks.id }).from(webhooks).where(and(
    eq(webhooks.userId, userId),
    only ? eq(webhooks.id, only) : and(eq(webhooks.enabled, true), sql`${webhooks.events} ? ${type}`),
  )).for('key share');
  if (targets.length === 0) return [];
  const eventId = newEventId();
  const payload = { type, timestamp: new Date().toISOString(), data };
  const rows = await tx.insert(webhookDeliveries)
    .values(targets.map((t) => ({ webhookId: t.id, userId, eventId, eventType: type, payload })))
    .returning({ id: webhookDeliveries.id });
  await enqueueJobs(tx, rows.map((r) => ({
    type: DELIVER_JOB, userId, payload: { delivery_id: r.id }, maxAttempts: DELIVER_JOB_MAX_ATTEMPTS, uniqueKey: `webhook:${r.id}`,
  })));
  return rows.map((r) => r.id);
}

/** The file object events carry. */
export const fileEventData = (f: { id: string; name: string; contentType: string; size: number; folder?: string | null; isPublic?: boolean }) => ({
  id: f.id, name: f.name, content_type: f.contentType, size: f.size, folder: f.folder ?? null, ...(f.isPublic === undefined ? {} : { is_public: f.isPublic }),
});

/**
 * `file.deleted` / `file.expired` for files just soft-deleted in `tx`: expired when the file's
 * expiry had passed at `now` (the expiry sweep), deleted otherwise.
 */
export async function emitFileRemovals(tx: DbOrTx, userId: string, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  const has = await tx.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.userId, userId), eq(webhooks.enabled, true))).limit(1);
  if (has.length === 0) return;
  const rows = await tx.select().from(files).where(inArray(files.id, [...ids]));
  for (const f of rows) {
    const expired = f.expiresAt !== null && f.expiresAt.getTime() <= now.getTime();
    await emitWebhookEvent(tx, userId, expired ? 'file.expired' : 'file.deleted', fileEventData(f));
  }
}
