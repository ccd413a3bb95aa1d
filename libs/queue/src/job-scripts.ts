/**
 * Lua scripts that make job-record transitions atomic. The fencing token is the heart of "exactly once":
 * every delivery gets a fresh token, and a worker whose token is no longer the record's (its lock expired
 * and the job moved on) can neither write results nor change the state.
 */

/** KEYS: job, events. ARGV: workerId, token, nowIso, maxCrashes, deliveryJson. Returns {outcome, deliveries, crashes}. */
export const BEGIN_DELIVERY = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', 0, 0} end
if state == 'completed' or state == 'failed' or state == 'cancelled' then return {'terminal', 0, 0} end
local deliveries = redis.call('HINCRBY', KEYS[1], 'deliveries', 1)
local crashes = tonumber(redis.call('HGET', KEYS[1], 'crashes') or '0')
local prev = redis.call('HGET', KEYS[1], 'delivery')
if prev then
  crashes = redis.call('HINCRBY', KEYS[1], 'crashes', 1)
  local p = cjson.decode(prev)
  redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[3], kind = 'crash', workerId = p.workerId,
    message = 'worker ' .. p.workerId .. ' died while running this job (delivery since ' .. p.since .. '); crash ' .. crashes .. ' of ' .. ARGV[4] .. ' allowed'}))
end
if crashes >= tonumber(ARGV[4]) then
  local message = 'stopped as poison: this job was running when its worker died ' .. crashes .. ' times (limit MAX_CRASHES=' .. ARGV[4] .. '); it is not delivered again'
  redis.call('HSET', KEYS[1], 'state', 'failed', 'finishedAt', ARGV[3], 'error', cjson.encode({code = 'poison', message = message}))
  redis.call('HDEL', KEYS[1], 'delivery', 'token')
  return {'poison', deliveries, crashes}
end
redis.call('HSET', KEYS[1], 'delivery', ARGV[5], 'token', ARGV[2], 'state', 'running')
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[3])
return {'ok', deliveries, crashes}
`;

/** KEYS: job, results. ARGV: token, then index/json pairs. Returns the done count, or -1 when the token is stale. */
export const WRITE_RESULTS = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return -1 end
for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
local done = redis.call('HLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'done', done)
return done
`;

/** KEYS: job. ARGV: token, clearDelivery ('1'|'0'), then field/value pairs. Returns 1, or 0 when the token is stale. */
export const FENCED_UPDATE = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[2] == '1' then redis.call('HDEL', KEYS[1], 'delivery', 'token') end
return 1
`;

/** KEYS: job. ARGV: nowIso, errorJson. Cancels a job not yet terminal; returns the state it had. */
export const CANCEL = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state == 'completed' or state == 'failed' or state == 'cancelled' then return state end
redis.call('HSET', KEYS[1], 'cancel', '1')
if state ~= 'running' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[1], 'error', ARGV[2])
end
return state
`;
