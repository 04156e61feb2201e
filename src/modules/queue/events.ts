/**
 * The live side of `/api/queue/events`: one hub per process reads the durable `job_events`
 * log and fans events out to Server-Sent-Event clients.
 *
 * - Order and completeness: rows are read in `(tx, id)` order and only once their transaction
 *   is older than every running one (`pg_snapshot_xmin`), so the cursor `tx-id` (the SSE `id:`)
 *   never passes a row that commits later. `Last-Event-ID` replays from the table.
 * - Every instance: workers NOTIFY at commit; each hub LISTENs and also polls (every 250 ms
 *   while clients are connected), which covers enqueues (they send no NOTIFY, see enqueue.ts)
 *   and rows held back by a slow transaction.
 * - Bounded memory: each client has a queue of at most `bufferLimit` events. A client that
 *   falls behind (slow socket) has its queue dropped and switches to replaying from the table
 *   at its own pace, then rejoins the live feed; the server never buffers more than that.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import type { Logger } from '../../logger';
import { EVENTS_CHANNEL, queryRows } from './sql';

export interface Cursor {
  tx: number;
  id: number;
}

export interface QueueEvent {
  cursor: Cursor;
  type: string;
  userId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface EventViewer {
  userId: string;
  all: boolean;
}

export interface HubOptions {
  /** Events queued per client before it is switched to replay. */
  bufferLimit: number;
  heartbeatMs: number;
  pollMs: number;
}

interface Client {
  viewer: EventViewer;
  /** Whether the caller may still read the stream (a ban, a revoked key or a sign-out end it). */
  allowed: () => Promise<boolean>;
  /** Position of the last event sent (or skipped as not visible). */
  cursor: Cursor;
  queue: QueueEvent[];
  lagging: boolean;
  wake: (() => void) | null;
  closed: boolean;
  close: () => void;
}

const cmp = (a: Cursor, b: Cursor) => (a.tx !== b.tx ? a.tx - b.tx : a.id - b.id);
export const formatCursor = (c: Cursor) => `${c.tx}-${c.id}`;

/** Parses an SSE id this server produced; null when it is not one. */
export function parseCursor(s: string | null | undefined): Cursor | null {
  const m = s ? /^(\d{1,18})-(\d{1,18})$/.exec(s.trim()) : null;
  return m ? { tx: Number(m[1]), id: Number(m[2]) } : null;
}

const visible = (v: EventViewer, e: QueueEvent) => v.all || e.userId === v.userId;

/** A time as the API writes it (`…T12:00:00.000Z`), not as `jsonb_build_object` stores it (Postgres's `+00:00` form). */
const apiTime = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : v);

function toEvent(r: Record<string, unknown>): QueueEvent {
  const data = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>;
  if ('run_at' in data) data.run_at = apiTime(data.run_at);
  return {
    cursor: { tx: Number(r.tx), id: Number(r.id) },
    type: String(r.type),
    userId: (r.user_id as string | null) ?? null,
    data,
    createdAt: new Date(String(r.created_at)).toISOString(),
  };
}

const encoder = new TextEncoder();

/** SSE wire format of events (one `id:`, `event:`, `data:` block each). */
export function encodeEvents(events: QueueEvent[]): Uint8Array {
  const text = events
    .map((e) => `id: ${formatCursor(e.cursor)}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, user_id: e.userId, event: e.type, at: e.createdAt })}\n\n`)
    .join('');
  return encoder.encode(text);
}

export type EventHub = ReturnType<typeof createEventHub>;

