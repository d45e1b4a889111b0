"""plumego's uvicorn protocols over real sockets, for both HTTP implementations: the request-head deadline
(408 / silent close), the head size limit (431), envelope answers for malformed requests, and that neither
limit touches a well-behaved keep-alive connection or a slow handler."""

from __future__ import annotations

import asyncio
import json
import pickle
import select
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from plumego.contract import EnvelopeResponse, Request, ResponseApp
from plumego.core import App, AppConfig
from plumego.core._uvicorn_http import DEFAULT_SECURITY_HEADERS, HeaderLimits, guarded_protocol
from plumego.security import default_policy, security_headers

IMPLEMENTATIONS = ("h11", "httptools")
HEAD_TIMEOUT = 0.5
MAX_HEAD = 16 * 1024


class Served:
    def __init__(self, port: int) -> None:
        self.port = port

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)


def _read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (30 s socket timeout as a safety net)."""
    out = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _assert_envelope(raw: bytes, status: int, code: str) -> dict[str, str]:
    got, headers, body = _parse(raw)
    assert got == status, raw[:500]
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    envelope = json.loads(body)
    assert envelope["error"]["code"] == code
    assert envelope["request_id"] == headers["x-request-id"] and len(headers["x-request-id"]) == 12
    for name, value in DEFAULT_SECURITY_HEADERS:
        assert headers[name.decode()] == value.decode()
    return headers


def _make_app(http: str) -> App:
    app = App(AppConfig(http=http, read_header_timeout=HEAD_TIMEOUT, max_header_bytes=MAX_HEAD))

    async def hello(request: Request) -> ResponseApp:
        return EnvelopeResponse({"ok": True})

    async def slow(request: Request) -> ResponseApp:
        await asyncio.sleep(HEAD_TIMEOUT * 3)  # outlives the head deadline: it must not cut the response
        return EnvelopeResponse({"slow": True})

    app.get("/", hello)
    app.get("/slow", slow)
    return app


@pytest.fixture(params=IMPLEMENTATIONS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The App under uvicorn with the options plumego itself hands uvicorn, in a thread with its own loop."""
    app = _make_app(request.param)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    options = app.config.uvicorn_options()
    for key in ("host", "port"):
        options.pop(key)
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(3000):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started
        yield Served(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_protocol_factory_is_picklable_and_checked() -> None:
    factory = guarded_protocol("h11", HeaderLimits(2.0, 4096))
    assert pickle.loads(pickle.dumps(factory)).args == factory.args  # --workers / --reload re-create it
    with pytest.raises(ValueError):
        guarded_protocol("hyper")


def test_uvicorn_options_turn_forwarded_headers_off() -> None:
    options = AppConfig().uvicorn_options()
    assert options["proxy_headers"] is False
    assert options["http"].args[1] == HeaderLimits(5.0, 1 << 20)  # Go's ReadHeaderTimeout and MaxHeaderBytes


def test_server_error_headers_match_the_default_security_policy() -> None:
    expected = [(n.lower().encode(), v.encode()) for n, v in security_headers(default_policy(), https=False)]
    assert list(DEFAULT_SECURITY_HEADERS) == expected


def test_well_behaved_requests_and_slow_handlers_are_untouched(served: Served) -> None:
    with served.connect() as conn:
        for path in ("/", "/slow", "/"):  # one keep-alive connection, a handler slower than the head deadline
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            data = b""
            while b"}\n" not in data:
                chunk = conn.recv(65536)
                assert chunk, data
                data += chunk
            status, _, _ = _parse(data)
            assert status == 200
        head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Fill: " + b"f" * (MAX_HEAD - 200) + b"\r\nConnection: close\r\n\r\n"
        with served.connect() as near:  # just under the limit still passes
            near.sendall(head)
            assert _parse(_read_all(near))[0] == 200


def test_idle_connection_is_closed_after_the_head_deadline(served: Served) -> None:
    with served.connect() as conn:
        assert _read_all(conn) == b""  # closed by the server, nothing sent


def test_trickled_head_is_answered_408(served: Served) -> None:
    with served.connect() as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        sent = 0
        try:
            # One header line at a time, each well inside the deadline: the deadline is for the whole head.
            for sent in range(1, 200):
                conn.sendall(b"X-Slow-%d: 1\r\n" % sent)
                readable, _, _ = select.select([conn], [], [], HEAD_TIMEOUT / 5)
                if readable:  # the server answered (and is closing)
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = _read_all(conn)
    assert sent < 199, "the server kept reading a head that never ends"
    _assert_envelope(raw, 408, "REQUEST_HEADER_TIMEOUT")


def _stream_head(conn: socket.socket, total: int) -> int:
    """Send an endless header value in 64 KiB pieces until ``total`` bytes or until the server hangs up."""
    conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ")
    sent = 0
    piece = b"a" * 65536
    try:
        while sent < total:
            conn.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_unfinished_oversized_head_is_cut_off_with_431(served: Served) -> None:
    with served.connect() as conn:
        sent = _stream_head(conn, 64 << 20)
        raw = _read_all(conn)
    assert sent < 64 << 20, "the server buffered a 64 MiB head"
    _assert_envelope(raw, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")


@pytest.mark.parametrize("extra", [1024, 256 * 1024])
def test_complete_oversized_head_is_431(served: Served, extra: int) -> None:
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * (MAX_HEAD + extra) + b"\r\n\r\n"
    with served.connect() as conn:
        try:
            conn.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = _read_all(conn)
    _assert_envelope(raw, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost t\r\n\r\n",  # header line without a colon
        b"GET / HTTP/1.1\r\nHo st: t\r\n\r\n",
        b"G\x00T / HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
)
def test_malformed_requests_get_the_envelope(served: Served, request_bytes: bytes) -> None:
    with served.connect() as conn:
        conn.sendall(request_bytes)
        raw = _read_all(conn)
    _assert_envelope(raw, 400, "BAD_REQUEST")



def test_config_validates_the_http_surface_settings() -> None:
    from plumego.core import ConfigError

    AppConfig(trusted_proxies=("10.0.0.0/8", "::1"), http="h11", read_header_timeout=0, max_header_bytes=0).validate()
    for bad in (AppConfig(http="hyper"), AppConfig(read_header_timeout=-1), AppConfig(trusted_proxy_hops=-1),
                AppConfig(trusted_proxy_hops=33),
                AppConfig(trusted_proxies=("nope",)), AppConfig(trusted_proxies=("10.0.0.1",), trusted_proxy_hops=1)):
        with pytest.raises(ConfigError, match="core prepare_server"):
            bad.validate()


async def test_app_applies_the_trust_setting_before_any_middleware() -> None:
    """The App resolves the client once; middleware registered first already sees the resolved address."""
    from plumego.contract import ASGIApp, Receive, Scope, Send

    seen: list[object] = []

    def spy(app: ASGIApp) -> ASGIApp:
        async def spy_app(scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope.get("client"))
            await app(scope, receive, send)

        return spy_app

    async def hello(request: Request) -> ResponseApp:
        return EnvelopeResponse({"client": request.client})

    for config, expected in ((AppConfig(trusted_proxy_hops=1), ("203.0.113.9", 0)),
                             (AppConfig(), ("127.0.0.1", 40000))):
        app = App(config)
        app.use(spy)
        app.get("/", hello)
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "root_path": "", "scheme": "http",
                 "query_string": b"", "headers": [(b"x-forwarded-for", b"203.0.113.9")],
                 "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}
        await app(scope, receive, send)
        assert seen[-1] == expected and sent[0]["status"] == 200
