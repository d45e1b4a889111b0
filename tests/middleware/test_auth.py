"""auth: bearer JWT and API-key authentication, per-route/group authorization, 401/403 envelopes."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import jwt as pyjwt
import pytest
import uvicorn
import websockets

from plumego.contract import APIError, ErrorType, JSONResponse, Message, Request, Response, Scope
from plumego.core import App
from plumego.middleware import (
    SCOPE_PRINCIPAL,
    APIKeyAuthenticator,
    Authenticator,
    BearerJWTAuthenticator,
    ExpiredCredentialsError,
    InvalidCredentialsError,
    Principal,
    authenticate,
    authorize,
    extract_bearer_token,
    principal_from_scope,
    request_id,
    with_principal,
)
from plumego.security import JWTManager, SigningKey

from mw_harness import call, http_scope, text_app


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def go_401(message: str, reason: str) -> dict[str, Any]:
    """Go's 401: type unauthorized_request, code UNAUTHORIZED; plumego adds the precise reason in details."""
    return {
        "code": "UNAUTHORIZED",
        "message": message,
        "category": "auth_error",
        "type": "unauthorized_request",
        "details": {"reason": reason},
    }


UNAUTHORIZED = go_401("authentication required", "missing_credentials")
INVALID = go_401("invalid token", "invalid_token")
EXPIRED = go_401("token expired", "expired_token")
FORBIDDEN = {"code": "FORBIDDEN", "message": "access forbidden", "category": "auth_error", "type": "forbidden_request"}


async def whoami(request: Request) -> Response:
    principal = principal_from_scope(request.scope)
    if principal is None:
        return JSONResponse({"subject": None})
    return JSONResponse(
        {
            "subject": principal.subject,
            "tenant": principal.tenant_id,
            "roles": list(principal.roles),
            "scopes": list(principal.scopes),
            "claims": dict(principal.claims),
        }
    )


def build(manager: JWTManager) -> App:
    """Optional authentication on the app; authorization per route and per group, as a service would wire it."""
    app = App()
    app.use(request_id(), authenticate(BearerJWTAuthenticator(manager), optional=True, realm="api"))
    app.get("/public", whoami)
    app.get("/me", whoami, middleware=[authorize(realm="api")])
    admin = app.group("/admin", authorize(any_roles=["admin"], realm="api"))
    admin.get("/stats", whoami)
    app.get("/reports", whoami, middleware=[authorize(all_scopes=["reports:read", "reports:export"])])

    def same_tenant(principal: Principal, scope: Scope) -> bool:
        return bool(principal.tenant_id == scope["path_params"].get("tenant"))

    app.get("/tenants/:tenant/items", whoami, middleware=[authorize(check=same_tenant)])
    return app


def client(app: App) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(res: httpx.Response, status: int, error: dict[str, Any], request_id: str | None = None) -> None:
    assert res.status_code == status
    assert res.headers["content-type"] == "application/json"
    body = json.loads(res.content)
    assert body["error"] == error
    if request_id is not None:
        assert body["request_id"] == request_id


async def test_public_route_runs_without_credentials() -> None:
    async with client(build(JWTManager(clock=Clock()))) as c:
        res = await c.get("/public")
    assert res.status_code == 200 and res.json() == {"subject": None}
    assert "www-authenticate" not in res.headers


