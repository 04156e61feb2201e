/**
 * The Redis side of the limiter: one Lua script per decision, registered with ioredis
 * `defineCommand` (sent as EVALSHA; ioredis re-sends the source on NOSCRIPT). Each script
 * touches exactly one key, so the scripts are Redis-Cluster safe; keys carry a `{…}` hash tag.
 *
 * WINDOW is `window.ts` transcribed: a hash with one field per slot index (its weight) and one
 * `l<index>` (the time of its latest request, which releases the slot a window later), plus
 * `t` (total), `o` (oldest slot index) and `n` (newest), expiring when its newest weight leaves
 * the window. The loops are bounded by the number of slots (≤ 62 iterations).
 */

/** KEYS[1] window hash. ARGV: now, windowMs, max, weight, slotMs, consume (1|0). Returns {allowed, remaining, resetAt, retryAfterMs}. */
export const WINDOW_LUA = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local weight = tonumber(ARGV[4])
local slot = tonumber(ARGV[5])
local consume = ARGV[6] == '1'
local function s(x) return string.format('%.0f', x) end
local function last(i) return tonumber(redis.call('HGET', key, 'l' .. s(i))) or 0 end
local cutoff = now - window
local cur = math.floor(now / slot)
local st = redis.call('HMGET', key, 't', 'o', 'n')
local total = tonumber(st[1]) or 0
local o = tonumber(st[2])
local n = tonumber(st[3])
local dirty = false
if total <= 0 or o == nil or n == nil or last(n) <= cutoff then
  if st[1] then redis.call('DEL', key) end
  total = 0; o = nil; n = nil
elseif last(o) <= cutoff then
  dirty = true
  local first = nil
  for i = o, n do
    local w = tonumber(redis.call('HGET', key, s(i)))
    if w then
      if last(i) > cutoff then first = i; break end
      total = total - w
      redis.call('HDEL', key, s(i), 'l' .. s(i))
    end
  end
  o = first
  if o == nil then total = 0; n = nil; redis.call('DEL', key) end
end
local allowed = total + weight <= max
if allowed and consume and weight > 0 then
  redis.call('HINCRBY', key, s(cur), weight)
  if now > last(cur) then redis.call('HSET', key, 'l' .. s(cur), s(now)) end
  total = total + weight
  if o == nil or cur < o then o = cur end
  if n == nil or cur > n then n = cur end
  dirty = true
end
if dirty and o ~= nil then
  redis.call('HSET', key, 't', s(total), 'o', s(o), 'n', s(n))
  redis.call('PEXPIRE', key, math.max(1, last(n) + window - now))
end
local reset = now
if o ~= nil then reset = last(o) + window end
local retry = 0
if not allowed then
  if weight > max or o == nil then
    if n ~= nil then retry = last(n) + window - now else retry = window end
  else
    local need = total + weight - max
    local freed = 0
    for i = o, n do
      freed = freed + (tonumber(redis.call('HGET', key, s(i))) or 0)
      if freed >= need then retry = last(i) + window - now; break end
    end
  end
end
local remaining = max - total
if remaining < 0 then remaining = 0 end
return { allowed and 1 or 0, s(remaining), s(reset), s(retry) }
`;

/** KEYS[1] lease zset. ARGV: now, max, ttlMs, leaseId. Returns {allowed, held, soonestExpiry}. */
export const ACQUIRE_LUA = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
local held = redis.call('ZCARD', key)
local allowed = 0
if held < max then
  redis.call('ZADD', key, now + ttl, ARGV[4])
  held = held + 1
  allowed = 1
end
local soonest = now
if held > 0 then
  soonest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  local latest = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
  redis.call('PEXPIRE', key, math.max(1, latest - now))
end
return { allowed, held, string.format('%.0f', soonest) }
`;

/** KEYS[1] lease zset. ARGV: now, ttlMs, leaseId. Returns 1 when renewed, 0 when the lease was gone. */
export const RENEW_LUA = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, ARGV[3]) then return 0 end
redis.call('ZADD', key, 'XX', now + tonumber(ARGV[2]), ARGV[3])
local latest = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
redis.call('PEXPIRE', key, math.max(1, latest - now))
return 1
`;
