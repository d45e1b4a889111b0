"""The scheduler's job store on Redis: every scheduler on every machine sharing the server runs each tick once.

Owns the Redis implementation of :class:`JobStore` (redis-py asyncio). A job is a hash; due jobs are a sorted set
scored by ``next_run``; tags are sets; dead letters a hash. Every change is one Lua script, so it is atomic however
many schedulers share the keys. ``claim`` is the same compare-and-set on ``next_run`` as the SQL stores, and the
winner also takes the tick's lease with ``SET NX PX`` (a key per job and tick that expires by itself), so a tick
is run once even if an operator moves ``next_run`` back onto it while the run is going. All keys of a store share
the hash tag ``{prefix}`` (one Redis Cluster slot). Install with ``pip install 'plumego[redis]'``. Imports the
standard library, redis-py and this package; never plumego.core.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis job store needs redis-py: pip install 'plumego[redis]'") from exc

from ._jobs import DeadLetter, JobInfo, JobOptions, JobState
from ._store import JobExistsError

__all__ = ["RedisJobStore"]

_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_FIELDS = ("id", "task", "spec", "location", "payload", "options", "grp", "tags", "state", "max_runs", "next_run",
           "running_until", "runs", "failures", "last_error", "created_at", "updated_at")

# KEYS: none (one hash tag, passed as ARGV[1]); every script keeps the due set in step with state and next_run.
_LIB = """
local function due_sync(p, id)
  local h = p .. ':job:' .. id
  local state, nxt = unpack(redis.call('HMGET', h, 'state', 'next_run'))
  if state == 'scheduled' and nxt and nxt ~= '' then
    redis.call('ZADD', p .. ':due', tonumber(nxt), id)
  else
    redis.call('ZREM', p .. ':due', id)
  end
end
"""

_ADD = _LIB + """
local p, id, replace = ARGV[1], ARGV[2], ARGV[3]
local h = p .. ':job:' .. id
if redis.call('EXISTS', h) == 1 then
  if replace ~= '1' then return 0 end
  for _, tag in ipairs(cjson.decode(redis.call('HGET', h, 'tags'))) do
    redis.call('SREM', p .. ':tag:' .. tag, id)
  end
  redis.call('DEL', h)
end
local n = 4
while n <= #ARGV do
  redis.call('HSET', h, ARGV[n], ARGV[n + 1])
  n = n + 2
end
for _, tag in ipairs(cjson.decode(redis.call('HGET', h, 'tags'))) do
  redis.call('SADD', p .. ':tag:' .. tag, id)
