/**
 * Lua scripts that make job-record transitions atomic. The fencing token is the heart of "exactly once": every
 * delivery gets a fresh token, and every write a delivery makes checks that its token is still the record's and
 * that its placement is still the current one; a worker whose lock expired and whose job moved on (to another
 * worker, or to another class) can neither write results, add events nor change the state. Scripts of a lease
 * return nil (false) when fenced off.
 */

/** The check every lease script starts with. ARGV[1]: token, ARGV[2]: placement. */
const FENCE = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'placement') ~= ARGV[2] then return false end
`;

/** Sets field/value pairs of ARGV from `first` on. */
const SET_PAIRS = (first: number) => `
for i = ${first}, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
`;

const TERMINAL = `(state == 'completed' or state == 'failed' or state == 'cancelled')`;

/**
 * Submit in one step: the record, its first placement (in the outbox until it is in its queue), its indexes and
 * the idempotency key. KEYS: job, events, placements, jobsIndex, tenantJobs, idempotency, webhooksPending, outbox.
 * ARGV: jobId, createdMs, fieldsJson (object of strings), eventsJson (array of event JSON strings), placementJson,
 * idempotencyJson ('' for none), hasTenant, hasWebhook, outboxMember.
 * Returns {'created', ''} or {'exists', idempotencyJson of the earlier job}.
 */
export const CREATE_JOB = `
if ARGV[6] ~= '' then
  local earlier = redis.call('GET', KEYS[6])
  if earlier then return {'exists', earlier} end
end
for k, v in pairs(cjson.decode(ARGV[3])) do redis.call('HSET', KEYS[1], k, v) end
for _, e in ipairs(cjson.decode(ARGV[4])) do redis.call('RPUSH', KEYS[2], e) end
redis.call('RPUSH', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
if ARGV[7] == '1' then redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1]) end
if ARGV[6] ~= '' then redis.call('SET', KEYS[6], ARGV[6]) end
if ARGV[8] == '1' then redis.call('SADD', KEYS[7], ARGV[1]) end
redis.call('ZADD', KEYS[8], ARGV[2], ARGV[9])
return {'created', ''}
`;

/**
 * Starts a delivery of one placement. KEYS: job, events, finished, previousWorker (the registry key of the worker
 * of the delivery still open, or the job key when none is). ARGV: workerId, token, nowIso, maxCrashes,
 * deliveryJson, placement, previousToken (what the caller read: '' for none), nowMs, jobId, cancelErrorJson.
 * Returns {outcome, deliveries, crashes, detail}: `ok`; `missing`; `terminal` (detail: the state); `superseded`
 * (a placement the job has moved on from; detail: the current one); `cancelled` (cancel asked while it waited);
 * `poison`; `retry` (the open delivery changed since the caller read it).
 *
 * A delivery still open means its worker stopped renewing its lock. That is a crash unless the worker's
 * heartbeat is newer than the lock's expiry: then it is alive (cut off from its lock, not dead) and the
 * takeover is not counted. A worker paused past both (SIGSTOP, a VM freeze) is counted here and retracted when
 * it comes back (RETRACT_CRASH); so `crashed:<token>` remembers which deliveries were counted.
 */
export const BEGIN_DELIVERY = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', 0, 0, ''} end
if ${TERMINAL} then return {'terminal', 0, 0, state} end
local current = redis.call('HGET', KEYS[1], 'placement')
if current ~= ARGV[6] then return {'superseded', 0, 0, current or ''} end
local prev = redis.call('HGET', KEYS[1], 'delivery')
local p = prev and cjson.decode(prev) or nil
if (p and p.token or '') ~= ARGV[7] then return {'retry', 0, 0, ''} end
if redis.call('HGET', KEYS[1], 'cancel') == '1' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[3], 'error', ARGV[10])
  redis.call('HDEL', KEYS[1], 'delivery', 'token')
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[9])
  return {'cancelled', 0, 0, ''}
end
local deliveries = redis.call('HINCRBY', KEYS[1], 'deliveries', 1)
local crashes = tonumber(redis.call('HGET', KEYS[1], 'crashes') or '0')
if p then
  local alive = false
  local advert = redis.call('GET', KEYS[4])
  if advert and p.expiresAt then
    local a = cjson.decode(advert)
    alive = a.workerId == p.workerId and type(a.lastBeatAt) == 'string' and a.lastBeatAt > p.expiresAt
  end
  if alive then
    redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[3], kind = 'takeover', workerId = p.workerId,
      message = 'worker ' .. p.workerId .. ' stopped renewing its lock (expired ' .. p.expiresAt .. ') but its heartbeat goes on: alive, so not a crash; '
        .. ARGV[1] .. ' takes the job over and ' .. p.workerId .. ' can no longer write to it'}))
  else
    crashes = redis.call('HINCRBY', KEYS[1], 'crashes', 1)
    redis.call('HSET', KEYS[1], 'crashed:' .. p.token, '1')
    redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[3], kind = 'crash', workerId = p.workerId,
      message = 'worker ' .. p.workerId .. ' died while running this job (delivery since ' .. p.since .. ', no lock renewal or heartbeat since); crash '
        .. crashes .. ' of ' .. ARGV[4] .. ' allowed'}))
  end
end
if crashes >= tonumber(ARGV[4]) then
  local message = 'stopped as poison: this job was running when its worker died ' .. crashes .. ' times (limit MAX_CRASHES=' .. ARGV[4] .. '); it is not delivered again'
  redis.call('HSET', KEYS[1], 'state', 'failed', 'finishedAt', ARGV[3], 'error', cjson.encode({code = 'poison', message = message}))
  redis.call('HDEL', KEYS[1], 'delivery', 'token')
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[9])
  return {'poison', deliveries, crashes, message}
end
redis.call('HSET', KEYS[1], 'delivery', ARGV[5], 'token', ARGV[2], 'state', 'running')
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[3])
return {'ok', deliveries, crashes, ''}
`;

