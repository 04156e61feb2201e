/**
 * Cross-instance events (cache purges, key revocations, bans): Redis pub/sub when Redis is
 * configured, otherwise Postgres LISTEN/NOTIFY on the shared database (PGlite included), so
 * every instance hears every change within a second without a second moving part.
 */
import type Redis from 'ioredis';
import type { Database } from '../db/client';
import type { Logger } from '../logger';

export type BusHandler = (message: string) => void;

/**
 * What every handler is given when messages may have been lost: the connection to the bus
 * dropped, and what was published meanwhile never arrives. Not JSON, so the caches' handlers
 * forget everything (as they do for any message they cannot read) instead of serving, until
 * their TTL, a file made private or a key revoked while they were not listening.
 */
export const MISSED = '*';

export interface Bus {
  /** Delivers to every subscriber on every instance, this one included. */
  publish(topic: string, message: string): Promise<void>;
  /** Subscribes on this instance; returns an unsubscribe function. The handler also gets `MISSED`. */
  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Channel names must be plain identifiers for NOTIFY and tidy keys for Redis. */
const channel = (topic: string) => `pictor_${topic.replace(/[^a-z0-9_]/gi, '_')}`;

/**
 * Redis pub/sub channels are server-wide, not per database: deployments kept apart by the
 * database of their `REDIS_URL` (`redis://host/3`) heard each other's purges. Database 0 keeps
 * the plain name, so there instances of an earlier version still hear the new ones during an
 * upgrade (on another database they do not: their caches then live out their TTL).
 */
const redisChannel = (topic: string, db: number) => (db ? `pictor_db${db}_${channel(topic).slice('pictor_'.length)}` : channel(topic));

export function createRedisBus(redis: Redis, log: Logger): Bus {
  // A subscribed ioredis connection can run nothing else, so pub/sub gets its own. Unlike the
  // command client (which fails fast so the limiter can fall back), it queues SUBSCRIBE until
  // connected: a subscription made before the first connect must wait, not fail for good.
  const sub = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  const handlers = new Map<string, Set<BusHandler>>();
  const db = redis.options.db ?? 0;
  const deliver = (ch: string, h: BusHandler, message: string) => {
    try {
      h(message);
    } catch (err) {
      log.error({ err, channel: ch }, 'bus handler failed');
    }
  };
  sub.on('message', (ch: string, message: string) => {
    for (const h of handlers.get(ch) ?? []) deliver(ch, h, message);
  });
  sub.on('error', () => {}); // reconnects by itself; the main client logs connection trouble
  // Lost once the connection closes, and again once it is back: entries cached while it was down
  // may have missed their message too. ioredis sends the channels' SUBSCRIBE again before
  // `ready`, so what is published after one round trip from now is heard.
  let listening = false;
  const missed = () => {
    for (const [ch, set] of handlers) for (const h of set) deliver(ch, h, MISSED);
  };
  sub.on('ready', () => {
    if (listening) return;
    listening = true;
    missed();
  });
  sub.on('close', () => {
    if (!listening) return;
    listening = false;
    missed();
  });
  // A message this instance could not send (its own link to Redis down, the others' fine) is a
  // gap for everyone else: once Redis takes commands again, they are told MISSED on its channel.
  const unsent = new Set<string>();
  let retrying: ReturnType<typeof setInterval> | null = null;
  const sendMissed = async () => {
    for (const ch of unsent) {
      try {
        await redis.publish(ch, MISSED);
        unsent.delete(ch);
      } catch {
        return; // still down: the next round
      }
    }
    if (unsent.size === 0 && retrying) {
      clearInterval(retrying);
      retrying = null;
    }
  };
  return {
    publish: async (topic, message) => {
      const ch = redisChannel(topic, db);
      try {
        await redis.publish(ch, message);
      } catch (err) {
        unsent.add(ch);
        if (!retrying) {
          retrying = setInterval(() => void sendMissed(), 1000);
          retrying.unref?.();
        }
        throw err;
      }
    },
    subscribe: async (topic, handler) => {
      const ch = redisChannel(topic, db);
      let set = handlers.get(ch);
      if (!set) {
        set = new Set();
        handlers.set(ch, set);
        await sub.subscribe(ch);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(ch);
          // On a connection that is down the command would wait for the reconnect (for ever, at
          // shutdown); a channel left subscribed only brings messages no handler reads.
          if (sub.status === 'ready') await sub.unsubscribe(ch);
        }
      };
    },
    close: async () => {
      if (retrying) clearInterval(retrying);
      sub.disconnect();
    },
  };
}

export function createPostgresBus(database: Database): Bus {
  const unsubs = new Set<() => Promise<void>>();
  return {
    publish: (topic, message) => database.notify(channel(topic), message),
    subscribe: async (topic, handler) => {
      const unlisten = await database.listen(channel(topic), handler, () => handler(MISSED));
      unsubs.add(unlisten);
      return async () => {
        unsubs.delete(unlisten);
        await unlisten();
      };
    },
    close: async () => {
      await Promise.allSettled([...unsubs].map((u) => u()));
    },
  };
}
