"""The reference app under uvicorn over real sockets, with both HTTP implementations (h11, httptools):
a 413 leaves a pooled keep-alive connection usable or closes it gracefully, and a client that hangs up
mid-body is one INFO access line (status 499), never a 500 with a traceback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from plumego.log import LoggerConfig, new_logger
from reference_app.app import build_app
from reference_app.config import Config

LIMIT = 1 << 20  # the reference app's default body limit
BIG_JSON = json.dumps({"name": "x" * (2 << 20)}).encode()  # the 2 MiB JSON body of issue 12.3


@dataclass
class Running:
    host: str
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(params=["h11", "httptools"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    log_path = tmp_path / "app.log"
    stream = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    app = build_app(Config(data_dir=tmp_path / "data", rate_limit_burst=100_000),
                    new_logger(LoggerConfig(format="text", output=stream)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http=request.param,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield Running("127.0.0.1", port, log_path)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        stream.close()


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for offset in range(0, len(body), size):
        yield body[offset:offset + size]


def _assert_413(response: httpx.Response, at: str) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "REQUEST_BODY_TOO_LARGE" and error["details"]["at"] == at
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_pooled_client_reads_the_413_for_a_2_mib_body(running: Running, framing: str) -> None:
    with httpx.Client(base_url=running.base_url, timeout=30.0) as client:  # one pool, keep-alive
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
            content = BIG_JSON if framing == "content-length" else _chunks(BIG_JSON)
            response = client.post("/api/v1/items", content=content, headers={"content-type": "application/json"})
            _assert_413(response, "content_length" if framing == "content-length" else "body")
        created = client.post("/api/v1/items", json={"name": "after"})  # the pool is still healthy
        assert created.status_code == 201


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response with a Content-Length body: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return head, body


def _post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def test_413_over_the_discard_bound_closes_gracefully_not_with_a_reset(running: Running) -> None:
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        try:
            sock.sendall(_post("/api/v1/items", BIG_JSON))
        except (BrokenPipeError, ConnectionResetError) as exc:
            pytest.fail(f"the server reset the connection while the body was being sent: {exc!r}")
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
        assert json.loads(body)["error"]["details"]["at"] == "content_length"
        # The server read the whole body before closing: a clean FIN, no RST.
        assert sock.recv(65536) == b""


def test_413_with_a_small_remainder_keeps_the_connection(running: Running) -> None:
    # Chunked body that crosses the 1 MiB limit with less than 256 KiB left: discarded, connection kept.
    payload = b'{"name":"' + b"y" * (LIMIT + 100 * 1024) + b'"}'
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in _chunks(payload)) + b"0\r\n\r\n"
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 413") and b"connection: close" not in head.lower()
        assert json.loads(body)["error"]["details"]["at"] == "body"
        sock.sendall(_post("/api/v1/items", b'{"name":"next"}'))  # same connection
        head, body = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 201"), head


def test_client_disconnect_mid_body_is_one_info_line_without_500(running: Running) -> None:
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"X-Request-ID: gone-1\r\nContent-Length: 100000\r\n\r\n" + b'{"name":"' + b"z" * 5000)
        time.sleep(0.2)  # let the handler start reading the body
    deadline = time.monotonic() + 10
    while not any("gone-1" in line for line in running.log_lines()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # anything else the request would log arrives now
    lines = running.log_lines()
    related = [line for line in lines if "gone-1" in line]
    assert len(related) == 1, lines
    assert related[0].startswith("I") and "status=499" in related[0], related
    assert not any("Traceback" in line or "panic" in line or "status=500" in line for line in lines), lines


def test_expect_100_continue_gets_the_413_without_being_asked_for_the_body(running: Running) -> None:
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(BIG_JSON))
        head, body = _read_response(sock)  # the client never sends the body
        assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
        assert json.loads(body)["error"]["details"]["at"] == "content_length"
        assert sock.recv(65536) == b""


def test_access_line_cannot_be_forged_or_inflated_over_a_socket(running: Running) -> None:
    # Servers refuse raw C0 bytes in header values, but not UTF-8 (obs-text) such as U+0085 and U+2028;
    # ESC and LF arrive percent-encoded in the path, which the server decodes.
    forged_ua = ("curl\u0085I1206 00:00:00.000000 1 [x.py:1] request completed status=200\u2028"
                 .encode("utf-8") + b"A" * 10_000)
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(b"GET /api/hello%1b%5b31m%0aX HTTP/1.1\r\nHost: test\r\nUser-Agent: " + forged_ua
                     + b"\r\nX-Request-ID: " + "\u202eevil".encode("utf-8") + b"\r\n\r\n")
        head, _ = _read_response(sock)
    rid = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"x-request-id:"))
    assert rid != "\u202eevil".encode("utf-8") and rid.isalnum() and len(rid) == 12  # refused and replaced
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in running.log_path.read_text(encoding="utf-8").split("\n") if rid.decode() in line]
        if lines:
            break
        time.sleep(0.05)
    assert len(lines) == 1
    line = lines[0]
    assert line.isprintable() and len(line.splitlines()) == 1 and len(line) < 2048
    # header bytes are read as latin-1, so UTF-8 U+0085 is "\u00c2\u0085" and U+2028 ends in C1 0x80/0xA8
    assert "\\u0085" in line and "\\u001b" in line and "\\n" in line  # escaped, not raw
    assert "...[truncated" in line  # the 10 kB user agent is capped
