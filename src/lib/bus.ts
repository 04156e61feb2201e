/**
 * Cross-instance events (cache purges, key revocations, bans): Redis pub/sub when Redis is
 * configured, otherwise Postgres LISTEN/NOTIFY on the shared database (PGlite included), so
 * every instance hears every change within a second without a second moving part.
 */
import type Redis from 'ioredis';
import type { Database } from '../db/client';
import type { Logger } from '../logger';

export type BusHandler = (message: string) => void;

export interface Bus {
  /** Delivers to every subscriber on every instance, this one included. */
  publish(topic: string, message: string): Promise<void>;
  /** Subscribes on this instance; returns an unsubscribe function. */
  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Channel names must be plain identifiers for NOTIFY and tidy keys for Redis. */
const channel = (topic: string) => `pictor_${topic.replace(/[^a-z0-9_]/gi, '_')}`;

export function createRedisBus(redis: Redis, log: Logger): Bus {
  // A subscribed ioredis connection can run nothing else, so pub/sub gets its own. Unlike the
  // command client (which fails fast so the limiter can fall back), it queues SUBSCRIBE until
  // connected: a subscription made before the first connect must wait, not fail for good.
  const sub = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  const handlers = new Map<string, Set<BusHandler>>();
  sub.on('message', (ch: string, message: string) => {
    for (const h of handlers.get(ch) ?? []) {
      try {
        h(message);
      } catch (err) {
        log.error({ err, channel: ch }, 'bus handler failed');
      }
    }
  });
  sub.on('error', () => {}); // reconnects by itself; the main client logs connection trouble
  return {
    publish: async (topic, message) => {
      await redis.publish(channel(topic), message);
    },
    subscribe: async (topic, handler) => {
      const ch = channel(topic);
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
      sub.disconnect();
    },
  };
}

export function createPostgresBus(database: Database): Bus {
  const unsubs = new Set<() => Promise<void>>();
  return {
    publish: (topic, message) => database.notify(channel(topic), message),
    subscribe: async (topic, handler) => {
      const unlisten = await database.listen(channel(topic), handler);
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
