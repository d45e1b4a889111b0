"""The task queue on Redis: Streams with a consumer group for delivery, Lua scripts for every transition.

Owns the Redis backend of :class:`TaskQueue` (redis-py asyncio). Due tasks are entries of a per-topic stream read
with ``XREADGROUP``; a task's state lives in a hash, and each transition (enqueue with dedupe, reserve, ack,
release, lease extension, dead-lettering, replay, purge) is one Lua script, so it is atomic however many workers
and machines share the queue. Leases are kept in a sorted set on the queue's clock rather than in the stream's
idle time, so a lease can be extended and a late ``ack`` from a consumer that lost its lease is refused (XACK alone
would accept it); an expired lease moves the stream entry to the new owner with ``XCLAIM``, as XAUTOCLAIM would.
An idle worker blocks in ``XREAD`` on the topic streams instead of polling (an entry added between its last
``reserve`` and the ``XREAD`` is seen at the next ``poll_interval``, 1 s by default; tasks whose delay ends are
seen at that interval too).

Priority is not supported (``capabilities.priority`` is False): tasks are delivered in the order they became due.
Durability is Redis's: with ``appendonly yes`` and ``appendfsync always`` an acknowledged enqueue survives a crash
of the server; with the defaults it may lose the last second. Install with ``pip install 'plumego[redis]'``.
Imports the standard library and redis; never plumego.core.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis task queue needs redis-py: pip install 'plumego[redis]'") from exc

from . import _redis_scripts as scripts
from ._queue import QueueCapabilities
from ._rows import check_identifier, dump_meta
from ._task import (
    DEFAULT_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    DuplicateTaskError,
    LeaseLostError,
    QueueStats,
    Task,
    TaskNotFoundError,
    TaskStatus,
    new_task,
)

__all__ = ["RedisTaskQueue", "split_redis_url"]


def split_redis_url(url: str) -> tuple[str, str]:
    """Split ``redis://host:6379/0?prefix=NS`` into (URL without ``prefix``, namespace; default ``mq``)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in params if k == "prefix"), "mq")
    rest = [(k, v) for k, v in params if k != "prefix"]
    return (urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment)),
            check_identifier(prefix, "prefix"))


def _num(text: bytes) -> float | None:
    return None if not text else float(text)


_FIELDS = ("id", "topic", "payload", "status", "tenant_id", "meta", "priority", "has_dedupe", "dedupe_key",
           "available_at", "expires_at", "attempts", "max_attempts", "lease_owner", "lease_until", "created_at",
           "last_error")      # the order of row() in the scripts


def _task_row(values: Sequence[bytes]) -> Task:
    """A Task from the scripts' row(): the values of :data:`_FIELDS`, in order (no field names on the wire)."""
    return _from_fields(dict(zip(_FIELDS, values, strict=True)))


def _task(flat: Sequence[bytes]) -> Task:
    """A Task from HGETALL's flat field/value list."""
    return _from_fields({flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)})


def _from_fields(h: dict[str, bytes]) -> Task:
    s = {k: v.decode("utf-8", "surrogateescape") for k, v in h.items() if k != "payload"}
    return Task(id=s["id"], topic=s["topic"], payload=bytes(h["payload"]), status=TaskStatus(s["status"]),
                tenant_id=s["tenant_id"], meta=json.loads(s["meta"]) if s["meta"] != "{}" else {},
                priority=int(s["priority"]), dedupe_key=s["dedupe_key"] if s["has_dedupe"] == "1" else None,
                available_at=float(s["available_at"]), expires_at=_num(h["expires_at"]),
                attempts=int(s["attempts"]), max_attempts=int(s["max_attempts"]),
                lease_owner=s["lease_owner"] or None, lease_until=_num(h["lease_until"]),
                created_at=float(s["created_at"]), last_error=s["last_error"])


