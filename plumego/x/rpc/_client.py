"""The gRPC client side: a channel pool keyed by target and unary interceptors for logging, retry on chosen
status codes, and trace propagation.

Owns channel reuse and the interceptor behaviour. Imports the standard library, plumego.log and grpcio
(``pip install 'plumego[rpc]'``); the OpenTelemetry API only in the tracing interceptor.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

try:
    import grpc
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the gRPC client needs grpcio: pip install 'plumego[rpc]'") from exc

from plumego.log import StructuredLogger

__all__ = ["ClientPool", "LoggingInterceptor", "PoolClosedError", "RetryInterceptor", "TracingInterceptor"]


class PoolClosedError(RuntimeError):
    """A channel was asked of a closed :class:`ClientPool`."""


def _with_metadata(details: Any, extra: Iterable[tuple[str, str]]) -> Any:
    metadata = grpc.aio.Metadata(*(tuple(details.metadata) if details.metadata else ()))
    for key, value in extra:
        metadata.add(key, value)
    return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                      details.wait_for_ready)


def _method_name(details: Any) -> str:
    method = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


class LoggingInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Logs every unary call once it completes: method, duration in ms and status code (warning when not OK)."""

    def __init__(self, logger: StructuredLogger) -> None:
        self._logger = logger

    async def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        began = time.perf_counter()
        call = await continuation(details, request)
        code = await call.code()
        fields = {"method": _method_name(details), "code": code.name,
                  "duration_ms": round((time.perf_counter() - began) * 1000, 3)}
        if code == grpc.StatusCode.OK:
            self._logger.info("grpc call", fields)
        else:
            self._logger.warn("grpc call failed", fields)
        return call


class RetryInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Retries a unary call that ended with one of ``codes`` (default UNAVAILABLE), up to ``max_attempts`` in
    all, with jittered exponential backoff from ``backoff`` seconds (capped at ``max_backoff``).

    Only for idempotent methods: a retried call may have run on the server. A call's own deadline still
    bounds each attempt; DEADLINE_EXCEEDED and CANCELLED are never retried unless listed.
    """

    def __init__(self, max_attempts: int = 3, codes: Sequence[grpc.StatusCode] = (grpc.StatusCode.UNAVAILABLE,),
                 *, backoff: float = 0.05, max_backoff: float = 1.0) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if backoff < 0 or max_backoff < 0:
            raise ValueError("backoff must be >= 0")
        self.max_attempts = max_attempts
        self.codes = frozenset(codes)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.attempts = 0     # calls made through this interceptor, retries included (for tests and metrics)

    async def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            call = await continuation(details, request)
            code = await call.code()
            if code not in self.codes or attempt >= self.max_attempts:
                return call
            delay = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
            await asyncio.sleep(delay * (0.5 + random.random() / 2))


class TracingInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Propagates the current trace as W3C ``traceparent``/``tracestate`` metadata. With an OpenTelemetry
    ``tracer`` it also records a CLIENT span per call (error status when the call fails)."""

    def __init__(self, tracer: Any = None) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._tracer = tracer
        self._propagator = TraceContextTextMapPropagator()

    async def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        if self._tracer is None:
            carrier: dict[str, str] = {}
            self._propagator.inject(carrier)
            return await continuation(_with_metadata(details, carrier.items()), request)
        from opentelemetry.trace import SpanKind, Status, StatusCode

        with self._tracer.start_as_current_span(_method_name(details).lstrip("/"), kind=SpanKind.CLIENT,
                                                attributes={"rpc.system": "grpc"}) as span:
            carrier = {}
            self._propagator.inject(carrier)
            call = await continuation(_with_metadata(details, carrier.items()), request)
            code = await call.code()
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code != grpc.StatusCode.OK:
                span.set_status(Status(StatusCode.ERROR, code.name))
            return call


class ClientPool:
    """One grpc.aio channel per target, shared by every caller, with the same interceptors; ``close()`` closes
    them all (an App component's ``stop``). ``channel()`` after ``close()`` raises :class:`PoolClosedError`."""

    def __init__(self, *, interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
                 options: Sequence[tuple[str, Any]] = ()) -> None:
        self._interceptors = tuple(interceptors)
        self._options = tuple(options)
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._closed = False

    def channel(self, target: str) -> grpc.aio.Channel:
        if self._closed:
            raise PoolClosedError("the gRPC client pool is closed")
        if not target or ":" not in target:
            raise ValueError(f"gRPC target {target!r} must be host:port")
        channel = self._channels.get(target)
        if channel is None:
            channel = grpc.aio.insecure_channel(target, options=self._options, interceptors=self._interceptors)
            self._channels[target] = channel
        return channel

    def __len__(self) -> int:
        return len(self._channels)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.close()

    async def close(self, grace: float | None = None) -> None:
        self._closed = True
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close(grace)
