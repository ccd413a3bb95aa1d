/**
 * Lua for per-key limits, atomic across every API replica sharing the Redis. Numbers are passed and stored as
 * integer strings (`%.0f`): Lua would otherwise print large millisecond values in exponent notation.
 */

/**
 * GCRA rate limit. KEYS: rate. ARGV: nowMs, intervalMs (60000 / requests a minute), burst.
 * Returns {allowed (1|0), retryAfterMs, remaining}.
 */
export const TAKE_REQUEST = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local allowAt = tat + interval - burst * interval
if now < allowAt then return {0, allowAt - now, 0} end
local newTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', string.format('%.0f', newTat - now + 1000))
return {1, 0, math.floor((now - (newTat - burst * interval)) / interval)}
`;

/**
 * Reserves a job against a key's quotas. KEYS: active (zset), imagesToday. ARGV: jobId, nowMs, maxActive,
 * images, maxImages, dayTtlS. Returns {'ok'|'active'|'images', current}.
 */
export const RESERVE_JOB = `
local active = redis.call('ZCARD', KEYS[1])
if active >= tonumber(ARGV[3]) then return {'active', active} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used + tonumber(ARGV[4]) > tonumber(ARGV[5]) then return {'images', used} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return {'ok', used + tonumber(ARGV[4])}
`;
