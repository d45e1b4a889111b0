"""accesslog, httpmetrics and tracing: what they record, and that they never change the response."""

from __future__ import annotations

import io
import json

import pytest
from mw_harness import call, http_scope, text_app

from plumego.contract import (
    ClientDisconnect,
    Request,
    RouteContext,
    Receive,
    Scope,
    Send,
    trace_context_from_scope,
    with_route_context,
)
from plumego.log import Level, LoggerConfig, new_logger
from plumego.metrics import CollectorObserver, MetricsCollector
from plumego.middleware._asgi import go_duration
from plumego.middleware import (
    Chain,
    FinishedSpan,
    access_log,
    format_traceparent,
    http_metrics,
    parse_traceparent,
    request_id,
    tracing,
)


def routed_app(pattern: str) -> object:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with_route_context(scope, RouteContext("GET", pattern, name="user.show"), {"id": "7"})
        await text_app(b"user 7")(scope, receive, send)

    return app


async def boom(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("x")


# -- access log -----------------------------------------------------------------------------------


async def test_access_log_fields() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    app = Chain(request_id(), tracing(), access_log(logger)).build(routed_app("/users/:id"))  # type: ignore[arg-type]
    scope = http_scope(
        "GET",
        "/users/7",
        headers=[
            (b"user-agent", b"curl/8"),
            (b"x-forwarded-for", b"203.0.113.5, 10.0.0.1"),
            (b"x-request-id", b"req-1"),
            (b"authorization", b"Bearer secret"),
        ],
    )
    res = await call(app, scope)
    record = json.loads(buf.getvalue())
    assert record["msg"] == "request completed" and record["level"] == "INFO"
    assert record["method"] == "GET" and record["path"] == "/users/7" and record["status"] == 200
    assert record["bytes"] == len(b"user 7") and record["request_id"] == "req-1"
    # client_ip is the server's scope["client"]: a forwarding header any client can send is not trusted here.
    assert record["user_agent"] == "curl/8" and record["client_ip"] == "10.0.0.9"
    assert record["route"] == "/users/:id" and record["route_name"] == "user.show"
    assert record["span_id"] == res.header("x-span-id")
    assert record["duration"].endswith("s") and isinstance(record["duration_ms"], float)
    assert "secret" not in buf.getvalue()


async def test_access_log_client_ip_is_the_scope_client_never_a_forwarding_header() -> None:
    forged = [(b"x-forwarded-for", b"203.0.113.5"), (b"x-real-ip", b"198.51.100.2")]
    for scope, expected in ((http_scope(headers=forged), "10.0.0.9"),
                            (http_scope(headers=forged, client=None), "")):
        buf = io.StringIO()
        logger = new_logger(LoggerConfig(format="json", output=buf))
        await call(access_log(logger)(text_app()), scope)
        assert json.loads(buf.getvalue())["client_ip"] == expected


async def test_access_log_caps_client_controlled_fields_with_a_marker() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    agent = b"A" * (8 << 20)  # the 8 MB line of issue 13.3
    scope = http_scope("GET", "/p" * 5000, headers=[(b"user-agent", agent)])
    await call(access_log(logger)(text_app()), scope)
    line = buf.getvalue()
    record = json.loads(line)
    assert record["user_agent"] == "A" * 512 + f"...[truncated {len(agent) - 512} chars]"
    assert record["path"] == ("/p" * 5000)[:2048] + f"...[truncated {10000 - 2048} chars]"
    assert len(line) < 4096


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_access_log_line_cannot_be_split_or_forged(fmt: str) -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format=fmt, output=buf))
    hostile = "curl\u0085I1206 00:00:00.000000 1 [x.py:1] request completed status=200\u2028\x1b[2J\x00\u202e"
    scope = http_scope("GET", "/a\nb\x1b[31m", headers=[(b"user-agent", hostile.encode("utf-8"))])
    await call(access_log(logger)(text_app()), scope)
    text = buf.getvalue()
    assert text.count("\n") == 1 and len(text.splitlines()) == 1
    assert text[:-1].isprintable()
    if fmt == "json":
        record = json.loads(text)
        assert record["path"] == "/a\nb\x1b[31m"
        assert record["user_agent"] == hostile.encode("utf-8").decode("latin-1")  # header bytes as latin-1


