"""The app's telemetry, on plumego.x.observability (Prometheus collector, OpenTelemetry tracing, window metrics).

Owns ``Telemetry`` (what the app needs: middleware, a /metrics handler, stats, a lifecycle component). Imports
plumego's x/observability only in this module.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from plumego.contract import Middleware, Request, Response
from plumego.x.observability import OTelTracing, PrometheusCollector, WindowMetrics, prometheus_middleware


class Telemetry(Protocol):
    def middleware(self) -> list[Middleware]: ...
    async def metrics(self, request: Request) -> Response: ...
    def stats(self) -> dict[str, Any]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class PlumegoTelemetry:
    """``otlp_endpoint`` empty: spans are sampled and propagated but not exported."""

    def __init__(self, service: str, *, otlp_endpoint: str = "", sample_ratio: float = 1.0) -> None:
        self._collector = PrometheusCollector(service.replace("-", "_"),
                                              multiprocess=bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR")))
        self._tracing = OTelTracing(service, otlp_endpoint=otlp_endpoint, sample_ratio=sample_ratio)
        self._window = WindowMetrics(60.0)

    def middleware(self) -> list[Middleware]:
        return [self._tracing.middleware(), prometheus_middleware(self._collector), self._timing]

    def _timing(self, app: Any) -> Any:
        import time

        window = self._window

        async def timed(scope: Any, receive: Any, send: Any) -> None:
            began = time.perf_counter()
            try:
                await app(scope, receive, send)
            finally:
                if scope["type"] == "http":
                    window.observe(time.perf_counter() - began)

        return timed

    async def metrics(self, request: Request) -> Response:
        return await self._collector.handler(request)

    def stats(self) -> dict[str, Any]:
        return {"window_seconds": self._window.window, "request_seconds": self._window.stats().to_dict(),
                "sample_ratio": self._tracing.sample_ratio, "multiprocess": self._collector.multiprocess}

    async def start(self) -> None:
        await self._tracing.start()

    async def stop(self) -> None:
        await self._tracing.stop()          # flushes the spans still in the batch processor
