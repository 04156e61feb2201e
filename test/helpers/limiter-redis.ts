/**
 * For limiter tests on an injected clock: the limiter's own window script, with its PEXPIRE
 * recorded (under `<key>:ttl`) instead of applied. Redis expires keys on its own real clock, so
 * on a loaded machine a key could expire mid-test that the injected clock still counts; with
 * this, only the script's own rule (slots older than the window are dropped) decides.
 * Call before `createRedisLimiter`, which keeps a command already defined on the client.
 */
import { afterAll, beforeAll } from 'bun:test';
import Redis from 'ioredis';
import { WINDOW_LUA } from '../../src/modules/limits/lua';
import { requireRedis, TEST_REDIS_URL } from './services';

export function defineWindowWithoutExpiry(redis: Redis): void {
  redis.defineCommand('pictorRlWindow', {
    numberOfKeys: 1,
    lua: `local real = redis
local expiry = -1
local redis = { call = function(...)
  local args = { ... }
  if args[1] == 'PEXPIRE' then expiry = tonumber(args[3]); return 1 end
  return real.call(...)
end }
local function window()\n${WINDOW_LUA}\nend
local reply = window()
real.call('SET', KEYS[1] .. ':ttl', expiry)
return reply`,
  });
}

/**
 * A test file's Redis for limiter tests: connected before its tests with the window script
 * defined as above, its keys (under `prefix`) removed after them. Read `.redis` inside tests.
 */
export function useLimiterRedis(prefix: string): { redis: Redis } {
  const handle = {} as { redis: Redis };
  beforeAll(async () => {
    await requireRedis();
    handle.redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
    defineWindowWithoutExpiry(handle.redis);
  }, 15_000);
  afterAll(async () => {
    const keys = await handle.redis.keys(`${prefix}*`);
    if (keys.length) await handle.redis.del(...keys);
    handle.redis.disconnect();
  });
  return handle;
}
