import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/** One webhook endpoint of an account: where events go, which ones, and the signing secret. */
export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** Event types delivered (`file.uploaded`, …). */
    events: jsonb('events').$type<string[]>().notNull(),
    description: text('description'),
    /** `whsec_<base64 key>` (Standard Webhooks). */
    secret: text('secret').notNull(),
    /** The secrets before the last rotations, still signing beside the new one: `secret@untilMs`, space-separated, newest first (sign.ts). */
    previousSecret: text('previous_secret'),
    /** The latest of their ends. */
    previousSecretUntil: timestamp('previous_secret_until', { withTimezone: true, precision: 3 }),
    enabled: boolean('enabled').notNull().default(true),
    /** Since when every delivery failed for good (none succeeded since); null while one succeeds. */
    failingSince: timestamp('failing_since', { withTimezone: true, precision: 3 }),
    /** Why the server turned the endpoint off (WEBHOOK_DISABLE_AFTER_DAYS); null when it did not. */
    disabledReason: text('disabled_reason'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('webhooks_user_idx').on(t.userId)],
);

export type WebhookRow = typeof webhooks.$inferSelect;

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled'] as const;

export interface DeliveryAttempt {
  at: string;
  /** The receiver's HTTP status, or null when none came (refused, unreachable, timed out). */
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/**
 * The delivery log: one row per (event, endpoint), written with the event in the transaction
 * that caused it (outbox style) and delivered by a `webhook_deliver` queue job.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    webhookId: uuid('webhook_id').notNull().references(() => webhooks.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull(),
    /** The event id the receiver sees in `webhook-id` (the same on every retry: receivers dedupe by it). */
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /**
     * `cancelled`: never to be sent (its job was cancelled or deleted, or the endpoint was turned
     * off first); `last_error` says which. Plain text in the database: no migration for a status.
     */
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: jsonb('attempts').$type<DeliveryAttempt[]>().notNull().default([]),
    responseStatus: integer('response_status'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt), index('webhook_deliveries_created_idx').on(t.createdAt)],
);

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
