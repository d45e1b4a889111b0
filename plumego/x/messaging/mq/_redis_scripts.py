"""The Lua scripts behind the Redis task queue: every state change is one script, so it is atomic on the server.

Owns the key layout and the transitions; no Python logic beyond the text. All keys of one queue share the hash tag
``{ns}`` so a queue lives in one Redis Cluster slot. Layout, with ``P = "{ns}"``:

- ``P:t:<id>``      hash: the task (fields of :class:`Task`, plus ``entry``, its current stream entry id)
- ``P:s:<topic>``   stream with consumer group ``g``: tasks that are due, in arrival order
- ``P:d:<topic>``   sorted set by ``available_at``: tasks not due yet (delayed, or waiting for a retry)
- ``P:l:<topic>``   sorted set by ``lease_until``: leased tasks (what XAUTOCLAIM would scan, on the queue's clock)
- ``P:x``           sorted set by ``expires_at``: unfinished tasks that can expire
- ``P:dead``, ``P:fin``  sorted sets by ``updated_at``: dead tasks; done and expired tasks (for ``purge``)
- ``P:k:<key>``     string: the id holding a dedupe key
- ``P:n``           hash: task counts by status
Imports nothing.
"""

from __future__ import annotations

__all__ = ["ENQUEUE", "OWNED", "PURGE", "REPLAY", "RESERVE", "SWEEP"]

# Shared helpers, prepended to every script. ARGV[1] is always the prefix P.
_LIB = r"""
local P = ARGV[1]
local function tkey(id) return P .. ':t:' .. id end
local function move(id, from, to, now)
  redis.call('HINCRBY', P .. ':n', from, -1)
  redis.call('HINCRBY', P .. ':n', to, 1)
  redis.call('HSET', tkey(id), 'status', to, 'updated_at', now)
end
local function stream(topic)
  local s = P .. ':s:' .. topic
  if redis.call('EXISTS', s) == 0 then redis.call('XGROUP', 'CREATE', s, 'g', '0', 'MKSTREAM') end
  return s
end
local function push(id, topic)
  local e = redis.call('XADD', stream(topic), '*', 'id', id)
  redis.call('HSET', tkey(id), 'entry', e)
end
local function unlink(id, topic, entry)
  if entry and entry ~= '' then
    local s = P .. ':s:' .. topic
    redis.call('XACK', s, 'g', entry)
    redis.call('XDEL', s, entry)
  end
  redis.call('ZREM', P .. ':l:' .. topic, id)
  redis.call('ZREM', P .. ':d:' .. topic, id)
end
local function finish(id, topic, entry, from, to, now, err)
  unlink(id, topic, entry)
  redis.call('HINCRBY', P .. ':n', from, -1)
  redis.call('HINCRBY', P .. ':n', to, 1)
  redis.call('ZREM', P .. ':x', id)
  if to == 'dead' then
    redis.call('ZADD', P .. ':dead', now, id)
    redis.call('HSET', tkey(id), 'status', to, 'updated_at', now, 'entry', '', 'lease_owner', '', 'lease_until', '',
      'last_error', err)
  else
    redis.call('ZADD', P .. ':fin', now, id)
    redis.call('HSET', tkey(id), 'status', to, 'updated_at', now, 'entry', '', 'lease_owner', '', 'lease_until', '')
  end
end
-- the task fields in the order Python reads them (see _redis._FIELDS): replies carry values, not field names
local function row(k)
  return redis.call('HMGET', k, 'id', 'topic', 'payload', 'status', 'tenant_id', 'meta', 'priority', 'has_dedupe',
    'dedupe_key', 'available_at', 'expires_at', 'attempts', 'max_attempts', 'lease_owner', 'lease_until',
    'created_at', 'last_error')
end
"""