export function createEventHub(database: Database, log: Logger, options: Partial<HubOptions> = {}) {
  const opts: HubOptions = { bufferLimit: 1000, heartbeatMs: 15_000, pollMs: 250, ...options };
  const db = database.db;
  const clients = new Set<Client>();
  let cursor: Cursor | null = null;
  let starting: Promise<void> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let poll: ReturnType<typeof setInterval> | null = null;
  let fetching = false;
  let again = false;
  const PAGE = 500;

  async function start(): Promise<void> {
    const [row] = await queryRows<{ xmin: string | number }>(db, sql`select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as xmin`);
    // Everything from transactions older than xmin is already final: start live after it.
    cursor = { tx: Number(row?.xmin ?? 1) - 1, id: Number.MAX_SAFE_INTEGER };
    // Back from a lost connection: what was notified meanwhile is read now, not at the next poll.
    unlisten = await database.listen(EVENTS_CHANNEL, () => void fetchNew(), () => void fetchNew());
    poll = setInterval(() => {
      if (clients.size) void fetchNew();
    }, opts.pollMs);
    poll.unref?.();
  }

  /** Reads newly final events after the hub cursor and hands them to live clients. */
  async function fetchNew(): Promise<void> {
    if (!cursor) return;
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const c: Cursor = cursor;
        const rows = await queryRows(
          db,
          sql`select e.id, e.tx, e.user_id, e.type, e.data, e.created_at from job_events e
              where (e.tx, e.id) > (${c.tx}::bigint, ${c.id}::bigint)
                and e.tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
              order by e.tx, e.id limit ${PAGE}`,
        );
        if (rows.length === 0) break;
        const events = rows.map(toEvent);
        cursor = events[events.length - 1]!.cursor;
        for (const client of clients) deliver(client, events);
        if (rows.length === PAGE) again = true;
      } while (again);
    } catch (err) {
      log.warn({ err }, 'queue event fetch failed; retrying on the next poll');
    } finally {
      fetching = false;
    }
  }

  function deliver(client: Client, events: QueueEvent[]): void {
    if (client.closed) return;
    if (!client.lagging) {
      for (const e of events) {
        if (cmp(e.cursor, client.cursor) > 0 && visible(client.viewer, e)) client.queue.push(e);
      }
      if (client.queue.length > opts.bufferLimit) {
        // Too slow for the live feed: drop the buffer; it replays from the table at its own pace.
        client.queue = [];
        client.lagging = true;
      }
    }
    client.wake?.();
  }

  /** Events after `from` up to `to` that the viewer may see, from the table. */
  async function replay(viewer: EventViewer, from: Cursor, to: Cursor, limit: number): Promise<QueueEvent[]> {
    const rows = await queryRows(
      db,
      sql`select e.id, e.tx, e.user_id, e.type, e.data, e.created_at from job_events e
          where (e.tx, e.id) > (${from.tx}::bigint, ${from.id}::bigint) and (e.tx, e.id) <= (${to.tx}::bigint, ${to.id}::bigint)
            ${viewer.all ? sql`` : sql`and e.user_id = ${viewer.userId}::uuid`}
          order by e.tx, e.id limit ${limit}`,
    );
    return rows.map(toEvent);
  }

  /** The next chunk for a client: live events, a replay page, or a heartbeat after a quiet period. */
  async function nextChunk(client: Client): Promise<Uint8Array | null> {
    for (;;) {
      if (client.closed) return null;
      // Asked before anything is sent: a stream outlives the check made when it opened (a banned
      // account's open stream went on sending its events).
      if ((client.queue.length || client.lagging) && !(await client.allowed())) return null;
      if (client.queue.length) {
        const batch = client.queue.splice(0, 100);
        client.cursor = batch[batch.length - 1]!.cursor;
        return encodeEvents(batch);
      }
      if (client.lagging && cursor) {
        const upTo = cursor;
        const page = 200;
        const events = await replay(client.viewer, client.cursor, upTo, page);
        if (events.length) client.cursor = events[events.length - 1]!.cursor;
        if (events.length < page && cursor === upTo) {
          // Caught up with the hub and nothing arrived meanwhile: rejoin the live feed.
          client.lagging = false;
          if (cmp(upTo, client.cursor) > 0) client.cursor = upTo;
        }
        if (events.length) return encodeEvents(events);
        continue;
      }
      const woke = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), opts.heartbeatMs);
        client.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      client.wake = null;
      if (!woke) return (await client.allowed()) ? encoder.encode(': heartbeat\n\n') : null;
    }
  }

  /** Streams one account holds open here (each is a socket and a buffer until it ends). */
  const streamsOf = (userId: string) => {
    let n = 0;
    for (const c of clients) if (c.viewer.userId === userId) n++;
    return n;
  };

  return {
    options: opts,
    /** Number of connected clients. */
    clientCount: () => clients.size,
    /** Clients switched from the live feed to replay from the table (too slow to read). */
    laggingCount: () => [...clients].filter((c) => c.lagging).length,
    streamsOf,

    /**
     * Opens an SSE stream for the viewer. With `after` (from `Last-Event-ID`), first replays
     * every visible event after it; otherwise starts with what happens from now on.
     */
    async subscribe(
      viewer: EventViewer, after: Cursor | null, allowed: () => Promise<boolean> = async () => true, maxPerAccount = Infinity,
    ): Promise<ReadableStream<Uint8Array> | null> {
      await (starting ??= start());
      // Counted after the await, with nothing awaited before the add: two at once cannot both take the last place.
      if (streamsOf(viewer.userId) >= maxPerAccount) return null;
      const client: Client = {
        viewer,
        allowed,
        cursor: after ?? cursor!,
        queue: [],
        lagging: after !== null,
        wake: null,
        closed: false,
        close: () => {},
      };
      clients.add(client);
      const remove = () => {
        client.closed = true;
        clients.delete(client);
        client.wake?.();
      };
      void fetchNew();
      return new ReadableStream<Uint8Array>(
        {
          start(controller) {
            client.close = () => {
              remove();
              try {
                controller.close();
              } catch {
                // already closed by the client
              }
            };
            controller.enqueue(encoder.encode(`retry: 2000\n: connected\n\n`));
          },
          async pull(controller) {
            try {
              const chunk = await nextChunk(client);
              if (chunk) controller.enqueue(chunk);
              else client.close();
            } catch (err) {
              log.warn({ err }, 'queue event stream failed');
              remove();
              controller.error(err);
            }
          },
          cancel: remove,
        },
        { highWaterMark: 1 },
      );
    },

    /**
     * Whether an event id may have been sent by some instance: every event sent is from a
     * transaction older than the database's oldest running one. An id past that (kept from an
     * earlier database, or made up) was taken, and the stream then waited for it, silent.
     */
    async wasSent(c: Cursor): Promise<boolean> {
      const [row] = await queryRows<{ xmin: string | number }>(db, sql`select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as xmin`);
      return c.tx < Number(row?.xmin ?? 0);
    },

    /** Ends every stream and stops listening. */
    async close(): Promise<void> {
      for (const c of [...clients]) c.close();
      if (poll) clearInterval(poll);
      await unlisten?.().catch(() => {});
      starting = null;
      cursor = null;
    },
  };
}
