"""Throughput cost of the x/observability stack against the bare app, measured in the same run.

Drives a plumego App in-process (``app(scope, receive, send)`` in one event loop, no sockets, so the numbers are
the stack's own CPU cost) with GET /orders/:id through five configurations, interleaved round by round:
bare; Prometheus metrics only; tracing only (sampling 1.0); metrics + tracing at sampling 1.0; metrics + tracing at
sampling 0.01. Tracing uses the real OpenTelemetry SDK with a batch span processor; the exporter is the real
OTLP/HTTP protobuf exporter posting to a local receiver thread (``--exporter otlp``, the default) or a discarding
one (``--exporter none``, only the span pipeline). Reports the best round's requests/second and the ratio to bare.
Run: PYTHONPATH=. python bench/observability_bench.py [--requests 20000] [--rounds 5] [--exporter otlp|none]
Not a test: nothing is asserted; numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from plumego.contract import Message, Request
from plumego.core import App
from plumego.x.observability import OTelTracing, PrometheusCollector, prometheus_middleware


class Discard(SpanExporter):
    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def receiver() -> tuple[str, HTTPServer, list[int]]:
    received = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received[0] += len(self.rfile.read(int(self.headers.get("content-length", "0"))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1/traces", server, received


def build(metrics: bool, ratio: float | None, exporter: str, endpoint: str) -> tuple[App, OTelTracing | None]:
    app = App()
    tracing = None
    if ratio is not None:
        tracing = (OTelTracing("bench", sample_ratio=ratio, otlp_endpoint=endpoint) if exporter == "otlp"
                   else OTelTracing("bench", sample_ratio=ratio, exporter=Discard()))
        app.use(tracing.middleware())
    if metrics:
        collector = PrometheusCollector("bench")
        app.use(prometheus_middleware(collector))

    async def order(request: Request) -> dict[str, str]:
        return {"id": request.path_params["id"]}

    app.get("/orders/:id", order)
    return app, tracing


async def drive(app: Any, requests: int) -> float:
    handler = app.prepare() if hasattr(app, "prepare") else app
    body: Message = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> Message:
        return body

    async def send(message: Message) -> None:
        return None

    began = time.perf_counter()
    for i in range(requests):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": f"/orders/{i}", "raw_path": f"/orders/{i}".encode(), "query_string": b"",
                 "root_path": "", "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 80)}
        await handler(scope, receive, send)
    return requests / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--exporter", choices=("otlp", "none"), default="otlp")
    args = parser.parse_args()
    endpoint, server, received = receiver()
    configs: dict[str, Callable[[], tuple[App, OTelTracing | None]]] = {
        "bare": lambda: build(False, None, args.exporter, endpoint),
        "metrics": lambda: build(True, None, args.exporter, endpoint),
        "tracing 1.0": lambda: build(False, 1.0, args.exporter, endpoint),
        "metrics + tracing 1.0": lambda: build(True, 1.0, args.exporter, endpoint),
        "metrics + tracing 0.01": lambda: build(True, 0.01, args.exporter, endpoint),
    }
    apps = {name: make() for name, make in configs.items()}
    best = {name: 0.0 for name in configs}
    loop = asyncio.new_event_loop()
    for name, (app, _) in apps.items():
        loop.run_until_complete(drive(app, 500))                    # warm up
    for _ in range(args.rounds):
        for name, (app, _) in apps.items():
            best[name] = max(best[name], loop.run_until_complete(drive(app, args.requests)))
    for _, tracing in apps.values():
        if tracing is not None:
            loop.run_until_complete(tracing.stop())
    server.shutdown()
    load = os.getloadavg()
    print(f"requests per round {args.requests}, rounds {args.rounds}, exporter {args.exporter}, "
          f"OTLP bytes received {received[0]}, cpus {os.cpu_count()}, load average {load[0]:.2f}")
    print(f"{'configuration':<26}{'req/s':>10}{'vs bare':>10}{'us/req':>10}")
    for name, rate in best.items():
        print(f"{name:<26}{rate:>10.0f}{rate / best['bare']:>10.2f}{1e6 / rate:>10.1f}")


if __name__ == "__main__":
    main()