async def test_access_log_records_a_client_disconnect_as_499() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))

    async def reads_body(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()

    with pytest.raises(ClientDisconnect):
        await call(access_log(logger)(reads_body), http_scope("POST"), [])  # type: ignore[arg-type]
    record = json.loads(buf.getvalue())
    assert record["status"] == 499 and record["level"] == "INFO"


async def test_access_log_on_exception_logs_500_and_reraises() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    with pytest.raises(RuntimeError):
        await call(access_log(logger)(boom), http_scope())  # type: ignore[arg-type]
    assert json.loads(buf.getvalue())["status"] == 500


async def test_access_log_skips_work_when_info_disabled() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf, level=Level.ERROR))
    res = await call(access_log(logger)(text_app()), http_scope())
    assert res.status == 200 and buf.getvalue() == ""


# -- http metrics -----------------------------------------------------------------------------------


async def test_http_metrics_uses_route_pattern_and_counts_bytes() -> None:
    collector = MetricsCollector()
    app = http_metrics(CollectorObserver(collector))(routed_app("/users/:id"))  # type: ignore[arg-type]
    await call(app, http_scope("GET", "/users/7"))
    await call(app, http_scope("GET", "/users/8"))
    labels = {"method": "GET", "route": "/users/:id", "status": "200"}
    names = ("method", "route", "status")
    assert collector.counter("http_requests_total", label_names=names).value(labels) == 2
    assert collector.counter("http_response_bytes_total", label_names=names).value(labels) == 12


async def test_http_metrics_raw_path_without_router_and_500_on_exception() -> None:
    seen: list[tuple[str, str, int, int]] = []

    class Rec:
        def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
            assert duration >= 0
            seen.append((method, route, status, bytes_written))

    await call(http_metrics(Rec())(text_app(b"abc", status=201)), http_scope("POST", "/raw"))
    with pytest.raises(RuntimeError):
        await call(http_metrics(Rec())(boom), http_scope("GET", "/x"))  # type: ignore[arg-type]
    assert seen == [("POST", "/raw", 201, 3), ("GET", "/x", 500, 0)]


async def test_http_metrics_observer_errors_do_not_break_response_and_none_is_identity() -> None:
    class Broken:
        def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
            raise RuntimeError("observer down")

    res = await call(http_metrics(Broken())(text_app()), http_scope())
    assert res.status == 200 and res.body == b"hello"
    inner = text_app()
    assert http_metrics(None)(inner) is inner


# -- tracing ------------------------------------------------------------------------------------------

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ],
)
def test_parse_traceparent_rejects(value: str) -> None:
    assert parse_traceparent(value) is None


def test_parse_traceparent_accepts_and_future_versions() -> None:
    parsed = parse_traceparent(VALID)
    assert parsed is not None
    assert (parsed.trace_id, parsed.parent_id, parsed.flags) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        1,
    )
    assert parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future") is not None


async def test_tracing_continues_incoming_trace_with_new_span() -> None:
    finished: list[FinishedSpan] = []
    seen: dict[str, object] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["trace"] = trace_context_from_scope(scope)
        await text_app(b"ok")(scope, receive, send)

    mw = tracing(on_end=finished.append)
    res = await call(mw(app), http_scope(headers=[(b"traceparent", VALID.encode()), (b"tracestate", b"k=v")]))
    trace = seen["trace"]
    assert trace is not None and trace.valid()  # type: ignore[attr-defined]
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"  # type: ignore[attr-defined]
    assert trace.parent_span_id == "00f067aa0ba902b7"  # type: ignore[attr-defined]
    assert trace.span_id != "00f067aa0ba902b7" and trace.sampled  # type: ignore[attr-defined]
    assert res.header("x-span-id") == trace.span_id  # type: ignore[attr-defined]
    expected = f"00-{trace.trace_id}-{trace.span_id}-01"  # type: ignore[attr-defined]
    assert format_traceparent(trace) == expected  # type: ignore[arg-type]
    (span,) = finished
    assert span.status == 200 and span.bytes_written == 2 and span.tracestate == "k=v" and span.trace is trace