/** Fenced field updates (the lock's expiry, what runs). KEYS: job. ARGV: token, placement, then field/value pairs. */
export const UPDATE = `${FENCE}${SET_PAIRS(3)}return 1`;

/** A fenced event, with field/value pairs set alongside (the drift flag). KEYS: job, events. ARGV: token, placement, eventJson, pairs. */
export const ADD_EVENT = `${FENCE}
redis.call('RPUSH', KEYS[2], ARGV[3])
${SET_PAIRS(4)}return 1`;

/**
 * Fenced results, each image once (HSETNX). KEYS: job, results. ARGV: token, placement, then triples of index,
 * json, failed ('1' for an image that could not be read). Returns the count of images ended, or -2 without
 * writing when a cancel was asked for (what ran after it is not kept).
 */
export const WRITE_RESULTS = `${FENCE}
if redis.call('HGET', KEYS[1], 'cancel') == '1' then return -2 end
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 and ARGV[i + 2] == '1' then redis.call('HINCRBY', KEYS[1], 'failed', 1) end
end
local done = redis.call('HLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'done', done)
redis.call('HDEL', KEYS[1], 'waitingSince')
return done
`;

/**
 * Ends a job (fenced) and its delivery. KEYS: job, events, finished. ARGV: token, placement, state, nowIso,
 * nowMs, jobId, errorJson ('' for none), eventJson ('' for none), cancelErrorJson, then field/value pairs.
 * A job asked to cancel ends `cancelled` whatever the caller meant. Returns the state it ended in.
 */
export const FINISH = `${FENCE}
local state = ARGV[3]
local err = ARGV[7]
if redis.call('HGET', KEYS[1], 'cancel') == '1' and state ~= 'failed' then
  state = 'cancelled'
  err = ARGV[9]
end
${SET_PAIRS(10)}
redis.call('HSET', KEYS[1], 'state', state, 'finishedAt', ARGV[4])
if err ~= '' then redis.call('HSET', KEYS[1], 'error', err) end
if ARGV[8] ~= '' and state == ARGV[3] then redis.call('RPUSH', KEYS[2], ARGV[8]) end
redis.call('HDEL', KEYS[1], 'delivery', 'token')
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
return state
`;

/**
 * Hands a placement back (drain, waiting for memory or for another worker): fenced, the delivery ends cleanly,
 * the state is `queued` again. KEYS: job, events, finished. ARGV: token, placement, nowIso, nowMs, jobId,
 * waiting ('1': since when it waits is kept for MAX_WAIT_S), eventJson ('' for none), cancelErrorJson.
 * Returns 'queued', or 'cancelled' when a cancel was asked for meanwhile (the job ends there).
 */
