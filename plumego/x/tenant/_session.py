"""Sessions: refresh-token rotation with reuse detection, revocation, subject token versions, the session check
middleware, and the JWT state store on the stable KV store.

Owns :class:`SessionManager` and the :class:`SessionStore` protocol with a memory and a SQLite backend (SQLite is
shared by every process on the machine: rotation is one ``BEGIN IMMEDIATE`` transaction, so two processes
presenting the same refresh token cannot both win; the Redis backend for several machines is in
_session_redis.py). A refresh token is ``<session_id>.<secret>``; only the
secret's SHA-256 is stored. Presenting a refresh token the session already rotated away is *reuse*: the whole
session (the token family) is revoked and :class:`RefreshReusedError` raised. Imports the standard library,
plumego.contract, plumego.middleware and plumego.store.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from os import PathLike
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, runtime_checkable

from plumego.contract import APIError, ASGIApp, ErrorCategory, ErrorType, Middleware, Receive, Scope, Send
from plumego.contract import encode_error_envelope, request_id_from_scope
from plumego.middleware import Principal, principal_from_scope
from plumego.store import KVStore, SQLiteDatabase, StoreClosedError

from ._core import StateUnavailableError, TenantError

__all__ = [
    "InvalidRefreshTokenError", "IssuedSession", "JWTStateStore", "MemorySessionStore", "RefreshReusedError",
    "SQLiteSessionStore", "Session", "SessionError", "SessionExpiredError", "SessionManager",
    "SessionNotFoundError", "SessionRevokedError", "SessionStatus", "SessionStore", "TokenRevokedError",
    "TokenVersionMismatchError", "session_check",
]

T = TypeVar("T")


class SessionError(TenantError):
    """Base of session errors; every one is answered 401 by :func:`session_check`."""


class SessionNotFoundError(SessionError, LookupError):
    pass


class SessionRevokedError(SessionError):
    pass


class SessionExpiredError(SessionError):
    pass


class RefreshReusedError(SessionError):
    """A rotated-away refresh token was presented again: the session family has been revoked."""


class InvalidRefreshTokenError(SessionError):
    pass


class TokenVersionMismatchError(SessionError):
    pass


class TokenRevokedError(SessionError):
    pass


class SessionStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    subject: str
    tenant_id: str = ""
    token_version: int = 0
    key_id: str = ""
    refresh_id: str = ""                # SHA-256 hex of the current refresh secret
    previous_refresh_id: str = ""
    refresh_expires_at: float = 0.0
    status: SessionStatus = SessionStatus.ACTIVE
    created_at: float = 0.0
    updated_at: float = 0.0
    revoked_at: float = 0.0
    client_id: str = ""
    device_id: str = ""
    user_agent_hash: str = ""
    ip_hash: str = ""
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class IssuedSession:
    session: Session
    refresh_token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _split_refresh(token: str) -> tuple[str, str]:
    sid, sep, secret = token.partition(".")
    if not sep or not sid or not secret or len(token) > 512:
        raise InvalidRefreshTokenError("malformed refresh token")
    return sid, _digest(secret)


def _rotate(session: Session | None, presented: str, used: bool, new_id: str, new_expiry: float,
            now: float) -> tuple[Session, bool]:
    """The rotation decision, shared by every store: (new session state, reuse detected)."""
    if session is None:
        raise InvalidRefreshTokenError("unknown session")
    if session.status is SessionStatus.REVOKED:
        if used or hmac.compare_digest(presented, session.refresh_id):
            raise SessionRevokedError("session revoked")
        raise InvalidRefreshTokenError("unknown refresh token")
    if not hmac.compare_digest(presented, session.refresh_id):
        if used:
            return replace(session, status=SessionStatus.REVOKED, revoked_at=now, updated_at=now), True
        raise InvalidRefreshTokenError("unknown refresh token")
    if session.refresh_expires_at and now >= session.refresh_expires_at:
        raise SessionExpiredError("refresh token expired")
    return replace(session, previous_refresh_id=session.refresh_id, refresh_id=new_id,
                   refresh_expires_at=new_expiry, updated_at=now), False


@runtime_checkable
class SessionStore(Protocol):
    async def create(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session: ...

    async def rotate_refresh(self, session_id: str, presented_id: str, new_id: str, new_expires_at: float,
                             now: float) -> Session:
        """Atomically swap the refresh id; on reuse revoke the session and raise RefreshReusedError."""
        ...

    async def revoke(self, session_id: str, now: float) -> bool: ...

    async def list_by_subject(self, subject: str) -> list[Session]: ...

    async def subject_version(self, subject: str) -> int: ...

    async def increment_subject_version(self, subject: str) -> int: ...


class MemorySessionStore:
    """Sessions in this process's memory (tests, one-process apps)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._used: dict[str, str] = {}          # refresh id -> session id
        self._versions: dict[str, int] = {}

    async def create(self, session: Session) -> None:
        if session.session_id in self._sessions:
            raise ValueError("session id already exists")
        self._sessions[session.session_id] = session

    async def get(self, session_id: str) -> Session:
        found = self._sessions.get(session_id)
        if found is None:
            raise SessionNotFoundError(session_id)
        return found

    async def rotate_refresh(self, session_id: str, presented_id: str, new_id: str, new_expires_at: float,
                             now: float) -> Session:
        session = self._sessions.get(session_id)
        updated, reused = _rotate(session, presented_id, self._used.get(presented_id) == session_id, new_id,
                                  new_expires_at, now)
        self._sessions[session_id] = updated
        if reused:
            raise RefreshReusedError("refresh token reuse detected; the session is revoked")
        self._used[presented_id] = session_id
        return updated

    async def revoke(self, session_id: str, now: float) -> bool:
        found = self._sessions.get(session_id)
        if found is None or found.status is SessionStatus.REVOKED:
            return False
        self._sessions[session_id] = replace(found, status=SessionStatus.REVOKED, revoked_at=now, updated_at=now)
        return True

    async def list_by_subject(self, subject: str) -> list[Session]:
        return sorted((s for s in self._sessions.values() if s.subject == subject), key=lambda s: s.created_at)

    async def subject_version(self, subject: str) -> int:
        return self._versions.get(subject, 0)

    async def increment_subject_version(self, subject: str) -> int:
        self._versions[subject] = self._versions.get(subject, 0) + 1
        return self._versions[subject]


