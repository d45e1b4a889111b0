"""Tracing on the real OpenTelemetry SDK: traceparent in and out, malformed headers, sampling, and OTLP/HTTP
export to a local receiver that decodes the protobuf request that arrives."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from plumego.contract import Request, trace_context_from_scope
from plumego.core import App
from plumego.x.observability import OTelTracing, current_trace_headers
from tests.x.observability.otlp_receiver import OTLPReceiver

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    server = OTLPReceiver()
    yield server
    server.close()


def traced_app(tracing: OTelTracing) -> App:
    app = App()
    app.use(tracing.middleware())

    async def order(request: Request) -> dict[str, object]:
        with tracing.tracer.start_as_current_span("load-order"):
            outbound = current_trace_headers()
        trace = trace_context_from_scope(request.scope)
        return {"trace_id": trace.trace_id if trace else "", "outbound": outbound}

    async def fail(request: Request) -> dict[str, str]:
        raise RuntimeError("handler bug")

    app.get("/orders/:id", order)
    app.get("/fail", fail)
    return app


async def test_otlp_export_continues_the_incoming_trace(receiver: OTLPReceiver) -> None:
    tracing = OTelTracing("orders-api", otlp_endpoint=receiver.url, batch=True)
    app = traced_app(tracing)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/orders/42", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"})
    assert response.status_code == 200
    body = response.json()["data"] if "data" in response.json() else response.json()
    assert body["trace_id"] == PARENT_TRACE
    out = response.headers["traceparent"].split("-")
    assert out[1] == PARENT_TRACE and out[2] != PARENT_SPAN and out[3] == "01"  # the server span, sampled
    child = body["outbound"]["traceparent"].split("-")
    assert child[1] == PARENT_TRACE and child[2] not in (PARENT_SPAN, out[2])      # a child span goes out
    await tracing.stop()                                    # flushes the batch processor
    assert receiver.arrived.wait(5)
    assert receiver.content_types[0] == "application/x-protobuf"
    spans = {span.name: (service, span) for service, span in receiver.spans()}  # type: ignore[attr-defined]
    service, server_span = spans["GET /orders/:id"]
    assert service == "orders-api"
    assert server_span.trace_id.hex() == PARENT_TRACE       # type: ignore[attr-defined]
    assert server_span.parent_span_id.hex() == PARENT_SPAN  # type: ignore[attr-defined]
    assert server_span.span_id.hex() == out[2]              # type: ignore[attr-defined]
    attributes = {a.key: a.value for a in server_span.attributes}  # type: ignore[attr-defined]
    assert attributes["http.route"].string_value == "/orders/:id"
    assert attributes["http.response.status_code"].int_value == 200
    _, inner = spans["load-order"]
    assert inner.parent_span_id.hex() == out[2]             # type: ignore[attr-defined]


@pytest.mark.parametrize("header", [
    "garbage",
    f"00-{PARENT_TRACE}-{PARENT_SPAN}",                 # missing flags
    f"00-{'0' * 32}-{PARENT_SPAN}-01",                  # all-zero trace id
    f"ff-{PARENT_TRACE}-{PARENT_SPAN}-01",              # forbidden version
    f"00-{PARENT_TRACE.upper()}-{PARENT_SPAN}-01",      # uppercase hex
    "00-" + "x" * 600,                                  # oversized
])
async def test_malformed_traceparent_starts_a_new_trace(header: str) -> None:
    exporter = InMemorySpanExporter()
    tracing = OTelTracing("svc", exporter=exporter, batch=False)
    app = traced_app(tracing)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/orders/1", headers={"traceparent": header})
    assert response.status_code == 200
    trace_id = response.headers["traceparent"].split("-")[1]
    assert trace_id != PARENT_TRACE and trace_id != "0" * 32
    (server,) = [span for span in exporter.get_finished_spans() if span.name == "GET /orders/:id"]
    assert server.parent is None


async def test_sampling_and_errors() -> None:
    exporter = InMemorySpanExporter()
    tracing = OTelTracing("svc", exporter=exporter, batch=False, sample_ratio=0.0)
    app = traced_app(tracing)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        unsampled = await client.get("/orders/1")
        assert int(unsampled.headers["traceparent"][-2:], 16) & 0x01 == 0   # not sampled
        assert exporter.get_finished_spans() == ()
        sampled_parent = await client.get("/orders/1", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"})
        assert int(sampled_parent.headers["traceparent"][-2:], 16) & 0x01 == 1  # parent-based: the caller's choice wins
        failed = await client.get("/fail", headers={"traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"})
    assert failed.status_code == 500
    assert "handler bug" not in failed.text
    names = [span.name for span in exporter.get_finished_spans()]
    assert "GET /orders/:id" in names and "GET /fail" in names
    (fail_span,) = [span for span in exporter.get_finished_spans() if span.name == "GET /fail"]
    assert fail_span.status.is_ok is False


def test_bad_configuration() -> None:
    with pytest.raises(ValueError, match="sample_ratio"):
        OTelTracing("svc", sample_ratio=1.5)
    with pytest.raises(ValueError, match="service_name"):
        OTelTracing("")
    with pytest.raises(ValueError, match="otlp_endpoint"):
        OTelTracing("svc", otlp_endpoint="collector:4318")
