"""The websocket server: configuration, the upgrade endpoint (every handshake check decided before accept), the
read loop, the admin broadcast route with its own secret, route registration and the lifecycle component.

Handshake order (each refusal is the error envelope with a stable ``WS_*`` code and its status, sent through the
ASGI denial response before any accept, plus one log line): origin -> room name -> bearer token -> room password
-> room authorizer -> hub capacity. Imports the standard library and plumego.contract/log/security.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorResponse,
    ErrorType,
    Handler,
    Receive,
    Request,
    Response,
    Scope,
    Send,
)
from plumego.health import ComponentCheck
from plumego.log import DiscardLogger, StructuredLogger
from plumego.security import TokenError

from ._auth import RoomAuthorizer, RoomPasswords, TokenAuthenticator, UserInfo
from ._backplane import Backplane, open_backplane
from ._conn import Conn, ConnClosed, ConnLimits, SendPolicy
from ._hub import BroadcastResult, Hub, HubFull, HubMetrics, HubStopped, RoomFull
from ._protocol import (
    CLOSE_INTERNAL_ERROR,
    MessageValidation,
    handshake_error,
    sanitize_for_logging,
    validate_room_name,
)

__all__ = ["MessageHandler", "RouteRegistrar", "Server", "WebSocketConfig"]

ROOM_PASSWORD_HEADER = "x-websocket-room-password"
MessageHandler = Callable[[Conn, "str | bytes", Hub], Awaitable[None]]


class RouteRegistrar(Protocol):
    """What :meth:`Server.register_routes` needs: a plumego App, Router or RouteGroup."""

    def websocket(self, path: str, app: ASGIApp, *, name: str = "") -> Any: ...

    def post(self, path: str, handler: Handler, **options: Any) -> Any: ...


@dataclass(frozen=True)
class WebSocketConfig:
    """Go's ``WebSocketConfig`` defaults: send queue 256, send timeout 200 ms, BLOCK policy, write timeout 10 s,
    messages up to 1 MiB, UTF-8 required and control characters refused; room from ``?room=`` (default
    ``default``); **a JWT is required** (``auth``) unless ``allow_unauthenticated``; ``?token=`` only with
    ``allow_query_token``; an empty ``allowed_origins`` refuses any request that sends ``Origin`` and ``"*"`` is
    not allow-all (``allow_all_origins`` is); the admin broadcast route is off unless ``broadcast_secret`` (or
    ``broadcast_authorizer``) is set, and its secret may not be the JWT secret. ``backplane`` is a URL
    (``redis://``, ``nats://``, ``memory://``) or a :class:`Backplane`; without one a broadcast stays in this
    process."""

    path: str = "/ws"
    auth: TokenAuthenticator | None = None
    allow_unauthenticated: bool = False
    allow_query_token: bool = False
    allowed_origins: Sequence[str] = ()
    allow_all_origins: bool = False
    default_room: str = "default"
    room_passwords: RoomPasswords | None = None
    room_authorizer: RoomAuthorizer | None = None
    subprotocols: Sequence[str] = ()
    max_connections: int = 0
    max_rooms: int = 0
    max_room_connections: int = 0
    send_queue: int = 256
    send_timeout: float = 0.2
    send_policy: SendPolicy = SendPolicy.BLOCK
    write_timeout: float = 10.0
    validation: MessageValidation = field(default_factory=MessageValidation)
    on_message: MessageHandler | None = None
    broadcast_path: str = "/_admin/broadcast"
    broadcast_secret: str | bytes | None = None
    broadcast_authorizer: Callable[[Request], Awaitable[bool] | bool] | None = None
    broadcast_max_bytes: int = 1 << 20
    backplane: str | Backplane | None = None
    drain_timeout: float = 5.0

    def validate(self) -> None:
        if self.auth is None and not self.allow_unauthenticated:
            raise ValueError("websocket: a JWT authenticator is required (auth=hs256_auth(secret) or JWTAuth(...)); "
                             "pass allow_unauthenticated=True to accept anonymous connections")
        if "*" in self.allowed_origins:
            raise ValueError("websocket: '*' in allowed_origins is not allow-all; set allow_all_origins=True")
        validate_room_name(self.default_room)
        if not self.path.startswith("/") or not self.broadcast_path.startswith("/"):
            raise ValueError("websocket: path and broadcast_path must start with '/'")
        if self.broadcast_max_bytes < 1 or self.drain_timeout < 0:
            raise ValueError("websocket: broadcast_max_bytes must be positive and drain_timeout not negative")
        if self.broadcast_secret is not None:
            secret = _bytes(self.broadcast_secret)
            if len(secret) < 16:
                raise ValueError("websocket: broadcast_secret must be at least 16 bytes")
            trusted = getattr(self.auth, "secrets", [])
            if any(hmac.compare_digest(secret, s) for s in trusted):
                raise ValueError("websocket: broadcast_secret must not be the JWT secret")
        ConnLimits(self.send_queue, self.send_timeout, self.send_policy, self.write_timeout, self.validation)


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class Server:
    """Rooms and a hub over ASGI websockets. ``register_routes(app)`` mounts the upgrade endpoint (and the admin
    broadcast route when configured); ``app.add_component("websocket", server)`` starts the backplane and drains
    the hub at shutdown (flush, then 1001 going away)."""

    def __init__(self, config: WebSocketConfig | None = None, *, logger: StructuredLogger | None = None,
                 hub: Hub | None = None) -> None:
        self.config = config if config is not None else WebSocketConfig()
        self.config.validate()
        self._log = logger or DiscardLogger()
        backplane = self.config.backplane
        if isinstance(backplane, str):
            backplane = open_backplane(backplane, logger=self._log)
        self.hub = hub or Hub(max_connections=self.config.max_connections, max_rooms=self.config.max_rooms,
                              max_room_connections=self.config.max_room_connections, backplane=backplane,
                              logger=self._log)
        self._origins = {_normalize_origin(o) for o in self.config.allowed_origins}
        self._limits = ConnLimits(self.config.send_queue, self.config.send_timeout, self.config.send_policy,
                                  self.config.write_timeout, self.config.validation)
        self.refused = 0

    # --- wiring -------------------------------------------------------------------------------
    def register_routes(self, router: RouteRegistrar) -> None:
        router.websocket(self.config.path, self)
        if self.config.broadcast_secret is not None or self.config.broadcast_authorizer is not None:
            router.post(self.config.broadcast_path, self.admin_broadcast)

    async def start(self) -> None:
        await self.hub.start()

    async def stop(self) -> None:
        await self.hub.stop(self.config.drain_timeout)

    async def ready(self) -> None:
        await self.hub.ready()

    def metrics(self) -> HubMetrics:
        return self.hub.metrics()

    def health_check(self, name: str = "websocket", *, critical: bool = True) -> ComponentCheck:
        """A plumego.health check: unhealthy while the hub is stopped or its backplane is disconnected."""

        async def check() -> None:
            await self.hub.ready()

        return ComponentCheck(name, check, critical=critical)

    # --- the upgrade --------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await ErrorResponse(APIError(ErrorType.BAD_REQUEST, "websocket upgrade required",
                                         code="WS_UPGRADE_REQUIRED"))(scope, receive, send)
            return
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        try:
            conn = await self._handshake(scope, receive, send)
        except APIError as err:
            self.refused += 1
            client = scope.get("client")
            self._log.info("websocket handshake refused", {
                "code": err.code, "status": err.status, "path": scope.get("path", ""),
                "client": client[0] if client else ""})
            await ErrorResponse(err)(scope, receive, send)
            return
        accept: dict[str, Any] = {"type": "websocket.accept"}
        chosen = self._subprotocol(scope)
        if chosen:
            accept["subprotocol"] = chosen
        try:
            await send(accept)
        except OSError:
            self.hub.leave(conn)
            return
        conn.start_writer()
        try:
            await self._serve(conn)
        finally:
            self.hub.leave(conn)
            await conn.close()

    def _subprotocol(self, scope: Scope) -> str | None:
        offered = [p for p in scope.get("subprotocols") or () if p in self.config.subprotocols]
        return offered[0] if offered else None

    async def _handshake(self, scope: Scope, receive: Receive, send: Send) -> Conn:
        cfg = self.config
        origin = _header(scope, b"origin")
        if origin is not None and not cfg.allow_all_origins and _normalize_origin(origin) not in self._origins:
            raise handshake_error("WS_ORIGIN_NOT_ALLOWED", "origin not allowed")
        query = parse_qs(bytes(scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True)
        room = (query.get("room") or [cfg.default_room])[0]
        try:
            validate_room_name(room)
        except ValueError as exc:
            raise handshake_error("WS_INVALID_ROOM", str(exc)) from None
        user = self._authenticate(scope, query)
        if cfg.room_passwords is not None and cfg.room_passwords.protected(room):
            password = _header(scope, ROOM_PASSWORD_HEADER.encode()) or ""
            if not password:
                raise handshake_error("WS_ROOM_PASSWORD_REQUIRED",
                                      "room needs a password in the X-WebSocket-Room-Password header")
            if not await cfg.room_passwords.verify(room, password):
                raise handshake_error("WS_ROOM_PASSWORD_INVALID", "room password is wrong")
        if cfg.room_authorizer is not None:
            allowed = cfg.room_authorizer(room, user, scope)
            if not isinstance(allowed, bool):
                allowed = await allowed
            if not allowed:
                raise handshake_error("WS_ROOM_FORBIDDEN", "not allowed in this room")
        conn = Conn(send, receive, room=room, user=user, limits=self._limits)
        try:
            self.hub.try_join(conn)
        except HubStopped:
            raise handshake_error("WS_HUB_STOPPED", "server is shutting down") from None
        except RoomFull as exc:
            raise handshake_error("WS_ROOM_FULL", str(exc)) from None
        except HubFull as exc:
            raise handshake_error("WS_HUB_FULL", str(exc)) from None
        return conn

    def _authenticate(self, scope: Scope, query: dict[str, list[str]]) -> UserInfo | None:
        cfg = self.config
        token = ""
        header = _header(scope, b"authorization")
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() == "bearer":
                token = value.strip()
        if not token and "token" in query:
            if not cfg.allow_query_token:
                raise handshake_error("WS_QUERY_TOKEN_NOT_ALLOWED",
                                      "?token= is not accepted here; send Authorization: Bearer <token>")
            token = query["token"][0]
        if not token:
            if cfg.allow_unauthenticated:
                return None
            raise handshake_error("WS_TOKEN_REQUIRED", "a bearer token is required")
        if cfg.auth is None:        # anonymous server: a token it cannot check grants nothing
            return None
        try:
            return cfg.auth.authenticate(token)
        except TokenError as exc:
            raise handshake_error("WS_INVALID_TOKEN", f"invalid token: {exc}") from None

    # --- the connection -----------------------------------------------------------------------
    async def _serve(self, conn: Conn) -> None:
        handler = self.config.on_message or room_fanout
        while True:
            try:
                data = await conn.receive()
            except ConnClosed as closed:
                if closed.code not in (1000, 1001, 1005, 1012):
                    self._log.info("websocket closed", {"conn": conn.id, "room": conn.room, "code": closed.code,
                                                        "reason": closed.reason})
                return
            try:
                await handler(conn, data, self.hub)
            except Exception as exc:
                self._log.error("websocket message handler failed", {
                    "conn": conn.id, "room": conn.room, "error": repr(exc),
                    "message": sanitize_for_logging(data)})
                await conn.close(CLOSE_INTERNAL_ERROR, "internal error")
                return

    # --- admin broadcast ----------------------------------------------------------------------
    async def admin_broadcast(self, request: Request) -> Response:
        """POST ``?room=NAME`` (or no room: every room) with the message as the body, authorized by
        ``Authorization: Bearer <broadcast_secret>`` or the ``broadcast_authorizer``. 204 when delivered or
        published, 503 when every local target refused it and nothing went to the backplane."""
        if not await self._broadcast_allowed(request):
            raise APIError(ErrorType.UNAUTHORIZED, "broadcast secret required")
        room = request.query_params.get("room") or None
        if room is not None:
            try:
                validate_room_name(room)
            except ValueError as exc:
                raise APIError(ErrorType.BAD_REQUEST, str(exc), code="WS_INVALID_ROOM") from None
        limit = self.config.broadcast_max_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise APIError(ErrorType.PAYLOAD_TOO_LARGE, f"broadcast body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise APIError(ErrorType.PAYLOAD_TOO_LARGE, f"broadcast body larger than {limit} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body:
            raise APIError(ErrorType.BAD_REQUEST, "broadcast body is empty")
        data: str | bytes
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            data = body
        result: BroadcastResult = (await self.hub.broadcast_room(room, data) if room is not None
                                   else await self.hub.broadcast_all(data))
        if result.attempted and not result.enqueued and not result.published:
            raise APIError(ErrorType.UNAVAILABLE, "every connection refused the broadcast",
                           details={"attempted": result.attempted, "dropped": result.dropped})
        return Response(b"", status=204)

    async def _broadcast_allowed(self, request: Request) -> bool:
        cfg = self.config
        if cfg.broadcast_authorizer is not None:
            allowed = cfg.broadcast_authorizer(request)
            if not isinstance(allowed, bool):
                allowed = await allowed
            if allowed:
                return True
        if cfg.broadcast_secret is None:
            return False
        header = request.headers.get("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return False
        return hmac.compare_digest(value.strip().encode("utf-8"), _bytes(cfg.broadcast_secret))


async def room_fanout(conn: Conn, data: str | bytes, hub: Hub) -> None:
    """Go's ``ServeRoomFanoutWS``: every message goes to every member of the sender's room (sender included), on
    every worker when the hub has a backplane."""
    await hub.broadcast_room(conn.room, data)
