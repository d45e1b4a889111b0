"""Tracing on the OpenTelemetry SDK: a server span per HTTP request, W3C ``traceparent`` in and out, OTLP export.

Owns the tracer provider set-up, the ASGI middleware and outbound propagation headers. Imports the standard
library, plumego.contract and the OpenTelemetry API/SDK (``pip install 'plumego[observability]'``); the OTLP/HTTP
exporter only when an endpoint is given. Never core or router.

Better than Go plumego: Go's "OpenTelemetryTracer" is in-house and keeps spans in memory with no exporter;
here spans go through the real SDK (samplers, batch processor) to any OTLP/HTTP collector.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Final

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("tracing needs the OpenTelemetry SDK: pip install 'plumego[observability]'") from exc

from plumego.contract import (
    ASGIApp,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
    TraceContext,
    route_context_from_scope,
    with_trace_context,
)

__all__ = ["OTelTracing", "current_trace_headers"]

_PROPAGATOR: Final = TraceContextTextMapPropagator()
_TRACEPARENT: Final = b"traceparent"
_TRACESTATE: Final = b"tracestate"
_MAX_HEADER: Final = 512


class OTelTracing:
    """An OpenTelemetry tracer provider of its own (never the global one) plus the HTTP middleware.

    ``sample_ratio`` feeds ``ParentBased(TraceIdRatioBased(ratio))``: an incoming sampled flag is honoured,
    new traces are sampled at the ratio. Spans are exported to ``otlp_endpoint`` (the full URL, e.g.
    ``http://collector:4318/v1/traces``) through a batch processor, or to ``exporter`` (any SDK
    ``SpanExporter``). ``stop()`` flushes; use the object as an App component so shutdown flushes.
    """

    def __init__(self, service_name: str, *, sample_ratio: float = 1.0, otlp_endpoint: str = "",
                 exporter: SpanExporter | None = None, batch: bool = True,
                 otlp_headers: Mapping[str, str] | None = None, export_timeout: float = 10.0) -> None:
        if not service_name:
            raise ValueError("tracing: service_name is required")
        if not 0.0 <= sample_ratio <= 1.0:
            raise ValueError(f"tracing: sample_ratio {sample_ratio} must be within 0..1")
        if otlp_endpoint and not otlp_endpoint.startswith(("http://", "https://")):
            raise ValueError(f"tracing: otlp_endpoint {otlp_endpoint!r} must be an http(s) URL")
        self.service_name = service_name
        self.sample_ratio = sample_ratio
        self.provider = TracerProvider(resource=Resource.create({"service.name": service_name}),
                                       sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            otlp = OTLPSpanExporter(endpoint=otlp_endpoint, headers=dict(otlp_headers or {}),
                                    timeout=export_timeout)
            self.add_exporter(otlp, batch=batch)
        if exporter is not None:
            self.add_exporter(exporter, batch=batch)
        self.tracer = self.provider.get_tracer("plumego.x.observability")

    def add_exporter(self, exporter: SpanExporter, *, batch: bool = True) -> None:
        processor: SpanProcessor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        return self.provider.force_flush(timeout_millis)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Flush pending spans and shut the exporters down (App component hook)."""
        self.provider.shutdown()

    def middleware(self) -> Middleware:
        """A SERVER span per HTTP request, named ``METHOD /route/:template`` (``METHOD`` when nothing matched).

        A valid incoming ``traceparent`` (and ``tracestate``) continues that trace; a malformed one is
        ignored and a new trace starts, never an error. The span is current while the handler runs (child
        spans and :func:`current_trace_headers` see it), its ids are stored in the scope as plumego's
        :class:`TraceContext`, and the response carries the server span's ``traceparent``. 5xx answers and
        exceptions mark the span as an error.
        """
        tracer = self.tracer

        def wrap(app: ASGIApp) -> ASGIApp:
            async def otel_app(scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] != "http":
                    await app(scope, receive, send)
                    return
                carrier: dict[str, str] = {}
                for key, value in scope.get("headers") or ():
                    if key in (_TRACEPARENT, _TRACESTATE) and len(value) <= _MAX_HEADER:
                        carrier.setdefault(key.decode("latin-1"), bytes(value).decode("latin-1"))
                parent = _PROPAGATOR.extract(carrier) if carrier else None
                method = scope.get("method", "")
                span = tracer.start_span(method, context=parent, kind=SpanKind.SERVER, attributes={
                    "http.request.method": method, "url.path": scope.get("path", ""),
                })
                span_context = span.get_span_context()
                parent_span = trace.get_current_span(parent).get_span_context() if parent is not None else None
                with_trace_context(scope, TraceContext(
                    trace_id=f"{span_context.trace_id:032x}", span_id=f"{span_context.span_id:016x}",
                    parent_span_id=f"{parent_span.span_id:016x}" if parent_span and parent_span.is_valid else None,
                    flags=int(span_context.trace_flags)))
                ctx = trace.set_span_in_context(span, parent)
                out: dict[str, str] = {}
                _PROPAGATOR.inject(out, context=ctx)
                response_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out.items()]
                status = 0

                def traced_send(message: Message) -> Awaitable[None]:
                    nonlocal status
                    if message["type"] == "http.response.start":
                        status = message["status"]
                        message = {**message, "headers": [*(message.get("headers") or ()), *response_headers]}
                    return send(message)

                token = otel_context.attach(ctx)
                try:
                    await app(scope, receive, traced_send)
                except BaseException as exc:
                    if status == 0:
                        status = 500
                    span.record_exception(exc)
                    raise
                finally:
                    otel_context.detach(token)
                    route = route_context_from_scope(scope)
                    if route is not None:
                        span.update_name(f"{method} {route.pattern}")
                        span.set_attribute("http.route", route.pattern)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                    span.end()

            return otel_app

        return wrap


def current_trace_headers() -> dict[str, str]:
    """``traceparent``/``tracestate`` for an outbound call made inside the current span (empty outside one).

    Put them on outgoing HTTP requests or gRPC metadata to continue the trace downstream.
    """
    out: dict[str, str] = {}
    _PROPAGATOR.inject(out)
    return out
