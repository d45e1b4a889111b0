"""Sessions on memory, SQLite and Redis (one conformance suite): refresh rotation, reuse detection revoking the
family (also when two processes race with the same token), revocation, subject token versions, the session check
middleware, and the JWT state store on the stable SQLite KV store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from plumego.contract import Receive, Scope, Send
from plumego.middleware import Principal, with_principal
from plumego.store import SQLiteKVStore
from plumego.x.tenant import (
    InvalidRefreshTokenError,
    JWTStateStore,
    MemorySessionStore,
    RefreshReusedError,
    SessionExpiredError,
    SessionManager,
    SessionRevokedError,
    SessionStatus,
    SessionStore,
    TokenRevokedError,
    TokenVersionMismatchError,
    open_session_store,
    session_check,
)

from .conftest import FakeClock


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.services)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sessions.db'}"
    else:
        base, prefix = request.getfixturevalue("redis_namespace")
        url = f"{base}{'&' if '?' in base else '?'}prefix={prefix}"
    opened = open_session_store(url)
    yield opened
    await opened.close()  # type: ignore[attr-defined]


async def test_rotation_and_reuse_revokes_the_family(store: SessionStore) -> None:
    manager = SessionManager(store, refresh_ttl=3600, clock=FakeClock())
    issued = await manager.create("ada", tenant_id="acme", user_agent="ua", ip="10.0.0.1")
    assert issued.session.user_agent_hash and "10.0.0.1" not in repr(issued.session)
    second = await manager.refresh(issued.refresh_token)
    third = await manager.refresh(second.refresh_token)
    assert third.session.previous_refresh_id == second.session.refresh_id
    with pytest.raises(RefreshReusedError):
        await manager.refresh(issued.refresh_token)              # an old token: reuse
    assert (await store.get(issued.session.session_id)).status is SessionStatus.REVOKED
    with pytest.raises(SessionRevokedError):
        await manager.refresh(third.refresh_token)               # the whole family is dead
    with pytest.raises(SessionRevokedError):
        await manager.validate(issued.session.session_id)


async def test_bad_refresh_tokens_are_refused_without_revoking(store: SessionStore) -> None:
    manager = SessionManager(store, clock=FakeClock())
    issued = await manager.create("ada")
    for bad in ("", "nodot", f"{issued.session.session_id}.guess", "unknown.secret", "." * 600):
        with pytest.raises(InvalidRefreshTokenError):
            await manager.refresh(bad)
    assert (await manager.validate(issued.session.session_id)).status is SessionStatus.ACTIVE


async def test_expiry_revocation_and_subject_versions(store: SessionStore) -> None:
    clock = FakeClock()
    manager = SessionManager(store, refresh_ttl=60, clock=clock)
    one, two = await manager.create("ada"), await manager.create("ada")
    assert await manager.revoke(one.session.session_id) and not await manager.revoke(one.session.session_id)
    with pytest.raises(SessionRevokedError):
        await manager.validate(one.session.session_id)
    assert (await manager.validate(two.session.session_id, token_version=0)).subject == "ada"
    assert await manager.revoke_subject("ada") == 1
    with pytest.raises((SessionRevokedError, TokenVersionMismatchError)):
        await manager.validate(two.session.session_id)
    fresh = await manager.create("ada")
    assert fresh.session.token_version == 1
    with pytest.raises(TokenVersionMismatchError):
        await manager.validate(fresh.session.session_id, token_version=0)
    clock.advance(61)
    with pytest.raises(SessionExpiredError):
        await manager.validate(fresh.session.session_id)
    with pytest.raises(SessionExpiredError):
        await manager.refresh(fresh.refresh_token)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("redis", marks=pytest.mark.services)])
async def test_concurrent_refresh_with_one_token_lets_one_win(backend: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 's.db'}"
    else:
        base, prefix = request.getfixturevalue("redis_namespace")
        url = f"{base}{'&' if '?' in base else '?'}prefix={prefix}"
    a, b = open_session_store(url), open_session_store(url)          # two connections, as two processes have
    try:
        issued = await SessionManager(a).create("ada")
        results = await asyncio.gather(SessionManager(a).refresh(issued.refresh_token),
                                       SessionManager(b).refresh(issued.refresh_token), return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        assert any(isinstance(r, RefreshReusedError) for r in results)           # the loser is a reuse
        assert (await a.get(issued.session.session_id)).status is SessionStatus.REVOKED
    finally:
        await a.close()  # type: ignore[attr-defined]
        await b.close()  # type: ignore[attr-defined]


async def test_session_check_middleware(store: SessionStore) -> None:
    manager = SessionManager(store)
    issued = await manager.create("ada")

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    checked = session_check(manager)(inner)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        sid = dict(scope["headers"]).get(b"x-sid")
        if sid is not None:
            with_principal(scope, Principal(subject="ada", claims={"session_id": sid.decode()}))
        await checked(scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.get("/", headers={"x-sid": issued.session.session_id})).status_code == 200
        r = await client.get("/")
        assert r.status_code == 401 and r.json()["error"]["message"] == "authentication required"
        assert (await client.get("/", headers={"x-sid": "nope"})).status_code == 401
        await manager.revoke(issued.session.session_id)
        r = await client.get("/", headers={"x-sid": issued.session.session_id})
        assert r.status_code == 401 and r.json()["error"]["message"] == "session revoked"
        assert r.json()["error"]["code"] == "UNAUTHORIZED"


async def test_jwt_state_store_on_the_stable_kv(tmp_path: Path) -> None:
    clock = FakeClock()
    kv = SQLiteKVStore(tmp_path / "kv.db")
    jwt_state = JWTStateStore(kv, clock=clock)
    claims = {"jti": "t1", "sub": "ada", "exp": clock.now + 300}
    await jwt_state.validate_claims(claims)
    await jwt_state.revoke_claims("t1", clock.now + 300)
    assert await kv.get("session:jwt:revoked:t1") == b"1"
    with pytest.raises(TokenRevokedError):
        await jwt_state.validate_claims(claims)
    await jwt_state.validate_claims({"jti": "t2", "sub": "ada"})
    assert await jwt_state.increment_subject_version("ada") == 1
    assert await kv.get("session:jwt:subject_version:ada") == b"1"
    with pytest.raises(TokenVersionMismatchError):
        await jwt_state.validate_claims({"jti": "t2", "sub": "ada"})
    await jwt_state.validate_claims({"jti": "t3", "sub": "ada", "tv": 1})
    await jwt_state.revoke_claims("old", clock.now - 1)                    # already expired: nothing to keep
    assert not await jwt_state.is_revoked("old")
    with pytest.raises(ValueError):
        await jwt_state.revoke_claims("", clock.now + 1)
    await asyncio.to_thread(kv.close_sync)
