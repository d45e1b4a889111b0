"""Sessions on Redis, for apps on several machines: one hash per session, a set of its rotated-away refresh ids,
a per-subject index and version counter; refresh rotation (with reuse detection revoking the session) is one Lua
script, so two machines presenting the same refresh token cannot both win.

Owns :class:`RedisSessionStore`. Keys ``{ns}:sess:<id>``, ``{ns}:used:<id>``, ``{ns}:subj:<subject>`` and
``{ns}:ver:<subject>``; a session's keys expire a day after its refresh token would. Connection errors raise
:class:`StateUnavailableError`. Install with ``pip install 'plumego[redis]'``. Imports the standard library and
redis.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis session store needs redis-py: pip install 'plumego[redis]'") from exc

from ._core import StateUnavailableError
from ._session import (
    _FIELDS,
    InvalidRefreshTokenError,
    RefreshReusedError,
    Session,
    SessionExpiredError,
    SessionNotFoundError,
    SessionRevokedError,
    SessionStatus,
)
from ._state_redis import split_state_url

__all__ = ["RedisSessionStore"]

T = TypeVar("T")
_GRACE = 86400.0

# KEYS: session hash, used set. ARGV: presented id, new id, new expiry, now, ttl ms.
_ROTATE = """
local s = redis.call('HMGET', KEYS[1], 'status', 'refresh_id', 'refresh_expires_at')
if not s[1] then return 'invalid' end
local used = redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1
if s[1] == 'revoked' then
  if used or s[2] == ARGV[1] then return 'revoked' end
  return 'invalid'
end
if s[2] ~= ARGV[1] then
  if used then
    redis.call('HSET', KEYS[1], 'status', 'revoked', 'revoked_at', ARGV[4], 'updated_at', ARGV[4])
    return 'reused'
  end
  return 'invalid'
end
if tonumber(s[3]) ~= 0 and tonumber(ARGV[4]) >= tonumber(s[3]) then return 'expired' end
redis.call('HSET', KEYS[1], 'previous_refresh_id', s[2], 'refresh_id', ARGV[2], 'refresh_expires_at', ARGV[3],
           'updated_at', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 'ok'
"""

# KEYS: session hash. ARGV: now. Returns 1 when the session was active and is now revoked.
_REVOKE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'revoked' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'revoked', 'revoked_at', ARGV[1], 'updated_at', ARGV[1])
return 1
"""

# KEYS: session hash, subject index. ARGV: ttl ms, session id, then field/value pairs.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""

_INT_FIELDS = frozenset({"token_version"})
_FLOAT_FIELDS = frozenset({"refresh_expires_at", "created_at", "updated_at", "revoked_at"})


def _encode(session: Session) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _FIELDS:
        value = getattr(session, name)
        if name == "attributes":
            out[name] = json.dumps(dict(value))
        elif name == "status":
            out[name] = session.status.value
        elif name in _FLOAT_FIELDS:
            out[name] = repr(float(value))
        else:
            out[name] = str(value)
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode(raw: Mapping[bytes | str, bytes | str]) -> Session:
    data: dict[str, Any] = {_text(k): _text(v) for k, v in raw.items()}
    for name in _INT_FIELDS:
        data[name] = int(data[name])
    for name in _FLOAT_FIELDS:
        data[name] = float(data[name])
    data["status"] = SessionStatus(data["status"])
    data["attributes"] = MappingProxyType(json.loads(data["attributes"]))
    return Session(**{k: data[k] for k in _FIELDS})


class RedisSessionStore:
    """Open with ``RedisSessionStore.from_url("redis://host:6379/0?prefix=app")``."""

    def __init__(self, client: aioredis.Redis, namespace: str) -> None:
        self._client = client
        self._ns = "{" + namespace + "}"
        self._rotate = client.register_script(_ROTATE)
        self._revoke = client.register_script(_REVOKE)
        self._create = client.register_script(_CREATE)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> RedisSessionStore:
        conn_url, namespace = split_state_url(url)
        return cls(aioredis.Redis.from_url(conn_url, socket_timeout=timeout, socket_connect_timeout=timeout),
                   namespace)

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except (RedisError, OSError) as exc:
            raise StateUnavailableError(f"redis session store: {exc}") from exc

    @staticmethod
    def _ttl_ms(expires_at: float, now: float) -> int:
        return max(1000, int((expires_at - now + _GRACE) * 1000))

    async def create(self, session: Session) -> None:
        pairs = [item for kv in _encode(session).items() for item in kv]
        ttl = self._ttl_ms(session.refresh_expires_at, session.created_at)
        created = await self._call(lambda: self._create(
            keys=[f"{self._ns}:sess:{session.session_id}", f"{self._ns}:subj:{session.subject}"],
            args=[ttl, session.session_id, *pairs]))
        if not created:
            raise ValueError("session id already exists")

    async def get(self, session_id: str) -> Session:
        raw = await self._call(lambda: self._client.hgetall(f"{self._ns}:sess:{session_id}"))
        if not raw:
            raise SessionNotFoundError(session_id)
        return _decode(raw)

    async def rotate_refresh(self, session_id: str, presented_id: str, new_id: str, new_expires_at: float,
                             now: float) -> Session:
        key = f"{self._ns}:sess:{session_id}"
        verdict = await self._call(lambda: self._rotate(
            keys=[key, f"{self._ns}:used:{session_id}"],
            args=[presented_id, new_id, repr(new_expires_at), repr(now), self._ttl_ms(new_expires_at, now)]))
        outcome = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        if outcome == "reused":
            raise RefreshReusedError("refresh token reuse detected; the session is revoked")
        if outcome == "revoked":
            raise SessionRevokedError("session revoked")
        if outcome == "expired":
            raise SessionExpiredError("refresh token expired")
        if outcome != "ok":
            raise InvalidRefreshTokenError("unknown refresh token")
        return await self.get(session_id)

    async def revoke(self, session_id: str, now: float) -> bool:
        done = await self._call(lambda: self._revoke(keys=[f"{self._ns}:sess:{session_id}"], args=[repr(now)]))
        return bool(done)

    async def list_by_subject(self, subject: str) -> list[Session]:
        ids = await self._call(lambda: self._client.smembers(f"{self._ns}:subj:{subject}"))
        sessions = []
        for raw_id in ids:
            try:
                sessions.append(await self.get(_text(raw_id)))
            except SessionNotFoundError:        # expired: drop it from the index
                await self._call(lambda: self._client.srem(f"{self._ns}:subj:{subject}", raw_id))
        return sorted(sessions, key=lambda s: s.created_at)

    async def subject_version(self, subject: str) -> int:
        raw = await self._call(lambda: self._client.get(f"{self._ns}:ver:{subject}"))
        return int(raw) if raw else 0

    async def increment_subject_version(self, subject: str) -> int:
        return int(await self._call(lambda: self._client.incr(f"{self._ns}:ver:{subject}")))

    async def close(self) -> None:
        await self._client.aclose()
