"""Idempotency keys on Redis: one hash per key, changed in a WATCH/MULTI transaction.

Owns :class:`RedisIdempotencyStore`. Each operation reads the key's hash under ``WATCH``, applies the shared state
machine (:mod:`._decide`) and writes in ``MULTI``; a concurrent change aborts the transaction and it is retried,
so workers on any number of machines run a key's request once (Go's KV store is atomic within one process only).
Records also get a Redis expiry a minute past their logical one, so abandoned keys clean themselves up; the
decisions themselves use the caller's clock. Install with ``pip install 'plumego[data]'`` (redis-py). Imports the
standard library, plumego.store, this package and, lazily, redis.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from plumego.store import (
    DEFAULT_IDEMPOTENCY_TTL,
    DEFAULT_LOCK_TTL,
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyStatus,
    validate_key,
)

from .._redis import connect_redis
from . import _decide

__all__ = ["RedisIdempotencyStore"]

_T = TypeVar("_T")
_GRACE_MS = 60_000


def _encode(r: IdempotencyRecord) -> dict[str, bytes | str]:
    fields: dict[str, bytes | str] = {"fingerprint": r.fingerprint, "status": r.status.value,
                                      "created_at": repr(r.created_at), "updated_at": repr(r.updated_at),
                                      "expires_at": repr(r.expires_at)}
    if r.response is not None:
        fields["response"] = r.response
    if r.lock_token is not None and r.lock_expires_at is not None:
        fields["lock_token"] = r.lock_token
        fields["lock_expires_at"] = repr(r.lock_expires_at)
    return fields


def _decode(key: str, raw: dict[bytes, bytes]) -> IdempotencyRecord | None:
    if not raw:
        return None
    lock_token = raw.get(b"lock_token")
    lock_expires = raw.get(b"lock_expires_at")
    return IdempotencyRecord(key=key, fingerprint=raw[b"fingerprint"].decode(),
                             status=IdempotencyStatus(raw[b"status"].decode()), response=raw.get(b"response"),
                             created_at=float(raw[b"created_at"]), updated_at=float(raw[b"updated_at"]),
                             expires_at=float(raw[b"expires_at"]),
                             lock_token=None if lock_token is None else lock_token.decode(),
                             lock_expires_at=None if lock_expires is None else float(lock_expires))


class RedisIdempotencyStore:
    """The stable ``IdempotencyStore`` on Redis. Open with ``await RedisIdempotencyStore.open(url)``
    (``redis://host:6379/0?prefix=NS``; keys are ``{NS}:idem:<key>``)."""

    def __init__(self, client: Any, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._prefix = "{" + prefix + "}:idem:" if prefix else "idem:"
        self._clock = clock

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> RedisIdempotencyStore:
        client, prefix = await connect_redis(url, what="the Redis idempotency store")
        return cls(client, prefix, clock)

    async def _atomic(self, key: str, step: Callable[[IdempotencyRecord | None, Any], Awaitable[_T]]) -> _T:
        """Run ``step(current, pipe)`` under WATCH; it queues writes after ``pipe.multi()``. Retries on a race."""
        from redis.exceptions import RedisError, WatchError

        name = self._prefix + key
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(name)
                        current = _decode(key, await pipe.hgetall(name))
                        result = await step(current, pipe)
                        await pipe.execute()
                        return result
                    except WatchError:
                        continue
        except (RedisError, OSError) as exc:
            raise _decide.IdempotencyBackendError(f"Redis: {exc}") from exc

    async def _plain(self, call: Awaitable[_T]) -> _T:
        from redis.exceptions import RedisError

        try:
            return await call
        except (RedisError, OSError) as exc:
            raise _decide.IdempotencyBackendError(f"Redis: {exc}") from exc

    def _write(self, pipe: Any, record: IdempotencyRecord, now: float) -> None:
        name = self._prefix + record.key
        pipe.delete(name)
        pipe.hset(name, mapping=_encode(record))
        pipe.pexpire(name, max(1, int((record.expires_at - now) * 1000)) + _GRACE_MS)

    async def begin(self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL,
                    lock_ttl: float = DEFAULT_LOCK_TTL) -> IdempotencyClaim:
        _decide.validate(key, fingerprint, ttl, lock_ttl)

        async def step(current: IdempotencyRecord | None, pipe: Any) -> IdempotencyClaim:
            now = self._clock()
            claim, record = _decide.begin(current, key, fingerprint, now, ttl, lock_ttl)
            pipe.multi()
            if record is not None:
                self._write(pipe, record, now)
            return claim

        return await self._atomic(key, step)

    async def complete(self, key: str, token: str, response: bytes) -> IdempotencyRecord:
        validate_key(key)

        async def step(current: IdempotencyRecord | None, pipe: Any) -> IdempotencyRecord:
            now = self._clock()
            done = _decide.completed(_decide.owned(current, key, token, now), response, now)
            pipe.multi()
            self._write(pipe, done, now)
            return done

        return await self._atomic(key, step)

    async def release(self, key: str, token: str) -> None:
        validate_key(key)

        async def step(current: IdempotencyRecord | None, pipe: Any) -> None:
            _decide.owned(current, key, token, self._clock())
            pipe.multi()
            pipe.delete(self._prefix + key)

        await self._atomic(key, step)

    async def get(self, key: str) -> IdempotencyRecord | None:
        validate_key(key)
        record = _decode(key, await self._plain(self._client.hgetall(self._prefix + key)))
        if record is None or record.expires_at <= self._clock():
            return None
        return record

    async def delete(self, key: str) -> bool:
        validate_key(key)
        return int(await self._plain(self._client.delete(self._prefix + key))) > 0

    async def close(self) -> None:
        await self._client.aclose()
