"""Issue 13 regressions against ``python -m reference_app`` over real sockets: slow and oversized request heads
and malformed requests (both uvicorn HTTP implementations), forwarded addresses and the one trust setting,
inputs that used to reach a 500, CORS preflight for writes and 415, and leniency Go refuses."""

from __future__ import annotations

import http.client
import json
import select
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reference_app.domain.items import ItemInvalid, ItemService

Server = Any  # conftest.Server
Spawn = Any  # conftest's spawn fixture
Check = Callable[[httpx.Response, int, str], dict[str, Any]]

SECURITY_HEADERS = {"x-frame-options": "SAMEORIGIN", "x-content-type-options": "nosniff",
                    "referrer-policy": "strict-origin-when-cross-origin"}
INT64_MAX = (1 << 63) - 1


def _address(server: Server) -> tuple[str, int]:
    parts = urlsplit(server.base_url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(_address(server), timeout=30)


def _read_all(conn: socket.socket) -> bytes:
    out = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def _server_error(raw: bytes, status: int, code: str) -> dict[str, Any]:
    """A server-originated answer: the canonical envelope, a request id and the default security headers."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert int(lines[0].split(" ")[1]) == status, raw[:300]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value
    envelope = json.loads(body)
    assert set(envelope) == {"error", "request_id"} and envelope["request_id"] == headers["x-request-id"]
    assert envelope["error"]["code"] == code
    return dict(envelope["error"])


# --- item 1 and item 8: request heads and malformed requests, on both HTTP implementations -------------------

@pytest.mark.parametrize("implementation", ["h11", "httptools"])
def test_request_head_limits_and_server_errors(spawn: Spawn, tmp_path: Path, implementation: str) -> None:
    srv = spawn(tmp_path / implementation, env={"APP_HTTP": implementation, "APP_READ_HEADER_TIMEOUT": "0.5",
                                                "APP_MAX_HEADER_BYTES": "16384"})
    # A complete request with a header far over the limit: 431, not 200.
    with _connect(srv) as conn:
        try:
            conn.sendall(b"GET /api/hello HTTP/1.1\r\nHost: t\r\nX-Big: " + b"v" * (1 << 20) + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        error = _server_error(_read_all(conn), 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
        assert error["details"] == {"max_bytes": 16384}
    # A head that never ends is cut off at the limit instead of being buffered (the probe sent 64 MB).
    with _connect(srv) as conn:
        conn.sendall(b"GET /api/hello HTTP/1.1\r\nHost: t\r\nX-Big: ")
        sent = 0
        try:
            while sent < 64 << 20:
                conn.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 64 << 20
        _server_error(_read_all(conn), 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
    # A head trickled one line at a time is answered 408 once its deadline passes, however often bytes arrive.
    with _connect(srv) as conn:
        conn.sendall(b"GET /api/hello HTTP/1.1\r\nHost: t\r\n")
        lines = 0
        try:
            while lines < 200 and not select.select([conn], [], [], 0.1)[0]:
                conn.sendall(b"X-Line-%d: x\r\n" % lines)
                lines += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert lines < 200
        _server_error(_read_all(conn), 408, "REQUEST_HEADER_TIMEOUT")
    # An idle connection is closed without a word.
    with _connect(srv) as conn:
        assert _read_all(conn) == b""
    # A malformed request (uvicorn's "Invalid HTTP request received.") gets the envelope, not plain text.
    with _connect(srv) as conn:
        conn.sendall(b"GET /api/hello HTTP/1.1\r\nHost t\r\n\r\n")
        _server_error(_read_all(conn), 400, "BAD_REQUEST")
    with srv.client() as client:  # and the server is unharmed
        assert client.get("/api/hello", headers={"X-Fill": "f" * 8000}).status_code == 200


# --- item 2: forwarded addresses -----------------------------------------------------------------------------

def _hello_statuses(srv: Server, forwarded: list[str]) -> list[int]:
    with srv.client() as client:
        return [client.get("/api/hello", headers={"X-Forwarded-For": value}).status_code for value in forwarded]


def test_forwarded_for_is_ignored_without_a_trust_setting(spawn: Spawn, tmp_path: Path) -> None:
    srv = spawn(tmp_path / "untrusted", env={"APP_RATE_LIMIT_PER_SECOND": "0.001", "APP_RATE_LIMIT_BURST": "3"})
    # Six forged addresses from one loopback peer used to get six fresh buckets; now they share the peer's.
    assert _hello_statuses(srv, [f"198.51.100.{i}" for i in range(6)]) == [200, 200, 200, 429, 429, 429]


def test_trusted_proxies_drive_the_rate_limit_key(spawn: Spawn, tmp_path: Path) -> None:
    srv = spawn(tmp_path / "trusted", env={"APP_RATE_LIMIT_PER_SECOND": "0.001", "APP_RATE_LIMIT_BURST": "1",
                                           "APP_TRUSTED_PROXIES": "127.0.0.1/32, ::1"})
    assert _hello_statuses(srv, ["203.0.113.1", "203.0.113.2", "6.6.6.6, 203.0.113.1"]) == [200, 200, 429]
    # A header that is not an address never becomes a key: those requests fall back to the proxy's own bucket.
    assert _hello_statuses(srv, ["x" * 100_000, "y" * 100_000]) == [200, 429]


def test_trusted_hops_drive_the_rate_limit_key(spawn: Spawn, tmp_path: Path) -> None:
    srv = spawn(tmp_path / "hops", env={"APP_RATE_LIMIT_PER_SECOND": "0.001", "APP_RATE_LIMIT_BURST": "1",
                                        "APP_TRUSTED_PROXY_HOPS": "1"})
    assert _hello_statuses(srv, ["1.1.1.1, 203.0.113.5", "2.2.2.2, 203.0.113.5", "203.0.113.6"]) == [200, 429, 200]


# --- item 4: inputs that reached a 500 ---------------------------------------------------------------------

def test_unstorable_input_is_a_client_error(server: Server, envelope: Check) -> None:
    json_type = {"content-type": "application/json"}
    with server.client() as client:
        created = client.post("/api/v1/items", json={"name": "surrogate-target"}).json()["data"]
        url = f"/api/v1/items/{created['id']}"
        for method, path, op in (("POST", "/api/v1/items", "create"), ("PUT", url, "update"), ("PATCH", url, "patch")):
            for body in (b'{"name":"\\ud800"}', b'{"name":"ok","description":"\\udfff tail"}',
                         b'{"name": 1e999}', b'{"name": NaN}'):
                envelope(client.request(method, path, content=body, headers=json_type), 400, f"item.{op}.invalid_json")
        assert client.get(url).json()["data"]["name"] == "surrogate-target"  # nothing was half-written
        for query in (f"offset={INT64_MAX + 1}", "offset=99999999999999999999999999", "limit=18446744073709551616"):
            envelope(client.get(f"/api/v1/items?{query}"), 400, "VALUE_OUT_OF_RANGE")
        edge = client.get(f"/api/v1/items?offset={INT64_MAX}")
        assert edge.status_code == 200 and edge.json()["data"] == []
    assert "item storage failed" not in server.log()


def test_item_rules_refuse_unencodable_text() -> None:
    """The domain validation refuses it too, for callers that do not come through the JSON decoder."""
    with pytest.raises(ItemInvalid) as caught:
        ItemService.create(ItemService(repo=None), {"name": "ok\ud800"})  # type: ignore[arg-type]
    assert caught.value.fields == {"name": "must be valid Unicode text"}


# --- item 6: CORS preflight for writes, and 415 -------------------------------------------------------------

def test_cors_preflight_allows_the_write_key(spawn: Spawn, tmp_path: Path) -> None:
    origin = "https://app.example"
    srv = spawn(tmp_path / "cors", env={"APP_WRITE_KEY": "k3y", "APP_CORS_ALLOWED_ORIGINS": origin})
    with srv.client() as client:
        preflight = client.options("/api/v1/items", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-write-key"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "x-write-key" in preflight.headers["access-control-allow-headers"].lower()
        assert "POST" in preflight.headers["access-control-allow-methods"]
        write = client.post("/api/v1/items", json={"name": "from-browser"},
                            headers={"Origin": origin, "X-Write-Key": "k3y"})
        assert write.status_code == 201 and write.headers["access-control-allow-origin"] == origin
        assert "X-Request-ID" in write.headers["access-control-expose-headers"]
        other = client.options("/api/v1/items", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-write-key"})
        assert "access-control-allow-origin" not in other.headers


def test_writes_that_are_not_json_are_415(server: Server, envelope: Check) -> None:
    body = json.dumps({"name": "csrf"}).encode()
    with server.client() as client:
        url = "/api/v1/items/" + client.post("/api/v1/items", json={"name": "target"}).json()["data"]["id"]
        for method, path, op in (("POST", "/api/v1/items", "create"), ("PUT", url, "update"), ("PATCH", url, "patch")):
            # What a cross-origin page can send without a preflight: text/plain, a form, or no type at all.
            for content_type in ("text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", None, "application/json; charset=utf-16"):
                headers = {"Origin": "https://evil.example"}
                if content_type:
                    headers["content-type"] = content_type
                response = client.request(method, path, content=body, headers=headers)
                envelope(response, 415, f"item.{op}.unsupported_media_type")
        assert client.post("/api/v1/items", content=body,
                           headers={"content-type": "application/json; charset=utf-8"}).status_code == 201


# --- item 7: leniency Go refuses ---------------------------------------------------------------------------

def test_integers_are_ascii_digits_only(server: Server, envelope: Check) -> None:
    with server.client() as client:
        for value in ("+5", " 5 ", "1_0", "٥", "５", "0x5", "5.0"):
            envelope(client.get("/api/v1/items", params={"limit": value}), 400, "INVALID_FORMAT")
        assert client.get("/api/v1/items", params={"limit": "5"}).json()["meta"]["limit"] == 5


def test_json_bodies_must_be_utf8_without_bom(server: Server, envelope: Check) -> None:
    document = '{"name":"x"}'
    json_type = {"content-type": "application/json"}
    with server.client() as client:
        for body in (document.encode("utf-16"), document.encode("utf-16-le"), document.encode("utf-32"),
                     b"\xef\xbb\xbf" + document.encode()):
            envelope(client.post("/api/v1/items", content=body, headers=json_type), 400, "item.create.invalid_json")


def test_encoded_slash_does_not_reach_the_list(server: Server) -> None:
    host, port = _address(server)
    for path, status in (("/api%2fv1%2fitems", 404), ("/api%2Fv1/items", 404), ("/api/v1%2Fitems", 404),
                         ("/api/v1/items", 200)):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", path)  # sent byte for byte, no client-side normalisation
            response = conn.getresponse()
            body = json.loads(response.read())
        finally:
            conn.close()
        assert response.status == status, (path, body)
        if status == 404:
            assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
