"""x/rpc over real loopback gRPC: the server runtime (health, graceful stop), the client pool and its
interceptors (logging, retry-on-code, tracing), deadlines and cancellation, and the HTTP transcoder."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from plumego.core import App
from plumego.log import LoggerConfig, new_logger
from plumego.x.observability import OTelTracing
from plumego.x.rpc import (
    ClientPool,
    GrpcServer,
    HTTPTranscoder,
    LoggingInterceptor,
    PoolClosedError,
    RetryInterceptor,
    ServerTracingInterceptor,
    TracingInterceptor,
    unary_handler,
)
from tests.x.rpc.hello_proto import SAY_HELLO, SERVICE, HelloReply, HelloRequest

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class Greeter:
    calls: dict[str, int] = field(default_factory=dict)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    finished: int = 0

    async def say_hello(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        attempt = self.calls[request.name] = self.calls.get(request.name, 0) + 1
        if request.fail_code == "UNAVAILABLE_TWICE" and attempt <= 2:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        elif request.fail_code and request.fail_code != "UNAVAILABLE_TWICE":
            await context.abort(grpc.StatusCode[request.fail_code], "db password=hunter2 at line 42")
        try:
            if request.delay_ms:
                await asyncio.sleep(request.delay_ms / 1000)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        traceparent = dict(context.invocation_metadata() or ()).get("traceparent", "")
        message = f"hello {request.name}" + (" [" + ",".join(request.tags) + "]" if request.tags else "")
        self.finished += 1
        return HelloReply(message=message.upper() if request.shout else message, traceparent=traceparent,
                          attempt=attempt)


async def start_server(greeter: Greeter, **options: Any) -> GrpcServer:
    server = GrpcServer("127.0.0.1:0", **options)
    server.add_service(SERVICE, unary_handler(SERVICE, {"SayHello": (greeter.say_hello, HelloRequest, HelloReply)}))
    await server.start()
    return server


@pytest.fixture
async def greeter() -> Greeter:
    return Greeter()


@pytest.fixture
async def server(greeter: Greeter) -> AsyncIterator[GrpcServer]:
    running = await start_server(greeter, grace=1.0)
    yield running
    await running.stop()


def say_hello(channel: grpc.aio.Channel) -> Any:
    return channel.unary_unary(SAY_HELLO, request_serializer=HelloRequest.SerializeToString,
                               response_deserializer=HelloReply.FromString)


async def test_health_service_and_graceful_stop(greeter: Greeter) -> None:
    server = await start_server(greeter, grace=2.0)
    pool = ClientPool()
    channel = pool.channel(f"127.0.0.1:{server.port}")
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await health.Check(health_pb2.HealthCheckRequest(service="nope.Service"), timeout=2)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    in_flight = asyncio.ensure_future(say_hello(channel)(HelloRequest(name="slow", delay_ms=300), timeout=5))
    await asyncio.sleep(0.1)
    await server.stop()                       # drains: the in-flight call completes
    assert (await in_flight).message == "hello slow"
    drained = await server.health.Check(health_pb2.HealthCheckRequest(service=SERVICE), None)
    assert drained.status == health_pb2.HealthCheckResponse.NOT_SERVING      # load balancers were told first
    with pytest.raises(grpc.aio.AioRpcError) as after:
        await say_hello(channel)(HelloRequest(name="late"), timeout=1)
    assert after.value.code() == grpc.StatusCode.UNAVAILABLE
    await server.stop()                       # idempotent
    await pool.close()
    with pytest.raises(PoolClosedError):
        pool.channel(f"127.0.0.1:{server.port}")


async def test_stop_cancels_calls_past_the_grace_period(greeter: Greeter) -> None:
    server = await start_server(greeter, grace=0.05)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        in_flight = asyncio.ensure_future(say_hello(channel)(HelloRequest(name="stuck", delay_ms=5000), timeout=10))
        await asyncio.sleep(0.1)
        await server.stop()
        with pytest.raises(grpc.aio.AioRpcError) as cut:
            await in_flight
    assert cut.value.code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
    await asyncio.wait_for(greeter.cancelled.wait(), 2)


async def test_deadline_and_cancellation(server: GrpcServer, greeter: Greeter) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await say_hello(channel)(HelloRequest(name="d", delay_ms=2000), timeout=0.05)
        assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.wait_for(greeter.cancelled.wait(), 2)     # the server-side handler was cancelled too
        greeter.cancelled.clear()
        task = asyncio.ensure_future(say_hello(channel)(HelloRequest(name="c", delay_ms=2000), timeout=5))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(greeter.cancelled.wait(), 2)
        assert greeter.finished == 0


async def test_retry_and_logging_interceptors(server: GrpcServer, greeter: Greeter) -> None:
    out = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=out))
    retry = RetryInterceptor(3, [grpc.StatusCode.UNAVAILABLE], backoff=0.001)
    pool = ClientPool(interceptors=[LoggingInterceptor(logger), retry])
    target = f"127.0.0.1:{server.port}"
    assert pool.channel(target) is pool.channel(target) and len(pool) == 1
    reply = await say_hello(pool.channel(target))(HelloRequest(name="r", fail_code="UNAVAILABLE_TWICE"), timeout=5)
    assert reply.attempt == 3 and retry.attempts == 3
    with pytest.raises(grpc.aio.AioRpcError) as not_retried:
        await say_hello(pool.channel(target))(HelloRequest(name="n", fail_code="NOT_FOUND"), timeout=5)
    assert not_retried.value.code() == grpc.StatusCode.NOT_FOUND and greeter.calls["n"] == 1
    await pool.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["method"], line["code"]) for line in lines] == [(SAY_HELLO, "OK"), (SAY_HELLO, "NOT_FOUND")]
    assert all(line["duration_ms"] >= 0 for line in lines)
    with pytest.raises(ValueError):
        RetryInterceptor(0)


async def test_tracing_interceptors_continue_the_trace(greeter: Greeter) -> None:
    exporter = InMemorySpanExporter()
    tracing = OTelTracing("rpc", exporter=exporter, batch=False)
    server = await start_server(greeter, interceptors=[ServerTracingInterceptor(tracing.tracer)])
    pool = ClientPool(interceptors=[TracingInterceptor(tracing.tracer)])
    with tracing.tracer.start_as_current_span("caller") as caller:
        reply = await say_hello(pool.channel(f"127.0.0.1:{server.port}"))(HelloRequest(name="t"), timeout=5)
    trace_id = f"{caller.get_span_context().trace_id:032x}"
    assert reply.traceparent.split("-")[1] == trace_id
    await pool.close()
    await server.stop()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    client_span, server_span = spans[SAY_HELLO.lstrip("/")], None
    server_spans = [s for s in exporter.get_finished_spans() if s.kind.name == "SERVER"]
    server_span = server_spans[0]
    assert server_span.parent is not None and server_span.parent.span_id == client_span.context.span_id
    assert client_span.parent is not None and client_span.parent.span_id == caller.get_span_context().span_id


async def test_transcoder(server: GrpcServer, greeter: Greeter) -> None:
    exporter = InMemorySpanExporter()
    tracing = OTelTracing("gateway", exporter=exporter, batch=False)
    pool = ClientPool()
    transcoder = HTTPTranscoder(pool.channel(f"127.0.0.1:{server.port}"), timeout=0.3)
    app = App()
    app.use(tracing.middleware())
    transcoder.register(app, "GET", "/v1/hello/:name", SAY_HELLO, HelloRequest, HelloReply)
    transcoder.register(app, "POST", "/v1/hello", SAY_HELLO, HelloRequest, HelloReply)
    patient = HTTPTranscoder(pool.channel(f"127.0.0.1:{server.port}"), timeout=60)   # no deadline in the way
    patient.register(app, "GET", "/v1/patient/:name", SAY_HELLO, HelloRequest, HelloReply)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        ok = await client.get("/v1/hello/ada?shout=true&tags=a&tags=b",
                              headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        assert ok.status_code == 200
        assert ok.json()["message"] == "HELLO ADA [A,B]" and ok.json()["attempt"] == "1"  # int64 as a JSON string
        assert ok.json()["traceparent"].split("-")[1] == TRACE
        posted = await client.post("/v1/hello", json={"name": "bob", "tags": ["x"]})
        assert posted.json()["message"] == "hello bob [x]"

        async def error(response: httpx.Response) -> tuple[int, str]:
            return response.status_code, response.json()["error"]["code"]

        assert await error(await client.get("/v1/hello/ada?color=red")) == (400, "INVALID_ARGUMENT")
        assert await error(await client.get("/v1/hello/ada?shout=maybe")) == (400, "INVALID_ARGUMENT")
        assert await error(await client.get("/v1/hello/ada?delayMs=abc")) == (400, "INVALID_ARGUMENT")
        for body in (b"{nope", b"[1,2]", b'{"delayMs": 1e20}', b'{"delayMs": "x"}', b'{"unknown": 1}',
                     b'{"tags": "notalist"}', b"[" * 100_000 + b"]" * 100_000):
            response = await client.post("/v1/hello", content=body, headers={"content-type": "application/json"})
            assert await error(response) == (400, "INVALID_ARGUMENT"), body[:40]
        assert await error(await client.get("/v1/hello/x?failCode=NOT_FOUND")) == (404, "GRPC_NOT_FOUND")
        internal = await client.get("/v1/hello/x?failCode=INTERNAL")
        assert await error(internal) == (500, "GRPC_INTERNAL") and "hunter2" not in internal.text
        denied = await client.get("/v1/hello/x?failCode=PERMISSION_DENIED")
        assert await error(denied) == (403, "GRPC_PERMISSION_DENIED")
        assert await error(await client.get("/v1/hello/slow?delayMs=3000")) == (504, "GRPC_DEADLINE_EXCEEDED")
    await asyncio.wait_for(greeter.cancelled.wait(), 2)
    greeter.cancelled.clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        gone = asyncio.ensure_future(client.get("/v1/patient/gone?delayMs=30000"))   # the HTTP client goes away
        await asyncio.sleep(0.1)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
    await asyncio.wait_for(greeter.cancelled.wait(), 2)                      # so the gRPC call was cancelled
    await server.stop()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        assert await error(await client.get("/v1/hello/down")) == (503, "GRPC_UNAVAILABLE")
    await pool.close()


async def test_transcoder_rejects_bad_mappings() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:1")
    transcoder = HTTPTranscoder(channel)
    with pytest.raises(ValueError, match="path parameter"):
        transcoder.handler("GET", "/v1/hello/:who", SAY_HELLO, HelloRequest, HelloReply)
    with pytest.raises(ValueError, match="grpc_method"):
        transcoder.handler("GET", "/v1/hello", "SayHello", HelloRequest, HelloReply)
    with pytest.raises(ValueError):
        GrpcServer("nohost")
    await channel.close()