async def test_missing_credentials_on_protected_route_is_401_with_challenge() -> None:
    async with client(build(JWTManager(clock=Clock()))) as c:
        res = await c.get("/me", headers={"X-Request-ID": "auth-1"})
        basic = await c.get("/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_error(res, 401, UNAUTHORIZED, "auth-1")
    assert res.headers["www-authenticate"] == 'Bearer realm="api"'
    assert_error(basic, 401, UNAUTHORIZED)  # another scheme is "no bearer credentials", not a bad token
    assert basic.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_manager_token_authenticates_and_fills_the_principal() -> None:
    manager = JWTManager(clock=Clock())
    token = manager.issue("alice", roles=["user"], permissions=["items:read"], extra={"tenant_id": "t1"})
    async with client(build(manager)) as c:
        res = await c.get("/me", headers=bearer(token))
    assert res.status_code == 200
    body = res.json()
    assert body["subject"] == "alice" and body["tenant"] == "t1"
    assert body["roles"] == ["user"] and body["scopes"] == ["items:read"]
    active = manager.keys.active
    assert active is not None
    assert body["claims"]["token_type"] == "access" and body["claims"]["key_id"] == active.kid
    assert len(body["claims"]["token_id"]) == 22


async def test_pyjwt_token_is_accepted() -> None:
    clock = Clock()
    manager = JWTManager(clock=clock)
    key = manager.keys.active
    assert key is not None and key.secret is not None
    now = int(clock.now)
    payload: dict[str, Any] = {
        "sub": "bob",
        "token_type": "access",
        "iss": "plumego",
        "aud": "plumego-client",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "authorization": {"roles": ["Admin"]},
    }
    token = pyjwt.encode(payload, key.secret, algorithm="HS256", headers={"kid": key.kid})
    async with client(build(manager)) as c:
        me = await c.get("/me", headers=bearer(token))
        stats = await c.get("/admin/stats", headers=bearer(token))
    assert me.status_code == 200 and me.json()["subject"] == "bob"
    assert stats.status_code == 200 and stats.json()["roles"] == ["Admin"]  # roles compare case-insensitively


async def test_invalid_tokens_are_401_invalid_token_even_on_optional_routes() -> None:
    clock = Clock()
    manager = JWTManager(clock=clock)
    stranger = SigningKey.generate("HS256", kid=manager.keys.active.kid if manager.keys.active else "k")
    now = int(clock.now)
    forged_payload: dict[str, Any] = {"sub": "eve", "token_type": "access", "iss": "plumego", "aud": "plumego-client"}
    forged_payload.update(iat=now, nbf=now, exp=now + 60)
    assert stranger.secret is not None
    forged = pyjwt.encode(forged_payload, stranger.secret, algorithm="HS256", headers={"kid": stranger.kid})
    refresh = manager.issue("alice", "refresh")
    unsigned = pyjwt.encode(forged_payload, None, algorithm="none")  # type: ignore[arg-type]
    cases = ["garbage", forged, refresh, unsigned, "a.b.c"]
    async with client(build(manager)) as c:
        for token in cases:
            for path in ("/me", "/public"):
                res = await c.get(path, headers=bearer(token))
                assert_error(res, 401, INVALID)
                assert res.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
        malformed = await c.get("/me", headers={"Authorization": "Bearer two tokens"})
        empty = await c.get("/me", headers={"Authorization": "Bearer "})
    assert_error(malformed, 401, INVALID)
    assert_error(empty, 401, INVALID)


async def test_expired_token_is_401_expired_token() -> None:
    clock = Clock()
    manager = JWTManager(clock=clock)
    token = manager.issue("alice")
    clock.now += 15 * 60 + 6  # past exp plus the 5 s skew
    async with client(build(manager)) as c:
        res = await c.get("/me", headers=bearer(token))
    assert_error(res, 401, EXPIRED)
    assert res.headers["www-authenticate"] == (
        'Bearer realm="api", error="invalid_token", error_description="token expired"'
    )


async def test_group_authorization_403_for_the_wrong_role() -> None:
    manager = JWTManager(clock=Clock())
    user = manager.issue("alice", roles=["user"])
    admin = manager.issue("root", roles=["admin", "user"])
    async with client(build(manager)) as c:
        denied = await c.get("/admin/stats", headers={**bearer(user), "X-Request-ID": "authz-1"})
        allowed = await c.get("/admin/stats", headers=bearer(admin))
        anonymous = await c.get("/admin/stats")
    assert_error(denied, 403, FORBIDDEN, "authz-1")
    assert "www-authenticate" not in denied.headers
    assert allowed.status_code == 200 and allowed.json()["subject"] == "root"
    assert_error(anonymous, 401, UNAUTHORIZED)


async def test_all_scopes_and_custom_check() -> None:
    manager = JWTManager(clock=Clock())
    partial = manager.issue("a", permissions=["reports:read"])
    full = manager.issue("b", permissions=["REPORTS:READ", "reports:export"], extra={"tenant_id": "acme"})
    async with client(build(manager)) as c:
        assert (await c.get("/reports", headers=bearer(partial))).status_code == 403
        assert (await c.get("/reports", headers=bearer(full))).status_code == 200
        assert (await c.get("/tenants/acme/items", headers=bearer(full))).status_code == 200
        other = await c.get("/tenants/globex/items", headers=bearer(full))
    assert_error(other, 403, FORBIDDEN)


async def test_required_authentication_rejects_before_the_app() -> None:
    ran: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        ran.append("app")
        await text_app()(scope, receive, send)

    wrapped = authenticate(BearerJWTAuthenticator(JWTManager(clock=Clock())))(app)
    res = await call(wrapped, http_scope())
    assert res.status == 401 and ran == []
    assert res.header("www-authenticate") == "Bearer"
    assert res.json() == {"error": UNAUTHORIZED}


async def test_api_key_authenticator() -> None:
    ops = Principal("ops-bot", roles=("ops",))
    ci = Principal("ci", scopes=("deploy",))
    authn = APIKeyAuthenticator({"k-ops-123": ops, "k-ci-456": ci})
    assert isinstance(authn, Authenticator)
    seen: list[Principal | None] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(principal_from_scope(scope))
        await text_app()(scope, receive, send)

    wrapped = authenticate(authn, realm="ops")(app)
    ok = await call(wrapped, http_scope(headers=[(b"x-api-key", b"k-ci-456")]))
    assert ok.status == 200 and seen == [ci]
    bad = await call(wrapped, http_scope(headers=[(b"x-api-key", b"k-ci-457")]))
    assert bad.status == 401 and bad.json() == {"error": INVALID}
    assert bad.header("www-authenticate") == 'Bearer realm="ops", error="invalid_token"'
    missing = await call(wrapped, http_scope())
    assert missing.status == 401 and missing.json() == {"error": UNAUTHORIZED}
    assert seen == [ci]
    with pytest.raises(ValueError):
        APIKeyAuthenticator({"": ops})
    with pytest.raises(ValueError):
        APIKeyAuthenticator({})


class RaisingAuthenticator:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def authenticate(self, scope: Scope) -> Principal | None:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (InvalidCredentialsError("nope"), 401, "UNAUTHORIZED"),
        (ExpiredCredentialsError("old"), 401, "UNAUTHORIZED"),
        (APIError(ErrorType.UNAVAILABLE, "identity provider down"), 503, "SERVICE_UNAVAILABLE"),
    ],
)
async def test_authenticator_errors_map_to_envelopes(exc: Exception, status: int, code: str) -> None:
    res = await call(authenticate(RaisingAuthenticator(exc))(text_app()), http_scope())
    assert res.status == status and res.json()["error"]["code"] == code
    assert (res.header("www-authenticate") is not None) is (status == 401)


