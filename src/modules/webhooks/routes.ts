/**
 * `/api/webhooks` (#25): an account's webhook endpoints, their delivery log, and a "send test"
 * call. Targets are checked against the SSRF rules when saved (scheme, resolved addresses:
 * no private or loopback address unless OUTBOUND_ALLOW_PRIVATE / OUTBOUND_ALLOW_LOOPBACK) and
 * again at every delivery (jobs.ts). Events, signing and retries: README § Webhooks.
 */
import { and, count, desc, eq, sql } from 'drizzle-orm';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { conflict, errorResponses, notFound, validationError } from '../../errors';
import { noContent } from '../../http';
import { cursorDate, cursorText, invalidCursor, UUID } from '../../lib/cursors';
import { checkUrl, classifyAddress, resolveChecked, SsrfError } from '../../lib/ssrf';
import { authGuard } from '../auth/guard';
import { users } from '../users/table';
import { outboundPolicy } from '../remote/source';
import { emitWebhookEvent, WEBHOOK_EVENTS } from './emit';
import { settleOrphanedDeliveries } from './settle';
import { newWebhookSecret, previousSecrets } from './sign';
import { DELIVERY_STATUSES, webhookDeliveries, webhooks, type WebhookDeliveryRow, type WebhookRow } from './table';

const Timestamp = t.String({ format: 'date-time' });
const EventName = t.UnionEnum([...WEBHOOK_EVENTS], { description: 'An event type.' });

