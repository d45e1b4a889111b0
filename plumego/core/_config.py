"""AppConfig: server and kernel settings with Go Plumego's defaults where an ASGI server can honour them.

Owns validation and the mapping onto uvicorn options. Imports only the standard library at import time;
``uvicorn_options`` loads core's uvicorn protocol module (and so uvicorn) when called.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AppConfig", "ConfigError", "TLSConfig", "default_config"]


class ConfigError(ValueError):
    """An AppConfig value is invalid (``core prepare_server: <reason>``)."""


@dataclass(frozen=True, slots=True)
class TLSConfig:
    enabled: bool = False
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True, slots=True)
class AppConfig:
    """Kernel and server configuration (immutable; the App keeps its own copy).

    Go defaults carried over: port 8080, idle (keep-alive) timeout 60 s, read-header timeout 5 s, max header
    bytes 1 MiB, drain interval 0.5 s, 405 answers configurable. Differences, on purpose: ``host`` defaults to
    loopback (Go's ``:8080`` binds every interface; pass ``0.0.0.0`` explicitly), and 405 answers are
    on by default (Go: off). Go's read/write timeouts and HTTP/2 switch have no uvicorn equivalent and are
    not modelled.

    ``read_header_timeout`` and ``max_header_bytes`` are enforced by plumego's own subclasses of uvicorn's
    h11 and httptools protocols (``http`` picks one: ``"auto"``, ``"h11"`` or ``"httptools"``): a head that
    is not complete in time is answered 408 (an idle new connection is just closed), a larger one 431.

    Forwarded client addresses: ``trusted_proxies`` (IPs or CIDRs of your own proxies) or
    ``trusted_proxy_hops`` (how many proxies append to ``X-Forwarded-For`` in front of the app) is the one
    setting for the whole stack. The App resolves ``scope["client"]`` (and ``scope["scheme"]`` from
    ``X-Forwarded-Proto``) from it before any middleware runs, so the abuse guard and the access log see the
    same client; uvicorn's own ``proxy_headers`` is always off. With neither set, forwarded headers are
    ignored.

    WebSocket protocol settings the server owns (ASGI gives the app no control frames): ``ws_max_message_bytes``
    is the largest whole message, fragmented or not (Go's default read limit, 16 MiB; a larger one is closed with
    1009); the server pings every ``ws_ping_interval`` seconds and closes a peer whose pong has not come within
    ``ws_ping_timeout`` (Go: ping every 20 s, pong wait 30 s). 0 disables the heartbeat.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    tls: TLSConfig = field(default_factory=TLSConfig)
    method_not_allowed: bool = True
    idle_timeout: float = 60.0
    max_header_bytes: int = 1 << 20
    read_header_timeout: float = 5.0
    shutdown_timeout: float = 15.0
    drain_interval: float = 0.5
    root_path: str = ""
    http: str = "auto"
    trusted_proxies: tuple[str, ...] = ()
    trusted_proxy_hops: int = 0
    ws_max_message_bytes: int = 16 << 20
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 30.0

    def validate(self) -> None:
        """Raise ConfigError on the first invalid value."""
        if not self.host:
            raise ConfigError("core prepare_server: host is required")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"core prepare_server: port {self.port} out of range 0-65535")
        for name in ("idle_timeout", "shutdown_timeout", "drain_interval", "max_header_bytes",
                     "read_header_timeout", "trusted_proxy_hops", "ws_ping_interval", "ws_ping_timeout"):
            if getattr(self, name) < 0:
                raise ConfigError(f"core prepare_server: {name} must not be negative")
        if self.http not in ("auto", "h11", "httptools"):
            raise ConfigError("core prepare_server: http must be 'auto', 'h11' or 'httptools'")
        if not 1 <= self.ws_max_message_bytes <= 64 << 20:
            raise ConfigError("core prepare_server: ws_max_message_bytes must be between 1 and 64 MiB")
        if self.trusted_proxy_hops > 32:
            raise ConfigError("core prepare_server: trusted_proxy_hops must be at most 32")
        if self.trusted_proxies and self.trusted_proxy_hops:
            raise ConfigError("core prepare_server: set trusted_proxies or trusted_proxy_hops, not both")
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(
                    f"core prepare_server: trusted proxy {entry!r} is not an IP address or CIDR"
                ) from None
        if self.tls.enabled and not (self.tls.cert_file and self.tls.key_file):
            raise ConfigError("core prepare_server: TLS enabled but cert_file/key_file missing")
        if self.root_path and not self.root_path.startswith("/"):
            raise ConfigError("core prepare_server: root_path must start with '/'")

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` (imports uvicorn for the ``http`` protocol).

        ``proxy_headers`` is off: forwarded addresses are the App's business (``trusted_proxies``), and
        uvicorn's default would believe ``X-Forwarded-For`` from any loopback peer.
        """
        from ._uvicorn_http import HeaderLimits, guarded_protocol

        limits = HeaderLimits(read_timeout=self.read_header_timeout, max_bytes=self.max_header_bytes)
        options: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "http": guarded_protocol(self.http, limits),
            "proxy_headers": False,
            "timeout_keep_alive": max(1, round(self.idle_timeout)) if self.idle_timeout else 5,
            "h11_max_incomplete_event_size": self.max_header_bytes or None,
            "timeout_graceful_shutdown": self.shutdown_timeout or None,
            "root_path": self.root_path,
            "lifespan": "on",
            "ws_max_size": self.ws_max_message_bytes,
            "ws_ping_interval": self.ws_ping_interval or None,
            "ws_ping_timeout": self.ws_ping_timeout or None,
        }
        if self.tls.enabled:
            options["ssl_certfile"] = self.tls.cert_file
            options["ssl_keyfile"] = self.tls.key_file
        return options


def default_config() -> AppConfig:
    """The defaults (Go ``DefaultConfig``)."""
    return AppConfig()