# ARGV: P, id, topic, payload, has_dedupe, dedupe_key, available_at, expires_at|'', priority, max_attempts,
#       tenant_id, meta, now.  Returns {1, id} or {0, holder_id}.
ENQUEUE = _LIB + r"""
local id, topic = ARGV[2], ARGV[3]
local now = ARGV[13]
if ARGV[5] == '1' then
  local holder = redis.call('GET', P .. ':k:' .. ARGV[6])
  if holder then return {0, holder} end
  redis.call('SET', P .. ':k:' .. ARGV[6], id)
end
local entry = ''
if tonumber(ARGV[7]) <= tonumber(now) then
  entry = redis.call('XADD', stream(topic), '*', 'id', id)
else
  redis.call('ZADD', P .. ':d:' .. topic, ARGV[7], id)
end
redis.call('HSET', tkey(id), 'id', id, 'topic', topic, 'payload', ARGV[4], 'status', 'queued',
  'tenant_id', ARGV[11], 'meta', ARGV[12], 'priority', ARGV[9], 'has_dedupe', ARGV[5], 'dedupe_key', ARGV[6],
  'available_at', ARGV[7], 'expires_at', ARGV[8], 'attempts', 0, 'max_attempts', ARGV[10], 'lease_owner', '',
  'lease_until', '', 'created_at', now, 'updated_at', now, 'last_error', '', 'entry', entry)
redis.call('HINCRBY', P .. ':n', 'queued', 1)
if ARGV[8] ~= '' then redis.call('ZADD', P .. ':x', ARGV[8], id) end
return {1, id}
"""

# ARGV: P, consumer, now, lease_until, limit, topic...  Returns a list of HGETALL arrays of the leased tasks.
RESERVE = _LIB + r"""
local consumer, now, lu, limit = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local out = {}
local function lease(id, topic, entry)
  local k = tkey(id)
  local f = redis.call('HMGET', k, 'status', 'expires_at', 'attempts', 'max_attempts')
  local status, expires, attempts, max = f[1], f[2], tonumber(f[3]), tonumber(f[4])
  if expires ~= '' and tonumber(expires) <= now then
    finish(id, topic, entry, status, 'expired', ARGV[3], '')
  elseif status == 'leased' and attempts >= max then
    finish(id, topic, entry, status, 'dead', ARGV[3], 'lease expired on attempt ' .. attempts .. ' of ' .. max)
  else
    if status ~= 'leased' then
      redis.call('HINCRBY', P .. ':n', status, -1)
      redis.call('HINCRBY', P .. ':n', 'leased', 1)
    end
    redis.call('HSET', k, 'status', 'leased', 'lease_owner', consumer, 'lease_until', lu, 'updated_at', ARGV[3],
      'attempts', attempts + 1)
    redis.call('ZADD', P .. ':l:' .. topic, lu, id)
    out[#out + 1] = row(k)
  end
end
for i = 6, #ARGV do
  local topic = ARGV[i]
  -- tasks that became due join the stream
  local d = P .. ':d:' .. topic
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', d, '-inf', now, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', d, id)
    push(id, topic)
  end
  -- leases that ran out: redelivered (the stream entry changes owner, as XAUTOCLAIM would do)
  local l = P .. ':l:' .. topic
  while #out < limit do
    local ids = redis.call('ZRANGEBYSCORE', l, '-inf', now, 'LIMIT', 0, limit - #out)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      local entry = redis.call('HGET', tkey(id), 'entry')
      if entry and entry ~= '' then
        redis.call('XCLAIM', P .. ':s:' .. topic, 'g', consumer, 0, entry, 'JUSTID')
      end
      lease(id, topic, entry)
    end
  end
  -- new entries of the stream, in arrival order
  while #out < limit do
    local r = redis.call('XREADGROUP', 'GROUP', 'g', consumer, 'COUNT', limit - #out, 'STREAMS', stream(topic), '>')
    if not r or #r == 0 or #r[1][2] == 0 then break end
    for _, e in ipairs(r[1][2]) do
      local entry, id = e[1], e[2][2]
      local cur = redis.call('HMGET', tkey(id), 'status', 'entry')
      if cur[1] == 'queued' and cur[2] == entry then
        lease(id, topic, entry)
      else    -- a stale entry (the task expired or was removed meanwhile): drop it
        redis.call('XACK', P .. ':s:' .. topic, 'g', entry)
        redis.call('XDEL', P .. ':s:' .. topic, entry)
      end
    end
  end
  if #out >= limit then break end
end
return out
"""