_FIELDS = ("session_id", "subject", "tenant_id", "token_version", "key_id", "refresh_id", "previous_refresh_id",
           "refresh_expires_at", "status", "created_at", "updated_at", "revoked_at", "client_id", "device_id",
           "user_agent_hash", "ip_hash", "attributes")
_SESSION_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tenant_sessions ({', '.join(f + ' NOT NULL' for f in _FIELDS)}, PRIMARY KEY (session_id));
CREATE INDEX IF NOT EXISTS tenant_sessions_subject ON tenant_sessions (subject);
CREATE TABLE IF NOT EXISTS tenant_session_used_refresh (refresh_id TEXT PRIMARY KEY, session_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_subject_versions (subject TEXT PRIMARY KEY, version INTEGER NOT NULL)
"""


def _row(session: Session) -> tuple[Any, ...]:
    data = {f: getattr(session, f) for f in _FIELDS}
    data["status"] = session.status.value
    data["attributes"] = json.dumps(dict(session.attributes))
    return tuple(data[f] for f in _FIELDS)


def _session(row: Any) -> Session:
    data = dict(zip(_FIELDS, row, strict=True))
    data["status"] = SessionStatus(data["status"])
    data["attributes"] = json.loads(data["attributes"])
    return Session(**data)


class SQLiteSessionStore:
    """Sessions in a SQLite file, shared (and rotated atomically) by every process on the machine."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self._db = SQLiteDatabase(path)
        self._db.apply_schema(_SESSION_SCHEMA)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def work() -> T:
            with self._db.write() as conn:
                return fn(conn)
        try:
            return await asyncio.to_thread(work)
        except (sqlite3.OperationalError, StoreClosedError) as exc:
            raise StateUnavailableError(f"sqlite session store: {exc}") from exc

    @staticmethod
    def _load(conn: sqlite3.Connection, session_id: str) -> Session | None:
        row = conn.execute(f"SELECT {', '.join(_FIELDS)} FROM tenant_sessions WHERE session_id = ?",
                           (session_id,)).fetchone()
        return None if row is None else _session(row)

    @staticmethod
    def _save(conn: sqlite3.Connection, session: Session) -> None:
        conn.execute(f"INSERT OR REPLACE INTO tenant_sessions ({', '.join(_FIELDS)})"
                     f" VALUES ({', '.join('?' * len(_FIELDS))})", _row(session))

    async def create(self, session: Session) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if self._load(conn, session.session_id) is not None:
                raise ValueError("session id already exists")
            self._save(conn, session)
        await self._run(op)

    async def get(self, session_id: str) -> Session:
        found = await self._run(lambda conn: self._load(conn, session_id))
        if found is None:
            raise SessionNotFoundError(session_id)
        return found

    async def rotate_refresh(self, session_id: str, presented_id: str, new_id: str, new_expires_at: float,
                             now: float) -> Session:
        def op(conn: sqlite3.Connection) -> tuple[Session, bool]:
            used = conn.execute("SELECT 1 FROM tenant_session_used_refresh WHERE refresh_id = ? AND session_id = ?",
                                (presented_id, session_id)).fetchone() is not None
            updated, reused = _rotate(self._load(conn, session_id), presented_id, used, new_id, new_expires_at, now)
            self._save(conn, updated)
            if not reused:
                conn.execute("INSERT INTO tenant_session_used_refresh VALUES (?, ?)", (presented_id, session_id))
            return updated, reused
        updated, reused = await self._run(op)      # the revocation on reuse commits before the error is raised
        if reused:
            raise RefreshReusedError("refresh token reuse detected; the session is revoked")
        return updated

    async def revoke(self, session_id: str, now: float) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            found = self._load(conn, session_id)
            if found is None or found.status is SessionStatus.REVOKED:
                return False
            self._save(conn, replace(found, status=SessionStatus.REVOKED, revoked_at=now, updated_at=now))
            return True
        return await self._run(op)

    async def list_by_subject(self, subject: str) -> list[Session]:
        rows = await self._run(lambda conn: conn.execute(
            f"SELECT {', '.join(_FIELDS)} FROM tenant_sessions WHERE subject = ? ORDER BY created_at",
            (subject,)).fetchall())
        return [_session(r) for r in rows]

    async def subject_version(self, subject: str) -> int:
        row = await self._run(lambda conn: conn.execute(
            "SELECT version FROM tenant_subject_versions WHERE subject = ?", (subject,)).fetchone())
        return 0 if row is None else int(row[0])

    async def increment_subject_version(self, subject: str) -> int:
        def op(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO tenant_subject_versions VALUES (?, 1) ON CONFLICT (subject)"
                         " DO UPDATE SET version = version + 1", (subject,))
            return int(conn.execute("SELECT version FROM tenant_subject_versions WHERE subject = ?",
                                    (subject,)).fetchone()[0])
        return await self._run(op)

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)


