/**
 * The Redis client (`REDIS_URL`): ioredis tuned for a dependency that may vanish. Commands fail
 * fast instead of queueing while disconnected, so callers (the limiter) can fall back within
 * one request, and the client keeps reconnecting in the background.
 *
 * At start it must answer, as the database and the S3 bucket must: an unreachable or mistyped
 * Redis used to start the server anyway, with per-process limits and no cross-instance events,
 * and a database index Redis refused (`/99`) left every key in database 0 without a word.
 */
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import { errorCode, errorSummary, StartupError } from './startup';

/** How long start-up waits for Redis to answer. */
const READY_WITHIN_MS = 5000;

export async function createRedis(url: string, log: Logger): Promise<Redis> {
  // Loaded only when REDIS_URL is set: on the embedded defaults it would only add to start-up.
  const { default: RedisClient } = await import('ioredis');
  const redis = new RedisClient(url, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  const refused = await ready(redis);
  if (refused) {
    redis.disconnect();
    const what = refused.timedOut ? `did not answer within ${READY_WITHIN_MS / 1000} s` : 'refused what REDIS_URL asks for';
    throw new StartupError(`Redis at REDIS_URL ${what} (${errorSummary(refused.err)}): start Redis, or fix or unset REDIS_URL`, 'REDIS_URL', errorCode(refused.err));
  }
  let lastLog = 0;
  redis.on('error', (err) => {
    // Reconnect attempts error every second while Redis is down; log at most every 10 s.
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log.warn({ err: err.message }, 'redis connection problem');
    }
  });
  return redis;
}

/** Null once connected with the database selected; otherwise the last error, and whether time ran out. */
function ready(redis: Redis): Promise<{ err: unknown; timedOut: boolean } | null> {
  return new Promise((resolve) => {
    let last: unknown = new Error('no answer');
    /** An error since the last connect: ioredis reports a refused SELECT and then says `ready` all the same. */
    let sinceConnect: unknown = null;
    const done = (outcome: { err: unknown; timedOut: boolean } | null) => {
      clearTimeout(timer);
      redis.off('error', onError);
      redis.off('connect', onConnect);
      redis.off('ready', onReady);
      resolve(outcome);
    };
    const onError = (err: unknown) => {
      last = err;
      sinceConnect = err;
    };
    const onConnect = () => {
      sinceConnect = null;
    };
    const onReady = () => done(sinceConnect ? { err: sinceConnect, timedOut: false } : null);
    const timer = setTimeout(() => done({ err: last, timedOut: true }), READY_WITHIN_MS);
    redis.on('error', onError);
    redis.on('connect', onConnect);
    redis.on('ready', onReady);
  });
}