# ARGV: P, id, consumer, op (ack|release|extend|dlq), now, a, b.  Returns {'missing'}, {'lost'}, {'ok'} (ack, dlq),
# {'ok', lease_until} (extend) or the task's row() (release).
OWNED = _LIB + r"""
local id, consumer, op, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local k = tkey(id)
if redis.call('EXISTS', k) == 0 then return {'missing'} end
local f = redis.call('HMGET', k, 'status', 'lease_owner', 'topic', 'entry', 'attempts', 'max_attempts')
if f[1] ~= 'leased' or f[2] ~= consumer then return {'lost'} end
local topic, entry = f[3], f[4]
if op == 'ack' then
  finish(id, topic, entry, 'leased', 'done', now, '')
  return {'ok'}
elseif op == 'extend' then
  redis.call('HSET', k, 'lease_until', ARGV[6], 'updated_at', now)
  redis.call('ZADD', P .. ':l:' .. topic, ARGV[6], id)
  return {'ok', ARGV[6]}
elseif op == 'dlq' then
  finish(id, topic, entry, 'leased', 'dead', now, ARGV[6])
  return {'ok'}
else  -- release: ARGV[6] retry_at, ARGV[7] error
  if tonumber(f[5]) >= tonumber(f[6]) then
    finish(id, topic, entry, 'leased', 'dead', now, ARGV[7])
  else
    unlink(id, topic, entry)
    move(id, 'leased', 'queued', now)
    redis.call('HSET', k, 'available_at', ARGV[6], 'last_error', ARGV[7], 'entry', '', 'lease_owner', '',
      'lease_until', '')
    if tonumber(ARGV[6]) <= tonumber(now) then push(id, topic)
    else redis.call('ZADD', P .. ':d:' .. topic, ARGV[6], id) end
  end
end
return row(k)
"""

# ARGV: P, now, limit, reset ('1'|'0').  Returns how many dead tasks were queued again.
REPLAY = _LIB + r"""
local now, reset = ARGV[2], ARGV[4]
local ids = redis.call('ZRANGE', P .. ':dead', 0, tonumber(ARGV[3]) - 1)
for _, id in ipairs(ids) do
  local k = tkey(id)
  redis.call('ZREM', P .. ':dead', id)
  move(id, 'dead', 'queued', now)
  redis.call('HSET', k, 'available_at', now, 'last_error', '')
  if reset == '1' then redis.call('HSET', k, 'attempts', 0) end
  local expires = redis.call('HGET', k, 'expires_at')
  if expires ~= '' then redis.call('ZADD', P .. ':x', expires, id) end
  push(id, redis.call('HGET', k, 'topic'))
end
return #ids
"""

# ARGV: P, before.  Deletes done and expired tasks finished before `before`; frees their dedupe keys.
PURGE = _LIB + r"""
local ids = redis.call('ZRANGEBYSCORE', P .. ':fin', '-inf', '(' .. ARGV[2])
for _, id in ipairs(ids) do
  local k = tkey(id)
  local f = redis.call('HMGET', k, 'has_dedupe', 'dedupe_key', 'status')
  if f[1] == '1' and redis.call('GET', P .. ':k:' .. f[2]) == id then redis.call('DEL', P .. ':k:' .. f[2]) end
  if f[3] then redis.call('HINCRBY', P .. ':n', f[3], -1) end
  redis.call('DEL', k)
  redis.call('ZREM', P .. ':fin', id)
end
return #ids
"""

# ARGV: P, now.  Expires unfinished tasks past expires_at that nobody holds, then returns the counts hash.
SWEEP = _LIB + r"""
local now = tonumber(ARGV[2])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':x', '-inf', now, 'LIMIT', 0, 10000)) do
  local f = redis.call('HMGET', tkey(id), 'status', 'lease_until', 'topic', 'entry')
  if f[1] == 'queued' or (f[1] == 'leased' and tonumber(f[2]) <= now) then
    finish(id, f[3], f[4], f[1], 'expired', ARGV[2], '')
  elseif f[1] ~= 'leased' then
    redis.call('ZREM', P .. ':x', id)
  end
end
return redis.call('HGETALL', P .. ':n')
"""
