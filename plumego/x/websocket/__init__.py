"""plumego.x.websocket (beta): rooms and a hub over ASGI websockets, correct across workers.

::

    server = Server(WebSocketConfig(auth=hs256_auth(secret), allowed_origins=["https://app.example"],
                                    backplane="redis://127.0.0.1:6379/0"))
    server.register_routes(app)                 # WEBSOCKET /ws (+ POST /_admin/broadcast with broadcast_secret)
    app.add_component("websocket", server)      # backplane up at startup; flush + 1001 at shutdown

Every handshake check (origin, room name, JWT, room password, authorizer, capacity) is decided before accept; a
refusal is the error envelope with a stable ``WS_*`` code. Better than Go's in-process hub: with a Redis or NATS
backplane a broadcast reaches the room on every worker and instance. The frame layer (masking, fragmentation,
control frames, ping/pong) is the ASGI server's; its limit and heartbeat come from ``AppConfig``.
May import the standard library and plumego.contract/log/security (and health/middleware/router); never
plumego.core, store or the reference app. websockets (``dial``), redis-py and nats-py are imported lazily.
"""

from typing import TYPE_CHECKING, Any

from ._auth import JWTAuth, RoomAuthorizer, RoomPasswords, TokenAuthenticator, UserInfo, extract_user_info, hs256_auth
from ._backplane import (
    Backplane,
    BackplaneMessage,
    BackplaneUnavailable,
    MemoryBackplane,
    MemoryBus,
    open_backplane,
)
from ._conn import Conn, ConnClosed, ConnLimits, SendPolicy, SendResult
from ._hub import BroadcastResult, Hub, HubError, HubFull, HubMetrics, HubStopped, RoomFull
from ._protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL_ERROR,
    CLOSE_INVALID_PAYLOAD,
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_NORMAL,
    CLOSE_POLICY_VIOLATION,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_UNSUPPORTED_DATA,
    MessageRejected,
    MessageValidation,
    sanitize_for_logging,
    validate_room_name,
)
from ._server import MessageHandler, Server, WebSocketConfig, room_fanout

if TYPE_CHECKING:
    from ._client import ClientConn, DialError, dial

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_PAYLOAD",
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_NORMAL",
    "CLOSE_POLICY_VIOLATION",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_UNSUPPORTED_DATA",
    "Backplane",
    "BackplaneMessage",
    "BackplaneUnavailable",
    "BroadcastResult",
    "ClientConn",
    "Conn",
    "ConnClosed",
    "ConnLimits",
    "DialError",
    "Hub",
    "HubError",
    "HubFull",
    "HubMetrics",
    "HubStopped",
    "JWTAuth",
    "MemoryBackplane",
    "MemoryBus",
    "MessageHandler",
    "MessageRejected",
    "MessageValidation",
    "RoomAuthorizer",
    "RoomFull",
    "RoomPasswords",
    "SendPolicy",
    "SendResult",
    "Server",
    "TokenAuthenticator",
    "UserInfo",
    "WebSocketConfig",
    "dial",
    "extract_user_info",
    "hs256_auth",
    "open_backplane",
    "room_fanout",
    "sanitize_for_logging",
    "validate_room_name",
]


def __getattr__(name: str) -> Any:
    """``dial`` and its types load websockets only when used (``pip install 'plumego[websocket]'``)."""
    if name in ("dial", "ClientConn", "DialError"):
        from . import _client
        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