end
redis.call('SADD', p .. ':ids', id)
due_sync(p, id)
return 1
"""

_DUE = """
local p, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local wanted = {}
for i = 4, #ARGV do wanted[ARGV[i]] = true end
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. ':due', '-inf', now)) do
  local h = p .. ':job:' .. id
  if wanted[redis.call('HGET', h, 'task')] then
    out[#out + 1] = redis.call('HGETALL', h)
    if #out >= limit then break end
  end
end
return out
"""

_CLAIM = _LIB + """
local p, id, tick, nxt, running_until, now, lease_ms = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local h = p .. ':job:' .. id
local state, cur, max_runs, runs = unpack(redis.call('HMGET', h, 'state', 'next_run', 'max_runs', 'runs'))
if state ~= 'scheduled' or not cur or cur == '' or tonumber(cur) ~= tonumber(tick) then return 0 end
if running_until == '' then
  redis.call('HSET', h, 'next_run', nxt, 'updated_at', now)
else
  if not redis.call('SET', p .. ':tick:' .. id .. ':' .. tick, now, 'NX', 'PX', lease_ms) then return 0 end
  runs = tonumber(runs) + 1
  max_runs = tonumber(max_runs)
  if max_runs > 0 and runs >= max_runs then nxt = '' end
  redis.call('HSET', h, 'runs', runs, 'running_until', running_until, 'next_run', nxt, 'updated_at', now)
end
due_sync(p, id)
return 1
"""

_FINISH = _LIB + """
local p, id, ok, err, tick, attempts, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local h = p .. ':job:' .. id
if redis.call('EXISTS', h) == 0 then return 0 end
local task, spec, nxt, state = unpack(redis.call('HMGET', h, 'task', 'spec', 'next_run', 'state'))
if state == 'scheduled' and nxt == '' then
  if spec == '' and ok ~= '1' then state = 'dead' else state = 'completed' end
end
if ok == '1' then
  redis.call('HSET', h, 'last_error', '')
else
  redis.call('HINCRBY', h, 'failures', 1)
  redis.call('HSET', h, 'last_error', err)
  local seq = redis.call('INCR', p .. ':dlseq')
  redis.call('HSET', p .. ':dl', seq, cjson.encode({seq, id, task, tonumber(tick), tonumber(attempts), err,
                                                    tonumber(now)}))
end
redis.call('HSET', h, 'running_until', '', 'updated_at', now, 'state', state)
due_sync(p, id)
return 1
"""

_EXTEND = """
local h = ARGV[1] .. ':job:' .. ARGV[2]
if redis.call('HGET', h, 'running_until') then
  if redis.call('HGET', h, 'running_until') ~= '' then redis.call('HSET', h, 'running_until', ARGV[3]) end
end
return 1
"""

_SET_STATE = _LIB + """
local p, state, now = ARGV[1], ARGV[2], ARGV[3]
local n = 0
local i = 4
while i <= #ARGV do
  local id, has_next, nxt = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local h = p .. ':job:' .. id
  if redis.call('EXISTS', h) == 1 then
    redis.call('HSET', h, 'state', state, 'updated_at', now)
    if has_next == '1' then redis.call('HSET', h, 'next_run', nxt) end
    due_sync(p, id)
    n = n + 1
  end
  i = i + 3
end
return n
"""


def _num(text: str) -> float | None:
    return None if text == "" else float(text)


def _info(flat: Sequence[bytes] | dict[Any, Any]) -> JobInfo:
    if isinstance(flat, dict):
        h = {k.decode(): v.decode() for k, v in flat.items()}
    else:
        h = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
    return JobInfo(id=h["id"], task=h["task"], spec=h["spec"] or None, location=h["location"],
                   payload=json.loads(h["payload"]), state=JobState(h["state"]), next_run=_num(h["next_run"]),
                   runs=int(h["runs"]), failures=int(h["failures"]), last_error=h["last_error"],
                   options=JobOptions.from_json(h["options"], h["grp"], json.loads(h["tags"])),
                   running_until=_num(h["running_until"]))


class RedisJobStore:
    """Jobs in Redis (``redis://host:6379/0?prefix=NS``, default prefix ``scheduler``)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in params if k == "prefix"), "scheduler")
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"prefix {prefix!r} must be 1-64 letters, digits or _ . : -")
        plain = urlunsplit((parts.scheme, parts.netloc, parts.path,
                            urlencode([(k, v) for k, v in params if k != "prefix"]), ""))
        self._r = aioredis.Redis.from_url(plain, decode_responses=False)
        self._p = "{" + prefix + "}"
        self._scripts = {name: self._r.register_script(src) for name, src in
                         (("add", _ADD), ("due", _DUE), ("claim", _CLAIM), ("finish", _FINISH),
                          ("extend", _EXTEND), ("set_state", _SET_STATE))}

    async def _run(self, name: str, *args: str | int | float) -> Any:
        return await self._scripts[name](keys=[], args=[self._p, *args])

    async def add(self, job: JobInfo, *, replace: bool) -> None:
        now = repr(time.time())
        values = {"id": job.id, "task": job.task, "spec": job.spec or "", "location": job.location,
                  "payload": json.dumps(job.payload), "options": job.options.to_json(), "grp": job.options.group,
                  "tags": json.dumps(list(dict.fromkeys(job.options.tags))), "state": job.state.value,
                  "max_runs": str(job.options.max_runs),
                  "next_run": "" if job.next_run is None else repr(job.next_run), "running_until": "",
                  "runs": "0", "failures": "0", "last_error": "", "created_at": now, "updated_at": now}
        flat = [x for kv in values.items() for x in kv]
        if not await self._run("add", job.id, "1" if replace else "0", *flat):
            raise JobExistsError(f"job {job.id!r} exists already")

    async def get(self, job_id: str) -> JobInfo | None:
        flat = await self._r.hgetall(f"{self._p}:job:{job_id}")
        return _info(flat) if flat else None

    async def list_jobs(self, *, state: JobState | None = None, group: str | None = None,
                        tag: str | None = None) -> list[JobInfo]:
        members: set[Any] = await self._r.smembers(f"{self._p}:tag:{tag}" if tag is not None else f"{self._p}:ids")
        async with self._r.pipeline(transaction=False) as pipe:
            for job_id in sorted(m.decode() for m in members):
                pipe.hgetall(f"{self._p}:job:{job_id}")
            rows = await pipe.execute()
        jobs = [_info(r) for r in rows if r]
        return [j for j in jobs if (state is None or j.state is state) and (group is None or j.options.group == group)]

    async def due(self, now: float, tasks: Sequence[str], limit: int) -> list[tuple[JobInfo, float | None]]:
        if not tasks:
            return []
        return [(info, info.running_until) for info in map(_info, await self._run("due", repr(now), limit, *tasks))]

    async def claim(self, job_id: str, tick: float, next_run: float | None, running_until: float | None,
                    now: float) -> bool:
        lease_ms = max(1000, int(((running_until or now) - now) * 1000))
        return bool(await self._run("claim", job_id, repr(tick), "" if next_run is None else repr(next_run),
                                    "" if running_until is None else repr(running_until), repr(now), lease_ms))

    async def finish(self, job_id: str, *, ok: bool, error: str, tick: float, attempts: int, now: float) -> None:
        await self._run("finish", job_id, "1" if ok else "0", "" if ok else error, repr(tick), attempts, repr(now))

    async def extend_run(self, job_id: str, running_until: float) -> None:
        await self._run("extend", job_id, repr(running_until))

    async def set_state(self, job_ids: Sequence[str], state: JobState, now: float,
                        next_runs: dict[str, float | None] | None = None) -> int:
        args: list[str] = []
        for job_id in job_ids:
            has = next_runs is not None and job_id in next_runs
            nxt = next_runs.get(job_id) if next_runs is not None else None
            args += [job_id, "1" if has else "0", "" if nxt is None else repr(nxt)]
        return int(await self._run("set_state", state.value, repr(now), *args))

    async def dead_letters(self, job_id: str | None = None) -> list[DeadLetter]:
        stored: dict[Any, Any] = await self._r.hgetall(f"{self._p}:dl")
        rows = [json.loads(v) for v in stored.values()]
        letters = sorted((DeadLetter(int(r[0]), r[1], r[2], float(r[3]), int(r[4]), r[5], float(r[6])) for r in rows),
                         key=lambda d: d.id)
        return [d for d in letters if job_id is None or d.job_id == job_id]

    async def delete_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        if ids is None:
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.hlen(f"{self._p}:dl")
                pipe.delete(f"{self._p}:dl")
                count, _ = await pipe.execute()
            return int(count)
        if not ids:
            return 0
        return int(await self._r.hdel(f"{self._p}:dl", *[str(i) for i in ids]))

    async def close(self) -> None:
        await self._r.aclose()