const WebhookSchema = t.Object({
  id: t.String({ format: 'uuid' }),
  url: t.String({ description: 'Where events are POSTed.' }),
  events: t.Array(EventName),
  description: t.Nullable(t.String()),
  enabled: t.Boolean(),
  failing_since: t.Nullable(t.String({ format: 'date-time', description: 'Since when every delivery has failed for good (none succeeded since); null while deliveries succeed. After `WEBHOOK_DISABLE_AFTER_DAYS` (default 3) of this the server turns the endpoint off.' })),
  disabled_reason: t.Nullable(t.String({ description: 'Why the server turned the endpoint off (every delivery failed for days); null when it did not. Turning it on again clears it.' })),
  secret: t.Optional(t.String({ description: 'Signing secret (`whsec_<base64>`, Standard Webhooks): verify `webhook-signature` with it. Only in the answer that creates the endpoint or rotates its secret (as API keys are shown once): a key that may only read the account must not be able to forge its events.' })),
  previous_secret_expires_at: t.Nullable(t.String({ format: 'date-time', description: 'After a rotation: until when deliveries also carry a signature by the previous secret (`webhook-signature` lists both), so receivers can switch without missing an event; null when there is none.' })),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { title: 'Webhook' });

const AttemptSchema = t.Object({
  at: Timestamp,
  status: t.Nullable(t.Integer({ description: 'The receiver\'s HTTP status; null when none came.' })),
  error: t.Nullable(t.String()),
  duration_ms: t.Integer(),
});

const DeliverySchema = t.Object({
  id: t.String({ format: 'uuid' }),
  event_id: t.String({ description: 'Sent as `webhook-id`; the same on every retry.' }),
  event_type: t.String(),
  status: t.UnionEnum([...DELIVERY_STATUSES], {
    description: '`pending` includes waiting for a retry. `failed`: every attempt failed (or its queue job failed for good). '
      + '`cancelled`: never to be sent, `last_error` says why: its queue job was cancelled or deleted, or the endpoint was turned off before it went out.',
  }),
  response_status: t.Nullable(t.Integer({ description: 'Status of the last attempt.' })),
  last_error: t.Nullable(t.String()),
  attempts: t.Array(AttemptSchema),
  payload: t.Record(t.String(), t.Unknown(), { description: 'The body sent: `{type, timestamp, data}`.' }),
  created_at: Timestamp,
  delivered_at: t.Nullable(Timestamp),
}, { title: 'WebhookDelivery' });

const toJson = (w: WebhookRow, now: number, withSecret = false) => ({
  id: w.id, url: w.url, events: w.events as (typeof WEBHOOK_EVENTS)[number][], description: w.description, enabled: w.enabled,
  failing_since: w.failingSince?.toISOString() ?? null, disabled_reason: w.disabledReason,
  ...(withSecret ? { secret: w.secret } : {}), previous_secret_expires_at: w.previousSecret && w.previousSecretUntil && w.previousSecretUntil.getTime() > now ? w.previousSecretUntil.toISOString() : null, created_at: w.createdAt.toISOString(), updated_at: w.updatedAt.toISOString(),
});

/** How long a rotated-out secret keeps signing by default (a day), and at most (a week). */
const DEFAULT_PREVIOUS_SECRET_S = 86_400;
const MAX_PREVIOUS_SECRET_S = 7 * 86_400;
/** Old secrets signing at once after rotations in a row (each is one more HMAC per delivery). */
const MAX_PREVIOUS_SECRETS = 3;

/** Endpoints per account: each event fans out to all of them inside the emitting transaction. */
export const MAX_WEBHOOKS = 10;

const deliveryJson = (d: WebhookDeliveryRow) => ({
  id: d.id, event_id: d.eventId, event_type: d.eventType, status: d.status, response_status: d.responseStatus, last_error: d.lastError,
  attempts: d.attempts, payload: d.payload, created_at: d.createdAt.toISOString(), delivered_at: d.deliveredAt?.toISOString() ?? null,
});

const IdParams = t.Object({ id: t.String({ format: 'uuid' }) });
const urlField = t.String({ minLength: 1, maxLength: 2048, description: 'An http(s) URL on a public address (private/loopback only when the server allows them).', examples: ['https://receiver.example/pictor-hooks'] });
const eventsField = t.Array(EventName, { minItems: 1, uniqueItems: true, description: `Events to deliver: ${WEBHOOK_EVENTS.map((e) => `\`${e}\``).join(', ')}.` });
/** The same on create and update: null (or leaving it out on create) means no description. */
const descriptionField = t.Optional(t.Nullable(t.String({ maxLength: 200, description: 'A note for people; null for none.' })));

/**
 * A delivery-log cursor, `d<ms>:<uuid>`: the last row's time and id. The time must be one a
 * timestamptz stores and the id a real uuid (36 dashes passed the old pattern: a 500 in SQL).
 */
function decodeDeliveryCursor(cursor: string): { at: Date; id: string } {
  const m = /^d(\d{1,15}):(.*)$/.exec(cursorText(cursor));
  if (!m || !UUID.test(m[2]!)) throw invalidCursor();
  return { at: cursorDate(Number(m[1])), id: m[2]! };
}

/**
 * The secrets that keep signing after a rotation, each until its own time: the one rotated away
 * from for `keepS`, and those an earlier rotation still lets sign, for what it promised them;
 * newest first, at most `MAX_PREVIOUS_SECRETS`. Stored as `secret@untilMs`, space-separated
 * (sign.ts reads them); `previousSecretUntil` is the latest of the times.
 */
function rotatedAway(old: WebhookRow, now: number, keepS: number): { secrets: string; until: Date } {
  const earlier = previousSecrets(old).filter((p) => p.until > now);
  const kept = [{ secret: old.secret, until: now + keepS * 1000 }, ...earlier].slice(0, MAX_PREVIOUS_SECRETS);
  return { secrets: kept.map((p) => `${p.secret}@${p.until}`).join(' '), until: new Date(Math.max(...kept.map((p) => p.until))) };
}

export function webhookRoutes(deps: AppDeps) {
  const policy = outboundPolicy(deps.config);

  /** The target's URL and its resolved addresses against the SSRF rules; a refusal is a 400 naming why. */
  async function checkTarget(url: string): Promise<string> {
    try {
      const u = checkUrl(url, policy);
      await resolveChecked(u, policy);
      return u.href;
    } catch (err) {
      if (!(err instanceof SsrfError)) throw err;
      // Only private and loopback addresses have a setting that allows them.
      const cls = err.reason === 'address' && err.address ? classifyAddress(err.address) : null;
      const hint = cls === 'private' ? ' (OUTBOUND_ALLOW_PRIVATE allows it)' : cls === 'loopback' ? ' (OUTBOUND_ALLOW_LOOPBACK allows it)' : cls ? ' (no setting allows it)' : '';
      throw validationError(`Webhook url refused: ${err.message}${hint}.`, [{ path: '/url', message: err.message }]);
    }
  }

  async function own(userId: string, id: string): Promise<WebhookRow> {
    const [row] = await deps.db.select().from(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.userId, userId))).limit(1);
    if (!row) throw notFound('Webhook');
    return row;
  }

  return new Elysia({ name: 'pictor.webhooks', prefix: '/api/webhooks', detail: { tags: ['webhooks'] } })
    .use(authGuard(deps))
    .get('', async ({ principal }) => {
      // Newest first, as every list (API.md §1): one page, an account has at most MAX_WEBHOOKS.
      const rows = await deps.db.select().from(webhooks).where(eq(webhooks.userId, principal.userId)).orderBy(desc(webhooks.createdAt), desc(webhooks.id));
      return { results: rows.map((w) => toJson(w, deps.clock.now())), count: rows.length, next_cursor: null };
    }, {
      auth: 'account:read',
      response: { 200: t.Object({ results: t.Array(WebhookSchema), count: t.Integer(), next_cursor: t.Null({ description: 'Always null: one page holds every endpoint.' }) }), ...errorResponses(401, 403) },
      detail: { summary: 'List webhook endpoints', description: `Newest first, in one page: an account has at most ${MAX_WEBHOOKS}.` },
    })
    .post('', async ({ principal, body, set }) => {
      const url = await checkTarget(body.url);
      const row = await deps.db.transaction(async (tx) => {
        // The account row's lock makes the count and the insert one step for concurrent creates
        // (`no key update`: not with inserts that refer to the account, see requestDeletion).
        await tx.select({ id: users.id }).from(users).where(eq(users.id, principal.userId)).for('no key update');
        const [{ n }] = await tx.select({ n: count() }).from(webhooks).where(eq(webhooks.userId, principal.userId)) as [{ n: number }];
        if (n >= MAX_WEBHOOKS) throw conflict(`An account has at most ${MAX_WEBHOOKS} webhook endpoints; delete one first.`);
        const [created] = await tx.insert(webhooks).values({
          userId: principal.userId, url, events: body.events, description: body.description ?? null, enabled: body.enabled ?? true, secret: newWebhookSecret(),
        }).returning();
        return created as WebhookRow;
      });
      set.status = 201;
      return toJson(row, deps.clock.now(), true);
    }, {
      auth: 'account:write',
      body: t.Object({
        url: urlField,
        events: eventsField,
        description: descriptionField,
        enabled: t.Optional(t.Boolean()),
      }),
      response: { 201: WebhookSchema, ...errorResponses(400, 401, 403, 409) },
      detail: {
        summary: 'Create a webhook endpoint',
        description: 'Events are POSTed as JSON `{type, timestamp, data}` with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). '
          + 'A url whose host is or resolves to a private, loopback, link-local or metadata address → 400 (private ones allowed by OUTBOUND_ALLOW_PRIVATE, loopback by OUTBOUND_ALLOW_LOOPBACK, the others never), and so is port 0. '
          + 'The answer carries `secret`, shown this once. At most 10 endpoints per account (409 beyond).',
      },
    })
    .get('/:id', async ({ principal, params }) => toJson(await own(principal.userId, params.id), deps.clock.now()), {
      auth: 'account:read',
      params: IdParams,
      response: { 200: WebhookSchema, ...errorResponses(400, 401, 403, 404) },
      detail: { summary: 'Get a webhook endpoint' },
    })
    .patch('/:id', async ({ principal, params, body }) => {
      await own(principal.userId, params.id);
      const url = body.url === undefined ? undefined : await checkTarget(body.url);
      // The endpoint may have been deleted while the url was checked (a DNS lookup): 404, not a 500.
      const [row] = await deps.db.update(webhooks).set({
        ...(url !== undefined ? { url } : {}),
        ...(body.events !== undefined ? { events: body.events } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        // Turned on (again): the failure streak and the reason it was turned off start afresh.
        ...(body.enabled !== undefined ? { enabled: body.enabled, ...(body.enabled ? { failingSince: null, disabledReason: null } : {}) } : {}),
        updatedAt: new Date(deps.clock.now()),
      }).where(and(eq(webhooks.id, params.id), eq(webhooks.userId, principal.userId))).returning();
      if (!row) throw notFound('Webhook');
      return toJson(row, deps.clock.now());
    }, {
      auth: 'account:write',
      params: IdParams,
      body: t.Object({
        url: t.Optional(urlField),
        events: t.Optional(eventsField),
        description: descriptionField,
        enabled: t.Optional(t.Boolean()),
      }),
      response: { 200: WebhookSchema, ...errorResponses(400, 401, 403, 404) },
      detail: {
        summary: 'Update a webhook endpoint',
        description: 'Turning it off (`enabled: false`) also stops the deliveries already queued for it (retries included): each is marked `cancelled` at its next attempt instead of being sent (`webhook.test` events excepted).',
      },
    })
    .delete('/:id', async ({ principal, params }) => {
      const gone = await deps.db.delete(webhooks).where(and(eq(webhooks.id, params.id), eq(webhooks.userId, principal.userId))).returning({ id: webhooks.id });
      // One statement: of two deletes at once, the second finds nothing and is a 404.
      if (gone.length === 0) throw notFound('Webhook');
      return noContent();
    }, {
      auth: 'account:write',
      params: IdParams,
      response: { 204: t.Void(), ...errorResponses(400, 401, 403, 404) },
      detail: { summary: 'Delete a webhook endpoint', description: 'Its delivery log goes with it; pending deliveries are dropped.' },
    })
    .post('/:id/rotate-secret', async ({ principal, params, body }) => {
      const keepS = body.previous_secret_valid_for ?? DEFAULT_PREVIOUS_SECRET_S;
      const now = deps.clock.now();
      // Under the row's lock: the secret replaced is the one the row holds then (two rotations at once chain).
      const row = await deps.db.transaction(async (tx) => {
        const [old] = await tx.select().from(webhooks).where(and(eq(webhooks.id, params.id), eq(webhooks.userId, principal.userId))).for('update');
        if (!old) return undefined;
        const kept = keepS > 0 ? rotatedAway(old, now, keepS) : null;
        const [updated] = await tx.update(webhooks).set({
          secret: newWebhookSecret(), previousSecret: kept?.secrets ?? null, previousSecretUntil: kept?.until ?? null, updatedAt: new Date(now),
        }).where(eq(webhooks.id, old.id)).returning();
        return updated;
      });
      if (!row) throw notFound('Webhook');
      return toJson(row, deps.clock.now(), true);
    }, {
      auth: 'account:write',
      params: IdParams,
      body: t.Object({
        previous_secret_valid_for: t.Optional(t.Integer({
          minimum: 0, maximum: MAX_PREVIOUS_SECRET_S,
          description: `Seconds the old secret keeps signing beside the new one (default ${DEFAULT_PREVIOUS_SECRET_S}, one day; at most ${MAX_PREVIOUS_SECRET_S}, a week). 0: at once, for a secret that leaked (every older one stops too). Rotating again within that time keeps the older ones signing too (at most ${MAX_PREVIOUS_SECRETS}), each until the time its own rotation gave it.`,
        })),
      }, { additionalProperties: false }),
      response: { 200: WebhookSchema, ...errorResponses(400, 401, 403, 404) },
      detail: {
        summary: 'Rotate a webhook endpoint\'s secret',
        description: 'A new `secret`, shown this once. Until `previous_secret_expires_at` each delivery is signed with both (two space-separated `v1,…` in `webhook-signature`; '
          + 'a Standard Webhooks receiver accepts either), so the receiver can take the new secret without missing an event.',
      },
    })
    .post('/:id/test', async ({ principal, params, set }) => {
      // Rate: the per-account `api` bucket the guard has already counted this call in (README § Webhooks).
      const row = await deps.db.transaction(async (tx) => {
        // The endpoint's row is held (FOR KEY SHARE) until the delivery is written: a DELETE at the
        // same moment waits, and one that came first makes this a 404 (it was a 500 either way).
        const [hook] = await tx.select({ id: webhooks.id }).from(webhooks)
          .where(and(eq(webhooks.id, params.id), eq(webhooks.userId, principal.userId))).for('key share');
        if (!hook) throw notFound('Webhook');
        const [id] = await emitWebhookEvent(tx, principal.userId, 'webhook.test', { webhook_id: hook.id, message: 'A test event from Pictor.' }, hook.id);
        const [delivery] = id === undefined ? [] : await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).limit(1);
        if (!delivery) throw notFound('Webhook');
        return delivery;
      });
      deps.queue.wake();
      set.status = 202;
      return deliveryJson(row);
    }, {
      auth: 'account:write',
      params: IdParams,
      response: { 202: DeliverySchema, ...errorResponses(400, 401, 403, 404, 429) },
      detail: {
        summary: 'Send a test event',
        description: 'Queues a `webhook.test` event to this endpoint (enabled or not, whatever its `events`); follow it in the delivery log. '
          + 'Each call counts in the account\'s `api` rate-limit bucket (`RATE_LIMIT_API`), like any other call: 429 beyond.',
      },
    })
    .get('/:id/deliveries', async ({ principal, params, query }) => {
      await own(principal.userId, params.id);
      // Deliveries whose queue job was cancelled, deleted or failed for good are settled first (settle.ts).
      await settleOrphanedDeliveries(deps.db, eq(webhookDeliveries.webhookId, params.id));
      const limit = query.limit ?? 50;
      const after = query.cursor ? decodeDeliveryCursor(query.cursor) : undefined; // `cursor=` is the first page, as on every list
      const mine = eq(webhookDeliveries.webhookId, params.id);
      // Keyset pagination, as every list of the API (API.md §1): the log beyond one page was unreachable.
      const older = after && sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (${after.at.toISOString()}::timestamptz, ${after.id}::uuid)`;
      const [rows, [total]] = await Promise.all([
        deps.db.select().from(webhookDeliveries).where(older ? and(mine, older) : mine)
          .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)).limit(limit + 1),
        deps.db.select({ n: count() }).from(webhookDeliveries).where(mine),
      ]);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        results: page.map(deliveryJson),
        count: Number(total?.n ?? 0),
        next_cursor: rows.length > limit && last ? Buffer.from(`d${last.createdAt.getTime()}:${last.id}`).toString('base64url') : null,
      };
    }, {
      auth: 'account:read',
      params: IdParams,
      query: t.Object({
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: t.Optional(t.String({ maxLength: 200, description: '`next_cursor` of the previous page.' })),
      }),
      response: { 200: t.Object({ results: t.Array(DeliverySchema), count: t.Integer({ description: 'Every delivery of the endpoint, all pages.' }), next_cursor: t.Nullable(t.String()) }), ...errorResponses(400, 401, 403, 404) },
      detail: { summary: 'Delivery log', description: 'Newest first, paged by `cursor`: each delivery with its attempts (time sent, receiver status code, error, duration). A delivery whose queue job was cancelled or deleted (`/api/queue/jobs/:id`) shows as `cancelled`, one whose job failed for good as `failed`, each with the reason in `last_error`.' },
    });
}