class SessionManager:
    """Session lifecycle over a :class:`SessionStore`: create, refresh (rotate), validate, revoke."""

    def __init__(self, store: SessionStore, *, refresh_ttl: float = 30 * 86400.0,
                 clock: Callable[[], float] = time.time) -> None:
        if refresh_ttl <= 0:
            raise ValueError("refresh_ttl must be > 0")
        self.store = store
        self._ttl = refresh_ttl
        self._clock = clock

    async def create(self, subject: str, *, tenant_id: str = "", client_id: str = "", device_id: str = "",
                     user_agent: str = "", ip: str = "", key_id: str = "",
                     attributes: Mapping[str, str] | None = None) -> IssuedSession:
        if not subject:
            raise ValueError("a session needs a subject")
        now = self._clock()
        secret = secrets.token_urlsafe(32)
        session = Session(
            session_id=secrets.token_urlsafe(16), subject=subject, tenant_id=tenant_id,
            token_version=await self.store.subject_version(subject), key_id=key_id, refresh_id=_digest(secret),
            refresh_expires_at=now + self._ttl, created_at=now, updated_at=now, client_id=client_id,
            device_id=device_id, user_agent_hash=_digest(user_agent) if user_agent else "",
            ip_hash=_digest(ip) if ip else "", attributes=MappingProxyType(dict(attributes or {})))
        await self.store.create(session)
        return IssuedSession(session, f"{session.session_id}.{secret}")

    async def refresh(self, refresh_token: str) -> IssuedSession:
        """Rotate: the presented token stops working and a new one is returned. Raises RefreshReusedError (and
        revokes the session) for a token that was already rotated, SessionRevokedError, SessionExpiredError,
        InvalidRefreshTokenError."""
        session_id, presented = _split_refresh(refresh_token)
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        session = await self.store.rotate_refresh(session_id, presented, _digest(secret), now + self._ttl, now)
        if session.token_version != await self.store.subject_version(session.subject):
            raise TokenVersionMismatchError("the subject's tokens were invalidated")
        return IssuedSession(session, f"{session.session_id}.{secret}")

    async def validate(self, session_id: str, token_version: int | None = None) -> Session:
        session = await self.store.get(session_id)
        if session.status is SessionStatus.REVOKED:
            raise SessionRevokedError("session revoked")
        if session.refresh_expires_at and self._clock() >= session.refresh_expires_at:
            raise SessionExpiredError("session expired")
        current = await self.store.subject_version(session.subject)
        if session.token_version != current or (token_version is not None and token_version != current):
            raise TokenVersionMismatchError("token version mismatch")
        return session

    async def revoke(self, session_id: str) -> bool:
        return await self.store.revoke(session_id, self._clock())

    async def revoke_subject(self, subject: str) -> int:
        """Revoke every session of ``subject`` and bump its token version (every access token it holds stops
        validating). Returns the new version."""
        for session in await self.store.list_by_subject(subject):
            await self.store.revoke(session.session_id, self._clock())
        return await self.store.increment_subject_version(subject)