async def test_websocket_refusal_closes_with_policy_violation() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def ws(scope: Scope, receive: Any, send: Any) -> None:
        raise AssertionError("must not run")

    scope = {"type": "websocket", "path": "/ws", "headers": []}
    await authenticate(BearerJWTAuthenticator(JWTManager(clock=Clock())))(ws)(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    sent.clear()
    with_principal(scope, Principal("u"))
    await authorize(any_roles=["admin"])(ws)(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        (b"Bearer abc.def.ghi", "abc.def.ghi"),
        (b"bearer abc", "abc"),
        (b"BEARER\tabc", "abc"),
        (b"Bearer   abc  ", "abc"),
        (b"Basic abc", None),
        (b"Bearerabc", None),
        (b"Token abc", None),
    ],
)
def test_extract_bearer_token(header: bytes | None, expected: str | None) -> None:
    headers = [(b"authorization", header)] if header is not None else []
    assert extract_bearer_token(http_scope(headers=headers)) == expected


@pytest.mark.parametrize("header", [b"Bearer", b"Bearer ", b"Bearer a b", b"Bearer a\tb"])
def test_extract_bearer_token_rejects_malformed(header: bytes) -> None:
    with pytest.raises(InvalidCredentialsError):
        extract_bearer_token(http_scope(headers=[(b"authorization", header)]))


def test_principal_is_immutable_and_scope_carrier_is_explicit() -> None:
    claims = {"k": "v"}
    principal = Principal("s", roles=("a",), claims=claims)
    claims["k"] = "changed"
    assert principal.claims["k"] == "v"
    with pytest.raises(TypeError):
        principal.claims["k"] = "x"  # type: ignore[index]
    with pytest.raises(ValueError):
        Principal("")
    scope: dict[str, Any] = {}
    assert principal_from_scope(scope) is None
    scope[SCOPE_PRINCIPAL] = "not a principal"
    assert principal_from_scope(scope) is None
    with_principal(scope, principal)
    assert SCOPE_PRINCIPAL == "plumego.principal" and principal_from_scope(scope) is principal


def test_realm_and_scheme_are_validated() -> None:
    authn = BearerJWTAuthenticator(JWTManager(clock=Clock()))
    with pytest.raises(ValueError):
        authenticate(authn, realm='a"b')
    with pytest.raises(ValueError):
        authorize(realm="a\r\nb")
    with pytest.raises(ValueError):
        authenticate(authn, challenge_scheme="Bearer x")


async def test_under_uvicorn_bearer_http_and_websocket_refusal() -> None:
    manager = JWTManager()
    token = manager.issue("carol", roles=["admin"])

    async def inner(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            principal = principal_from_scope(scope)
            await send({"type": "websocket.send", "text": principal.subject if principal else "-"})
            await send({"type": "websocket.close", "code": 1000})
            return
        await text_app(b"secret")(scope, receive, send)

    app = authenticate(BearerJWTAuthenticator(manager), realm="api")(authorize(any_roles=["admin"])(inner))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            denied = await c.get("/x")
            ok = await c.get("/x", headers=bearer(token))
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == 'Bearer realm="api"'
        assert ok.status_code == 200 and ok.text == "secret"
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws"):
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws", additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            assert await ws.recv() == "carol"
    finally:
        server.should_exit = True
        await task