async def test_tracing_starts_new_trace_and_new_span_per_request() -> None:
    spans: list[FinishedSpan] = []
    app = tracing(on_end=spans.append, sample=False)(text_app())
    await call(app, http_scope(headers=[(b"traceparent", b"invalid")]))
    await call(app, http_scope())
    a, b = spans[0].trace, spans[1].trace
    assert a.valid() and b.valid() and a.parent_span_id is None
    assert a.trace_id != b.trace_id and a.span_id != b.span_id
    assert not a.sampled


async def test_tracing_on_end_errors_are_swallowed_and_exceptions_reported() -> None:
    def broken(span: FinishedSpan) -> None:
        raise RuntimeError("exporter down")

    res = await call(tracing(on_end=broken)(text_app()), http_scope())
    assert res.status == 200
    spans: list[FinishedSpan] = []
    with pytest.raises(RuntimeError):
        await call(tracing(on_end=spans.append)(boom), http_scope())  # type: ignore[arg-type]
    assert spans[0].status == 500


def test_parse_baggage() -> None:
    from plumego.middleware import parse_baggage

    assert parse_baggage("userId=alice, serverNode = DF%2028 ;prop=1,bad,=x,is ok=no") == {
        "userId": "alice",
        "serverNode": "DF 28",
    }
    assert len(parse_baggage(",".join(f"k{i}=v" for i in range(300)))) == 180


async def test_tracing_puts_baggage_in_the_carrier() -> None:
    seen: dict[str, object] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["trace"] = trace_context_from_scope(scope)
        await text_app()(scope, receive, send)

    await call(tracing()(app), http_scope(headers=[(b"baggage", b"tenant=acme")]))
    trace = seen["trace"]
    assert trace is not None and dict(trace.baggage) == {"tenant": "acme"}  # type: ignore[attr-defined]


class BrokenLogger:
    """A StructuredLogger whose sink is down: every write raises."""

    def with_fields(self, fields: object) -> BrokenLogger:
        return self

    def enabled(self, level: object) -> bool:
        return True

    def _fail(self, msg: str, fields: object = None) -> None:
        raise OSError("log sink down")

    debug = info = warn = error = _fail

    def fatal(self, msg: str, fields: object = None) -> None:  # type: ignore[misc]
        raise SystemExit(1)


async def test_broken_log_sink_never_changes_the_response() -> None:
    from plumego.middleware import body_limit, recovery

    logger = BrokenLogger()
    res = await call(access_log(logger)(text_app()), http_scope())  # type: ignore[arg-type]
    assert res.status == 200 and res.body == b"hello"
    with pytest.raises(RuntimeError, match="x"):
        await call(access_log(logger)(boom), http_scope())  # type: ignore[arg-type]
    res = await call(recovery(logger)(boom), http_scope())  # type: ignore[arg-type]
    assert res.status == 500 and res.json()["error"]["code"] == "INTERNAL_ERROR"
    res = await call(
        body_limit(1, logger=logger)(text_app()),  # type: ignore[arg-type]
        http_scope("POST", headers=[(b"content-length", b"5")]),
    )
    assert res.status == 413


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (999e-9, "999ns"), (1e-6, "1µs"), (153.2e-6, "153.2µs"), (0.001, "1ms"), (0.012345678, "12.345678ms"),
    (1.5, "1.5s"), (60, "1m0s"), (90, "1m30s"), (3723.5, "1h2m3.5s"), (7200, "2h0m0s"), (-0.0015, "-1.5ms"),
])
def test_go_duration_matches_go_duration_string(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text  # the strings Go's time.Duration.String prints for the same values