export const REQUEUE = `${FENCE}
redis.call('HDEL', KEYS[1], 'delivery', 'token')
if ARGV[7] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[7]) end
if redis.call('HGET', KEYS[1], 'cancel') == '1' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[3], 'error', ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
  return 'cancelled'
end
redis.call('HSET', KEYS[1], 'state', 'queued')
if ARGV[6] == '1' then redis.call('HSETNX', KEYS[1], 'waitingSince', ARGV[3]) end
return 'queued'
`;

/**
 * Moves the job to another class: a new placement, recorded with the record and in the outbox in one step.
 * Fenced. KEYS: job, events, placements, outbox. ARGV: token, placement, newPlacement, className, docJson,
 * placementJson, eventJson, nowMs, outboxMember.
 */
export const REROUTE = `${FENCE}
redis.call('HSET', KEYS[1], 'className', ARGV[4], 'placement', ARGV[3], 'state', 'queued', 'doc', ARGV[5])
redis.call('HDEL', KEYS[1], 'delivery', 'token')
redis.call('RPUSH', KEYS[3], ARGV[6])
redis.call('RPUSH', KEYS[2], ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[9])
return 1
`;

/**
 * A fenced-off worker that is running again proves it did not die: its takeover, counted as a crash, is not
 * one. KEYS: job, events. ARGV: token, eventJson. Returns 1 when a crash was taken back.
 */
export const RETRACT_CRASH = `
if redis.call('HDEL', KEYS[1], 'crashed:' .. ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'crashes', -1)
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
`;

/** The conditions for changing a job nobody may write to now: ARGV[1] its placement, ARGV[2] the token of its open delivery ('' for none). */
const UNHELD = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or ${TERMINAL} then return false end
if redis.call('HGET', KEYS[1], 'placement') ~= ARGV[1] or (redis.call('HGET', KEYS[1], 'token') or '') ~= ARGV[2] then return false end
`;

/**
 * Moves a stranded job (its class lost every worker) to another class. KEYS: job, events, placements, outbox.
 * ARGV: placement, token ('' for none), className, newPlacement, docJson, placementJson, eventJson, nowMs,
 * outboxMember. An open delivery stays recorded (its worker is gone: the next delivery counts the crash), its
 * token goes (nothing it might still send is written). Returns 1, or nil when the job changed meanwhile.
 */
export const MOVE_UNHELD = `${UNHELD}
redis.call('HSET', KEYS[1], 'className', ARGV[3], 'placement', ARGV[4], 'state', 'queued', 'doc', ARGV[5])
redis.call('HDEL', KEYS[1], 'token')
redis.call('RPUSH', KEYS[3], ARGV[6])
redis.call('RPUSH', KEYS[2], ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[9])
return 1
`;

/**
 * Fails a stranded job. KEYS: job, events, finished. ARGV: placement, token ('' for none), nowIso, nowMs, jobId,
 * errorJson, eventJson. Returns 1, or nil when the job changed meanwhile.
 */
export const FAIL_UNHELD = `${UNHELD}
redis.call('HSET', KEYS[1], 'state', 'failed', 'finishedAt', ARGV[3], 'error', ARGV[6])
redis.call('HDEL', KEYS[1], 'delivery', 'token')
redis.call('RPUSH', KEYS[2], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
return 1
`;

/**
 * The client's cancel. KEYS: job, finished. ARGV: nowIso, errorJson, nowMs, jobId. A job not running ends
 * `cancelled` at once; a running one is asked to stop (its worker ends it at the next micro-batch, or when it
 * writes results or finishes). Returns the state it had.
 */
export const CANCEL = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if ${TERMINAL} then return state end
redis.call('HSET', KEYS[1], 'cancel', '1')
if state ~= 'running' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[1], 'error', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
end
return state
`;

/**
 * Deletes a finished job and everything Redis keeps of it. KEYS: job, events, placements, results, jobsIndex,
 * finished, tenantJobs, idempotency, usageActive (a key that is absent stands for each the job has none of).
 * ARGV: jobId. Returns 1, or 0 when the job is not finished (a cancel or retry raced the sweep).
 */
export const DELETE_JOB = `
local state = redis.call('HGET', KEYS[1], 'state')
if state and not ${TERMINAL} then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[9], ARGV[1])
local idem = redis.call('GET', KEYS[8])
if idem and cjson.decode(idem).id == ARGV[1] then redis.call('DEL', KEYS[8]) end
return 1
`;
