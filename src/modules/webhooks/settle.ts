/**
 * A delivery is sent by its `webhook_deliver` job (unique key `webhook:<delivery id>`), which the
 * owner can cancel or delete (`/api/queue/jobs/:id`) and which can fail for good without its
 * handler recording it (a worker that died on the last attempt). The queue is generic and knows
 * nothing of deliveries, so, as for exports (account/export-settle.ts), a delivery still
 * `pending` is judged by its job row: once that job is no longer pending or running (or is
 * gone), nothing will ever send it, and it is settled as `cancelled` or `failed` with the
 * reason. This runs before every read of the delivery log, in one statement, so it is right
 * whichever process cancelled the job and whichever process reads.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { webhookDeliveries } from './table';

/** The delivery's job, found by its unique key (indexed). */
const jobOf = sql`j.unique_key = 'webhook:' || ${webhookDeliveries.id}::text`;
const jobStatus = sql`(select j.status from jobs j where ${jobOf})`;
const jobError = sql`(select j.last_error from jobs j where ${jobOf})`;
/** ` after N failed attempts` when some were made: a delivery given up after them was not "not sent". */
const afterAttempts = sql`case jsonb_array_length(${webhookDeliveries.attempts}) when 0 then '' when 1 then ' after 1 failed attempt'
  else ' after ' || jsonb_array_length(${webhookDeliveries.attempts}) || ' failed attempts' end`;

/**
 * Settles the pending deliveries matching `scope` whose job can no longer send them; returns
 * how many. A job still pending (retries included) or running keeps its delivery pending.
 */
export async function settleOrphanedDeliveries(db: DbOrTx, scope: SQL): Promise<number> {
  const settled = await db.update(webhookDeliveries).set({
    status: sql`case when ${jobStatus} = 'failed' then 'failed' else 'cancelled' end`,
    lastError: sql`case coalesce(${jobStatus}, 'deleted')
      when 'deleted' then case when jsonb_array_length(${webhookDeliveries.attempts}) = 0 then 'Not sent: its queue job was deleted before the delivery was made.'
        else 'Given up: its queue job was deleted' || ${afterAttempts} || '.' end
      when 'cancelled' then case when jsonb_array_length(${webhookDeliveries.attempts}) = 0 then 'Not sent: its queue job was cancelled before the delivery was made.'
        else 'Given up: its queue job was cancelled' || ${afterAttempts} || '.' end
      when 'failed' then 'Its queue job failed: ' || coalesce(${jobError}, 'no reason recorded')
      else 'Not sent: its queue job ended without making the delivery.' end`,
  }).where(and(
    scope,
    eq(webhookDeliveries.status, 'pending'),
    sql`not exists (select 1 from jobs j where ${jobOf} and j.status in ('pending', 'running'))`,
  )).returning({ id: webhookDeliveries.id });
  return settled.length;
}