def _session_id(principal: Principal) -> str:
    value = principal.claims.get("session_id") or principal.token_claims.get("session_id") \
        or principal.token_claims.get("sid")
    return value if isinstance(value, str) else ""


def session_check(manager: SessionManager, *, required: bool = True) -> Middleware:
    """After ``authenticate``: check the principal's session (claim ``session_id`` or ``sid``) is active, unexpired
    and of the subject's current token version (claim ``tv``/``token_version`` when present). Failures are Go's
    401 ``UNAUTHORIZED`` envelopes; a store outage is 503."""
    def middleware(app: ASGIApp) -> ASGIApp:
        async def step(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            principal = principal_from_scope(scope)
            message = ""
            if principal is None:
                message = "authentication required"
            else:
                sid = _session_id(principal)
                version = principal.token_claims.get("tv", principal.token_claims.get("token_version"))
                if not sid:
                    message = "authentication required" if required else ""
                else:
                    try:
                        await manager.validate(sid, version if isinstance(version, int) else None)
                    except SessionRevokedError:
                        message = "session revoked"
                    except SessionExpiredError:
                        message = "session expired"
                    except TokenVersionMismatchError:
                        message = "token version mismatch"
                    except SessionError:
                        message = "authentication required"
                    except StateUnavailableError:
                        err = APIError(status=503, code="tenant_state_unavailable",
                                       message="session state is unavailable", category=ErrorCategory.SERVER)
                        await _send(scope, send, err)
                        return
            if not message:
                await app(scope, receive, send)
                return
            await _send(scope, send, APIError(ErrorType.UNAUTHORIZED, message))
        return step
    return middleware


async def _send(scope: Scope, send: Send, err: APIError) -> None:
    body = encode_error_envelope(err, request_id_from_scope(scope))
    await send({"type": "http.response.start", "status": err.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class JWTStateStore:
    """Go's JWT state on a plumego.store ``KVStore``: ``session:jwt:revoked:<jti>`` (kept until the token's ``exp``)
    and ``session:jwt:subject_version:<sub>``. The version bump is read-then-write: two concurrent bumps may both
    write N+1, which still invalidates every token of version N (the only thing a bump must do)."""

    REVOKED = "session:jwt:revoked:"
    VERSION = "session:jwt:subject_version:"

    def __init__(self, kv: KVStore, *, clock: Callable[[], float] = time.time) -> None:
        self._kv = kv
        self._clock = clock

    async def revoke_claims(self, token_id: str, expires_at: float) -> None:
        if not token_id:
            raise ValueError("a token without a jti cannot be revoked")
        ttl = expires_at - self._clock()
        if ttl > 0:
            await self._kv.set(self.REVOKED + token_id, b"1", ttl=ttl)

    async def is_revoked(self, token_id: str) -> bool:
        return bool(token_id) and await self._kv.exists(self.REVOKED + token_id)

    async def subject_version(self, subject: str) -> int:
        raw = await self._kv.get(self.VERSION + subject)
        return int(raw) if raw else 0

    async def increment_subject_version(self, subject: str) -> int:
        version = await self.subject_version(subject) + 1
        await self._kv.set(self.VERSION + subject, str(version).encode())
        return version

    async def validate_claims(self, claims: Mapping[str, Any]) -> None:
        """Raise TokenRevokedError or TokenVersionMismatchError; a token without ``tv`` counts as version 0."""
        jti = claims.get("jti")
        if isinstance(jti, str) and await self.is_revoked(jti):
            raise TokenRevokedError("token revoked")
        subject = claims.get("sub")
        if isinstance(subject, str) and subject:
            version = claims.get("tv", claims.get("token_version", 0))
            if not isinstance(version, int) or version != await self.subject_version(subject):
                raise TokenVersionMismatchError("token version mismatch")
