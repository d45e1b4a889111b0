"""examples/with_rpc as a user runs it: GET /v1/hello/:name through the transcoder, the same service called over
gRPC directly with the health service SERVING, bad input answered 400, and plumego-lint in service mode."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from examples.with_rpc.hello_proto import SAY_HELLO, SERVICE, HelloReply, HelloRequest
from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_rpc"


async def over_grpc(port: int) -> tuple[str, int, int]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        say = channel.unary_unary(SAY_HELLO, request_serializer=HelloRequest.SerializeToString,
                                  response_deserializer=HelloReply.FromString)
        reply = await say(HelloRequest(name="grace", greeting="hi"), timeout=5)
        health = health_pb2_grpc.HealthStub(channel)
        overall = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        service = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
        return reply.message, overall.status, service.status


def test_hello_over_http_and_grpc() -> None:
    with serve_example("examples.with_rpc") as url:
        status, health = call(url + "/healthz")
        assert status == 200 and health["grpc_port"] > 0
        assert call(url + "/v1/hello/ada") == (200, {"message": "hello ada"})
        assert call(url + "/v1/hello/ada?greeting=bonjour") == (200, {"message": "bonjour ada"})
        status, body = call(url + "/v1/hello/ada?nope=1")
        assert status == 400 and body["error"]["code"] == "INVALID_ARGUMENT"
        serving = health_pb2.HealthCheckResponse.SERVING
        assert asyncio.run(over_grpc(health["grpc_port"])) == ("hi grace", serving, serving)


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
