/**
 * Lua scripts of the Redis backend. Each runs atomically inside Redis, which is what makes two
 * gateways on one Redis admit exactly a budget: the read, the decision and the write of every
 * bucket happen with no other command in between.
 *
 * Time comes from Redis (`TIME`), not from the callers: replicas whose clocks disagree still refill
 * one bucket at one rate. (Redis ≥ 5 replicates a script's effects, so `TIME` before a write is allowed.)
 * Buckets are hashes `{t: tokens, u: updated-at ms}` that expire when they would be full again: a
 * full bucket and a missing one mean the same, so Redis memory follows the active clients only.
 */

/** Shared preamble: `now` in epoch milliseconds and a function giving a bucket's tokens now. */
const bucketPreamble = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function tokens_now(key, rate, burst)
  local stored = redis.call('HMGET', key, 't', 'u')
  if not stored[1] then return burst end
  local elapsed = now - tonumber(stored[2])
  if elapsed < 0 then elapsed = 0 end
  local tokens = tonumber(stored[1]) + elapsed * rate / 1000
  if tokens > burst then tokens = burst end
  return tokens
end
local function store(key, tokens, rate, burst)
  if tokens >= burst then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 't', tostring(tokens), 'u', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) * 1000 / rate) + 1000)
end
`;

/**
 * KEYS: the buckets. ARGV: rate, burst, cost for each bucket in turn. All or nothing.
 * Returns `{refused index (0 = all allowed), tokens of bucket 1, tokens of bucket 2, …}` with the
 * tokens after the take when allowed, before it when refused (as strings: Redis truncates Lua numbers).
 */
export const takeTokensScript = `${bucketPreamble}
local count = #KEYS
local current = {}
local refused = 0
for i = 1, count do
  local rate = tonumber(ARGV[i * 3 - 2])
  local burst = tonumber(ARGV[i * 3 - 1])
  local cost = tonumber(ARGV[i * 3])
  if cost > burst then cost = burst end
  current[i] = tokens_now(KEYS[i], rate, burst)
  if refused == 0 and current[i] < cost then refused = i end
end
local reply = { refused }
for i = 1, count do
  local rate = tonumber(ARGV[i * 3 - 2])
  local burst = tonumber(ARGV[i * 3 - 1])
  local cost = tonumber(ARGV[i * 3])
  if cost > burst then cost = burst end
  local tokens = current[i]
  if refused == 0 then
    tokens = tokens - cost
    store(KEYS[i], tokens, rate, burst)
  end
  reply[i + 1] = tostring(tokens)
end
return reply
`;

/** KEYS[1]: the bucket. ARGV: rate, burst, delta. Adds delta (capped at burst; may go below zero). */
export const adjustTokensScript = `${bucketPreamble}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tokens = tokens_now(KEYS[1], rate, burst) + tonumber(ARGV[3])
if tokens > burst then tokens = burst end
store(KEYS[1], tokens, rate, burst)
return tostring(tokens)
`;

/** Deletes the lock only while the caller still owns it (compare-and-delete must be atomic). */
export const unlockScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** INCRBY, and start the window on the first increment only (PEXPIRE NX needs Redis 7; this runs on 6). */
export const incrementScript = `local total = redis.call('incrby', KEYS[1], ARGV[1])
if redis.call('pttl', KEYS[1]) < 0 then redis.call('pexpire', KEYS[1], ARGV[2]) end
return total`;
