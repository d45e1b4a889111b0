"""Wiring of the reference service: the plumego App, its middleware stack, routes and lifecycle.

Mirrors the Go standard-service ``internal/app``: ``ReferenceService(cfg)`` builds the App and its
dependencies, ``register_routes()`` registers every route explicitly, one per line. Imports the config,
the handlers, the item domain and plumego's stable roots only (never plumego.x).
"""

from __future__ import annotations

import asyncio
from typing import Final

from plumego.core import App, AppConfig, Component, TLSConfig
from plumego.health import ComponentCheck, HealthChecker
from plumego.log import LoggerConfig, StructuredLogger, new_logger
from plumego.metrics import NoopObserver
from plumego.middleware import (
    DEFAULT_ALLOWED_HEADERS,
    abuse_guard,
    access_log,
    body_limit,
    cors,
    http_metrics,
    recovery,
    request_id,
    security_headers,
    timeout,
)
from plumego.security import AbuseGuardConfig, TokenBucketLimiter

from reference_app.config import Config
from reference_app.domain.items import ItemService, SQLiteItemStore
from reference_app.handlers import WRITE_KEY_HEADER, APIHandlers, HealthHandlers, ItemHandlers, require_write_key

STORE_COMPONENT: Final = "item_store"
PROBE_PATHS: Final = ("/healthz", "/readyz")  # orchestrator probes are never rate limited
READY_CHECK_TIMEOUT: Final = 2.0
# Response headers a browser client may read cross-origin (request correlation and rate-limit state).
EXPOSED_HEADERS: Final = ("X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                          "Retry-After")


class KernelLogger:
    """Adapts a StructuredLogger to the printf-style ``LoggerLike`` surface plumego.core logs through."""

    def __init__(self, logger: StructuredLogger) -> None:
        self._logger = logger

    def info(self, msg: str, *args: object) -> None:
        self._logger.info(msg % args if args else msg)

    def warning(self, msg: str, *args: object) -> None:
        self._logger.warn(msg % args if args else msg)

    def error(self, msg: str, *args: object, exc_info: BaseException | None = None) -> None:
        fields: dict[str, object] = {}
        if exc_info is not None:
            fields["error"] = f"{type(exc_info).__name__}: {exc_info}"
        self._logger.error(msg % args if args else msg, fields)


class ReferenceService:
    """Everything the service runs on; ``app`` is the ASGI application to serve.

    Opening the item store happens here, so a bad ``--data-dir`` fails before the server binds.
    """

    def __init__(self, cfg: Config, logger: StructuredLogger | None = None) -> None:
        self.cfg = cfg
        self.logger = logger if logger is not None else new_logger(LoggerConfig(format="text"))
        self.store = SQLiteItemStore(cfg.data_dir)
        self.items = ItemService(self.store)
        self.app = App(
            AppConfig(
                host=cfg.host,
                port=cfg.port,
                shutdown_timeout=cfg.shutdown_timeout,
                tls=TLSConfig(cfg.tls_enabled, cfg.tls_cert_file, cfg.tls_key_file),
                http=cfg.http,
                read_header_timeout=cfg.read_header_timeout,
                max_header_bytes=cfg.max_header_bytes,
                trusted_proxies=cfg.trusted_proxies,
                trusted_proxy_hops=cfg.trusted_proxy_hops,
            ),
            logger=KernelLogger(self.logger),
        )
        self.app.add_component(STORE_COMPONENT, Component(on_stop=self.store.close, on_ready=self._ping_store))
        self.health = HealthChecker([ComponentCheck(STORE_COMPONENT, self._ping_store)], READY_CHECK_TIMEOUT)
        self._use_middleware()
        if not cfg.write_key:
            self.logger.warn("APP_WRITE_KEY is empty: item writes are not protected")
        if not cfg.cors_allowed_origins:
            self.logger.warn("CORS allows every origin (*); set APP_CORS_ALLOWED_ORIGINS to restrict it")

    async def _ping_store(self) -> None:
        await asyncio.to_thread(self.store.ping)

    def _use_middleware(self) -> None:
        """The Go reference order, first is outermost: requestid, securityheaders (default policy), cors (the
        write key and X-Request-ID allowed in preflight), recovery, accesslog, bodylimit, abuseguard (per client
        IP: the peer, or the client the trusted proxies reported), httpmetrics, timeout (nearest the handler)."""
        cfg, logger = self.cfg, self.logger
        limiter = TokenBucketLimiter(AbuseGuardConfig(rate=cfg.rate_limit_per_second, capacity=cfg.rate_limit_burst))
        self.app.use(
            request_id(),
            security_headers(),
            cors(
                allowed_origins=cfg.cors_allowed_origins or ("*",),
                allowed_headers=(*DEFAULT_ALLOWED_HEADERS, WRITE_KEY_HEADER, "X-Request-ID"),
                expose_headers=EXPOSED_HEADERS,
            ),
            recovery(logger),
            access_log(logger),
            body_limit(cfg.max_body_bytes, logger=logger),
            abuse_guard(limiter, exempt_paths=PROBE_PATHS),
            http_metrics(NoopObserver()),
            timeout(cfg.request_timeout),
        )

    def register_routes(self) -> App:
        """Every route, explicitly, one per line; writes carry the per-route write-key guard."""
        api = APIHandlers(self.cfg.service_name, self.cfg.version)
        health = HealthHandlers(self.cfg.service_name, self.health)
        items = ItemHandlers(self.items, self.logger)
        guard = [require_write_key(self.cfg.write_key)]
        app = self.app

        app.get("/", api.root, name="root")
        app.get("/healthz", health.live, name="healthz")
        app.get("/readyz", health.ready, name="readyz")
        app.get("/api/hello", api.hello, name="hello")
        app.get("/api/info", api.info, name="info")

        v1 = app.group("/api/v1")
        v1.get("/greet", api.greet, name="greet")
        v1.get("/items", items.list, name="items.list")
        v1.post("/items", items.create, name="items.create", middleware=guard)
        v1.get("/items/:id", items.get, name="items.get")
        v1.put("/items/:id", items.replace, name="items.replace", middleware=guard)
        v1.patch("/items/:id", items.patch, name="items.patch", middleware=guard)
        v1.delete("/items/:id", items.delete, name="items.delete", middleware=guard)
        return app


def build_app(cfg: Config, logger: StructuredLogger | None = None) -> App:
    """The ready-to-serve ASGI app for ``cfg`` (store opened, middleware and routes registered)."""
    return ReferenceService(cfg, logger).register_routes()