class RedisTaskQueue:
    """A :class:`TaskQueue` on Redis. Create it with ``await RedisTaskQueue.open("redis://host:6379/0?prefix=app")``."""

    capabilities = QueueCapabilities(priority=False, push_wakeups=True, shared=True)

    def __init__(self, client: aioredis.Redis, namespace: str, clock: Callable[[], float],
                 poll_interval: float) -> None:
        self._r = client
        self._p = "{" + namespace + "}"
        self._clock = clock
        self._poll = poll_interval
        self._scripts = {name: client.register_script(getattr(scripts, name))
                         for name in ("ENQUEUE", "RESERVE", "OWNED", "REPLAY", "PURGE", "SWEEP")}
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time,
                   poll_interval: float = 1.0) -> RedisTaskQueue:
        """Connect and check the server answers. ``poll_interval`` bounds how long ``wait`` blocks, so tasks that
        become due after a delay are seen within it."""
        if poll_interval <= 0:
            raise ValueError("poll_interval must be > 0")
        plain, namespace = split_redis_url(url)
        client = aioredis.Redis.from_url(plain, decode_responses=False)
        try:
            await client.ping()
        except BaseException:
            await client.aclose()
            raise
        return cls(client, namespace, clock, poll_interval)

    async def _run(self, name: str, *args: str | bytes | int | float) -> Any:
        return await self._scripts[name](keys=[], args=[self._p, *args])

    # -- producer ---------------------------------------------------------------------------------------------

    async def enqueue(self, topic: str, payload: bytes, *, dedupe_key: str | None = None,
                      available_at: float | None = None, delay: float = 0.0, expires_at: float | None = None,
                      priority: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS, tenant_id: str = "",
                      meta: Mapping[str, str] | None = None) -> Task:
        now = self._clock()
        task = new_task(topic, payload, now, dedupe_key=dedupe_key, available_at=available_at, delay=delay,
                        expires_at=expires_at, priority=priority, max_attempts=max_attempts, tenant_id=tenant_id,
                        meta=meta)
        at = task.available_at
        ok, holder = await self._run(
            "ENQUEUE", task.id, topic, task.payload, "0" if dedupe_key is None else "1", dedupe_key or "", repr(at),
            "" if expires_at is None else repr(expires_at), priority, max_attempts, tenant_id, dump_meta(meta),
            repr(now))
        if not ok:
            assert dedupe_key is not None
            raise DuplicateTaskError(dedupe_key, holder.decode())
        return task

    # -- consumer ---------------------------------------------------------------------------------------------

    async def reserve(self, topics: Sequence[str], *, consumer_id: str, limit: int = 1,
                      lease: float = DEFAULT_LEASE) -> list[Task]:
        if not topics or limit < 1:
            return []
        if lease <= 0:
            raise ValueError("lease must be > 0")
        if not consumer_id:
            raise ValueError("consumer_id must not be empty")
        now = self._clock()
        rows = await self._run("RESERVE", consumer_id, repr(now), repr(now + lease), limit,
                               *dict.fromkeys(topics))
        return [_task_row(row) for row in rows]

    async def _owned(self, task_id: str, consumer_id: str, op: str, *extra: str) -> list[bytes]:
        reply: list[bytes] = await self._run("OWNED", task_id, consumer_id, op, repr(self._clock()), *extra)
        if reply == [b"missing"]:
            raise TaskNotFoundError(task_id)
        if reply == [b"lost"]:
            raise LeaseLostError(f"{consumer_id!r} does not hold the lease of task {task_id}")
        return reply

    async def ack(self, task_id: str, consumer_id: str) -> None:
        await self._owned(task_id, consumer_id, "ack")

    async def release(self, task_id: str, consumer_id: str, *, retry_at: float | None = None,
                      error: str = "") -> Task:
        return _task_row(await self._owned(task_id, consumer_id, "release",
                                           repr(self._clock() if retry_at is None else retry_at), error))

    async def extend_lease(self, task_id: str, consumer_id: str, lease: float = DEFAULT_LEASE) -> float:
        if lease <= 0:
            raise ValueError("lease must be > 0")
        reply = await self._owned(task_id, consumer_id, "extend", repr(self._clock() + lease))
        return float(reply[1])

    async def move_to_dlq(self, task_id: str, consumer_id: str, reason: str = "") -> None:
        await self._owned(task_id, consumer_id, "dlq", reason)

    # -- administration ---------------------------------------------------------------------------------------

    async def replay_dlq(self, *, limit: int = 100, reset_attempts: bool = True) -> int:
        if limit < 1:
            return 0
        return int(await self._run("REPLAY", repr(self._clock()), limit, "1" if reset_attempts else "0"))

    async def purge(self, *, finished_before: float) -> int:
        """Delete done and expired tasks finished before the given time (their dedupe keys become free again)."""
        return int(await self._run("PURGE", repr(finished_before)))

    async def get(self, task_id: str) -> Task | None:
        flat: dict[Any, Any] = await self._r.hgetall(f"{self._p}:t:{task_id}")
        if not flat:
            return None
        return _task([x for kv in flat.items() for x in kv])

    async def stats(self) -> QueueStats:
        flat = await self._run("SWEEP", repr(self._clock()))
        counts = {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}
        return QueueStats(**{s.value: counts.get(s.value, 0) for s in TaskStatus})

    # -- waiting and shutdown ---------------------------------------------------------------------------------

    async def wait(self, topics: Sequence[str], timeout: float) -> None:
        """Block in XREAD on the topics' streams until an entry arrives (or ``min(timeout, poll_interval)``)."""
        block = max(1, int(min(timeout, self._poll) * 1000))
        streams = {f"{self._p}:s:{t}": "$" for t in dict.fromkeys(topics)}
        if not streams:
            await asyncio.sleep(min(timeout, self._poll))
            return
        with contextlib.suppress(aioredis.ResponseError):   # a stream that does not exist yet is created by XADD
            await self._r.xread(streams, count=1, block=block)  # type: ignore[arg-type]

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._r.aclose()
