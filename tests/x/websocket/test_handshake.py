"""Every handshake check over a real uvicorn, decided before accept, each refusal the envelope with its stable code
and status: origin ('*' is not allow-all), room names, JWT required by default, ?token= only when allowed, room
passwords in X-WebSocket-Room-Password, authorizer, hub and room capacity, and a stopped hub."""

from __future__ import annotations

import time

import pytest

from plumego.core import App
from plumego.health import HealthChecker
from plumego.security import PasswordHasher, SigningKey, encode_jwt
from plumego.x.websocket import (
    DialError,
    RoomPasswords,
    Server,
    UserInfo,
    WebSocketConfig,
    dial,
    extract_user_info,
    hs256_auth,
)

from .served import serving

SECRET = b"s" * 32
FAST = PasswordHasher(pbkdf2_cost=100_000)


def token(sub: str = "ada", *, secret: bytes = SECRET, exp: float | None = None, **claims: object) -> str:
    key = SigningKey(kid="ws", alg="HS256", secret=secret)
    return encode_jwt({"sub": sub, "exp": exp if exp is not None else time.time() + 60, **claims}, key)


def app_with(config: WebSocketConfig) -> tuple[App, Server]:
    app = App()
    server = Server(config)
    server.register_routes(app)
    app.add_component("websocket", server)
    return app, server


async def refused(url: str, **options: object) -> DialError:
    with pytest.raises(DialError) as info:
        conn = await dial(url, **options)  # type: ignore[arg-type]
        await conn.close()
    return info.value


def test_config_refuses_unsafe_defaults() -> None:
    with pytest.raises(ValueError, match="JWT authenticator is required"):
        WebSocketConfig().validate()
    with pytest.raises(ValueError, match="not allow-all"):
        WebSocketConfig(auth=hs256_auth(SECRET), allowed_origins=["*"]).validate()
    with pytest.raises(ValueError, match="must not be the JWT secret"):
        WebSocketConfig(auth=hs256_auth(SECRET), broadcast_secret=SECRET).validate()
    with pytest.raises(ValueError, match="room name"):
        WebSocketConfig(allow_unauthenticated=True, default_room="bad room").validate()
    with pytest.raises(ValueError, match="password"):
        RoomPasswords({"vip": "short"}, hasher=FAST)


def test_user_info_from_claims() -> None:
    user = extract_user_info({"sub": 7, "name": "Ada", "email": "a@x", "roles": "admin, ops"})
    assert user == UserInfo("7", "Ada", "a@x", ("admin", "ops"), user.claims)


async def test_jwt_is_required_and_checked() -> None:
    app, _ = app_with(WebSocketConfig(auth=hs256_auth(SECRET)))
    async with serving(app) as base:
        url = base + "/ws"
        err = await refused(url)
        assert (err.status, err.code) == (401, "WS_TOKEN_REQUIRED")
        err = await refused(url + f"?token={token()}")
        assert (err.status, err.code) == (401, "WS_QUERY_TOKEN_NOT_ALLOWED")
        for bad in (token(secret=b"x" * 32), token(exp=time.time() - 60), "not.a.jwt"):
            err = await refused(url, token=bad)
            assert (err.status, err.code) == (401, "WS_INVALID_TOKEN")
        async with await dial(url, token=token("grace")) as ws:
            await ws.send_text("hi")
            assert await ws.receive() == "hi"                  # the default room fan-out echoes to the sender


async def test_query_token_when_allowed_and_anonymous_when_allowed() -> None:
    app, server = app_with(WebSocketConfig(auth=hs256_auth(SECRET), allow_query_token=True))
    async with serving(app) as base:
        async with await dial(base + f"/ws?token={token('q')}", room="r1"):
            assert [c.user.id for c in server.hub.connections("r1") if c.user] == ["q"]
    app, server = app_with(WebSocketConfig(allow_unauthenticated=True))
    async with serving(app) as base:
        async with await dial(base + "/ws", room="open"):
            assert [c.user for c in server.hub.connections("open")] == [None]


async def test_origin_policy() -> None:
    app, _ = app_with(WebSocketConfig(allow_unauthenticated=True, allowed_origins=["https://app.example"]))
    async with serving(app) as base:
        err = await refused(base + "/ws", origin="https://evil.example")
        assert (err.status, err.code) == (403, "WS_ORIGIN_NOT_ALLOWED")
        async with await dial(base + "/ws", origin="https://APP.example/"):
            pass
        async with await dial(base + "/ws"):                    # no Origin: not a browser, allowed
            pass
    app, _ = app_with(WebSocketConfig(allow_unauthenticated=True))   # empty list: any Origin is refused
    async with serving(app) as base:
        err = await refused(base + "/ws", origin="https://app.example")
        assert err.code == "WS_ORIGIN_NOT_ALLOWED"
    app, _ = app_with(WebSocketConfig(allow_unauthenticated=True, allow_all_origins=True))
    async with serving(app) as base:
        async with await dial(base + "/ws", origin="https://anything.example"):
            pass


async def test_rooms_passwords_authorizer_and_capacity() -> None:
    def only_admins_in_ops(room: str, user: UserInfo | None, scope: object) -> bool:
        return room != "ops" or (user is not None and "admin" in user.roles)

    passwords = RoomPasswords({"vip": "Secret123"}, hasher=FAST)
    app, server = app_with(WebSocketConfig(auth=hs256_auth(SECRET), room_passwords=passwords,
                                           room_authorizer=only_admins_in_ops, max_room_connections=1,
                                           max_connections=3))
    async with serving(app) as base:
        url, tok = base + "/ws", token()
        for room in ("bad room", "x" * 129, "ünicode"):
            err = await refused(url, token=tok, room=room)
            assert (err.status, err.code) == (400, "WS_INVALID_ROOM")
        err = await refused(url, token=tok, room="vip")
        assert (err.status, err.code) == (401, "WS_ROOM_PASSWORD_REQUIRED")
        err = await refused(url, token=tok, room="vip", room_password="Wrong1234")
        assert (err.status, err.code) == (403, "WS_ROOM_PASSWORD_INVALID")
        err = await refused(url, token=tok, room="ops")
        assert (err.status, err.code) == (403, "WS_ROOM_FORBIDDEN")
        async with await dial(url, token=tok, room="vip", room_password="Secret123"):
            err = await refused(url, token=tok, room="vip", room_password="Secret123")
            assert (err.status, err.code) == (503, "WS_ROOM_FULL")
            async with await dial(url, token=token(roles=["admin"]), room="ops"), \
                    await dial(url, token=tok, room="a"):
                err = await refused(url, token=tok, room="b")
                assert (err.status, err.code) == (503, "WS_HUB_FULL")
        assert server.refused == 8


async def test_a_stopped_hub_refuses_and_open_connections_get_going_away() -> None:
    app, server = app_with(WebSocketConfig(allow_unauthenticated=True))
    async with serving(app) as base:
        ws = await dial(base + "/ws", room="r")
        await server.hub.broadcast_room("r", "last words")
        await server.stop()
        assert await ws.receive() == "last words"                # flushed before the close
        with pytest.raises(Exception) as closed:
            await ws.receive()
        assert getattr(closed.value, "code", None) == 1001
        err = await refused(base + "/ws")
        assert (err.status, err.code) == (503, "WS_HUB_STOPPED")
    report = await HealthChecker([server.health_check()]).run()
    assert report.status.value != "healthy" and "stopped" in str(report.to_dict())
