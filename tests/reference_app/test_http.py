"""The reference app over real HTTP (uvicorn subprocess): routes, strict decoding, error envelopes,
body limits, 404/405, the write-key guard and concurrent writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

Server = Any  # conftest.Server
Spawn = Any  # conftest's spawn fixture
Check = Callable[[httpx.Response, int, str], dict[str, Any]]


def test_info_routes_answer_the_success_envelope(server: Server) -> None:
    with server.client() as client:
        for path in ("/", "/healthz", "/readyz", "/api/hello", "/api/info"):
            response = client.get(path)
            assert response.status_code == 200, path
            body = response.json()
            assert set(body) == {"data", "request_id"}
            assert body["request_id"] == response.headers["x-request-id"]
        live = client.get("/healthz").json()["data"]
        assert live["status"] == "ok" and live["service"] == "plumego-reference"
        ready = client.get("/readyz").json()["data"]
        assert ready["ready"] is True and ready["components"] == {"item_store": True}
        assert client.get("/api/hello").json()["data"] == {"message": "hello from plumego"}
        head = client.head("/api/hello")
        assert head.status_code == 200 and head.content == b""


def test_greet_requires_name(server: Server, envelope: Check) -> None:
    with server.client() as client:
        assert client.get("/api/v1/greet", params={"name": "Ada"}).json()["data"] == {"message": "hello, Ada"}
        error = envelope(client.get("/api/v1/greet"), 400, "REQUIRED_FIELD_MISSING")
        assert error["details"] == {"name": "field is required"}
        envelope(client.get("/api/v1/greet?name=%20"), 400, "REQUIRED_FIELD_MISSING")


def test_items_crud_round_trip(server: Server, envelope: Check) -> None:
    with server.client() as client:
        created = client.post("/api/v1/items", json={"name": " widget ", "description": "blue"})
        assert created.status_code == 201
        item = created.json()["data"]
        assert list(item) == ["id", "name", "description", "created_at"]
        assert item["name"] == "widget" and item["description"] == "blue"
        url = f"/api/v1/items/{item['id']}"
        assert client.get(url).json()["data"] == item

        replaced = client.put(url, json={"name": "gadget"}).json()["data"]
        assert (replaced["name"], replaced["description"], replaced["created_at"]) == ("gadget", "", item["created_at"])
        patched = client.patch(url, json={"description": "red", "name": ""}).json()["data"]
        assert (patched["name"], patched["description"]) == ("gadget", "red")  # empty fields are left alone

        deleted = client.delete(url)
        assert deleted.status_code == 204 and deleted.content == b""
        envelope(client.get(url), 404, "item.not_found")
        envelope(client.put(url, json={"name": "x"}), 404, "item.not_found")
        envelope(client.patch(url, json={"name": "x"}), 404, "item.not_found")
        envelope(client.delete(url), 404, "item.not_found")


@pytest.mark.parametrize(
    ("method", "op"), [("POST", "create"), ("PUT", "update"), ("PATCH", "patch")]
)
def test_strict_json_decoding(server: Server, method: str, op: str, envelope: Check) -> None:
    path = "/api/v1/items" if method == "POST" else "/api/v1/items/whatever"
    with server.client() as client:
        for body in (b"", b"   \n"):
            envelope(client.request(method, path, content=body), 400, f"item.{op}.body_required")
        json_type = {"content-type": "application/json"}
        for body in (b'{"name":', b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b'{"name": "a"} trailing'):
            envelope(client.request(method, path, content=body, headers=json_type), 400, f"item.{op}.invalid_json")
        unknown = client.request(method, path, json={"name": "a", "colour": "red"})
        error = envelope(unknown, 400, f"item.{op}.unknown_field")
        assert error["details"] == {"field": "colour"} and error["type"] == "bad_request"


def test_missing_and_invalid_fields(server: Server, envelope: Check) -> None:
    with server.client() as client:
        error = envelope(client.post("/api/v1/items", json={"description": "x"}), 400, "REQUIRED_FIELD_MISSING")
        assert error["details"] == {"name": "field is required"} and error["type"] == "required_field_missing"
        invalid = client.post("/api/v1/items", json={"name": 7, "description": "x" * 2001})
        error = envelope(invalid, 400, "VALIDATION_ERROR")
        assert set(error["details"]) == {"name", "description"}


def test_list_pagination_and_query_validation(server: Server, envelope: Check) -> None:
    with server.client() as client:
        ids = [client.post("/api/v1/items", json={"name": f"page-{i}"}).json()["data"]["id"] for i in range(3)]
        first = client.get("/api/v1/items").json()
        assert first["meta"]["limit"] == 20 and first["meta"]["offset"] == 0
        total = first["meta"]["total"]
        assert total >= 3
        tail = client.get("/api/v1/items", params={"limit": 2, "offset": total - 2}).json()
        assert tail["meta"] == {"total": total, "limit": 2, "offset": total - 2}
        assert [item["id"] for item in tail["data"]] == ids[-2:]
        assert client.get("/api/v1/items", params={"offset": total}).json()["data"] == []
        for query, code in (("limit=0", "VALUE_OUT_OF_RANGE"), ("limit=101", "VALUE_OUT_OF_RANGE"),
                            ("offset=-1", "VALUE_OUT_OF_RANGE"), ("limit=ten", "INVALID_FORMAT")):
            envelope(client.get(f"/api/v1/items?{query}"), 400, code)


def test_oversized_bodies_answer_413(server: Server, envelope: Check) -> None:
    with server.client() as client:
        declared = client.post("/api/v1/items", content=b"x" * 8192, headers={"content-type": "application/json"})
        error = envelope(declared, 413, "REQUEST_BODY_TOO_LARGE")
        assert error["details"]["at"] == "content_length" and error["details"]["max_bytes"] == 4096

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "' + b"y" * 2500
        yield b"z" * 2500 + b'"}'

    with server.client() as client:  # chunked: no Content-Length, the stream crosses the limit
        streamed = client.post("/api/v1/items", content=chunks())
        error = envelope(streamed, 413, "REQUEST_BODY_TOO_LARGE")
        assert error["details"]["at"] == "body"
    with server.client() as client:  # the service is unharmed
        assert client.post("/api/v1/items", json={"name": "small"}).status_code == 201


def test_unknown_routes_and_wrong_methods(server: Server, envelope: Check) -> None:
    with server.client() as client:
        for method, path in (("GET", "/nope"), ("POST", "/api/v1/nope"), ("GET", "/api/v2/items"),
                             ("GET", "/api/v1/items/a/b")):
            envelope(client.request(method, path), 404, "RESOURCE_NOT_FOUND")
        for method, path, allow in (("DELETE", "/api/hello", "GET, HEAD"), ("POST", "/healthz", "GET, HEAD"),
                                    ("PATCH", "/api/v1/items", "GET, HEAD, POST"),
                                    ("POST", "/api/v1/items/abc", "DELETE, GET, HEAD, PATCH, PUT")):
            response = client.request(method, path)
            envelope(response, 405, "METHOD_NOT_ALLOWED")
            assert response.headers["allow"] == allow


def test_concurrent_creates_then_list(server: Server) -> None:
    async def run() -> tuple[list[httpx.Response], httpx.Response]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60.0) as client:
            created = await asyncio.gather(
                *(client.post("/api/v1/items", json={"name": f"burst-{i}"}) for i in range(50))
            )
            listing = await client.get("/api/v1/items", params={"limit": 100})
            return list(created), listing

    created, listing = asyncio.run(run())
    assert [r.status_code for r in created] == [201] * 50
    ids = {r.json()["data"]["id"] for r in created}
    assert len(ids) == 50
    total = listing.json()["meta"]["total"]
    with server.client() as client:
        seen: set[str] = set()
        for offset in range(0, total, 100):
            page = client.get("/api/v1/items", params={"limit": 100, "offset": offset}).json()["data"]
            seen |= {item["id"] for item in page}
    assert ids <= seen


def test_request_ids_are_echoed(server: Server) -> None:
    with server.client() as client:
        response = client.get("/nope", headers={"X-Request-ID": "trace-me-123"})
        assert response.headers["x-request-id"] == "trace-me-123"
        assert response.json()["request_id"] == "trace-me-123"


def test_write_key_guard(spawn: Spawn, tmp_path: Path, envelope: Check) -> None:
    srv = spawn(tmp_path / "keyed", "--write-key", "s3cret")
    with srv.client() as client:
        envelope(client.post("/api/v1/items", json={"name": "a"}), 401, "auth.key.invalid")
        wrong = client.post("/api/v1/items", json={"name": "a"}, headers={"X-Write-Key": "s3cre"})
        assert envelope(wrong, 401, "auth.key.invalid")["type"] == "unauthorized_request"
        ok = client.post("/api/v1/items", json={"name": "a"}, headers={"X-Write-Key": "s3cret"})
        assert ok.status_code == 201
        url = f"/api/v1/items/{ok.json()['data']['id']}"
        assert client.get(url).status_code == 200 and client.get("/api/v1/items").status_code == 200
        for method in ("PUT", "PATCH", "DELETE"):
            envelope(client.request(method, url, json={"name": "b"}), 401, "auth.key.invalid")
        assert client.delete(url, headers={"X-Write-Key": "s3cret"}).status_code == 204
    assert srv.terminate() == 0


def test_security_headers_on_every_answer(server: Server) -> None:
    with server.client() as client:
        for response in (client.get("/api/hello"), client.get("/nope"), client.post("/api/v1/items", content=b"")):
            assert response.headers["x-frame-options"] == "SAMEORIGIN"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
            assert "strict-transport-security" not in response.headers  # plain HTTP


def test_abuse_guard_limits_per_client_but_not_probes(spawn: Spawn, tmp_path: Path, envelope: Check) -> None:
    srv = spawn(tmp_path / "limited", env={"APP_RATE_LIMIT_PER_SECOND": "0.001", "APP_RATE_LIMIT_BURST": "3"})
    with srv.client() as client:
        allowed = [client.get("/api/hello") for _ in range(3)]
        assert [r.status_code for r in allowed] == [200, 200, 200]
        assert [r.headers["x-ratelimit-remaining"] for r in allowed] == ["2", "1", "0"]
        denied = client.get("/api/hello")
        error = envelope(denied, 429, "RATE_LIMITED")
        assert error["type"] == "rate_limited" and int(denied.headers["retry-after"]) >= 1
        envelope(client.post("/api/v1/items", json={"name": "a"}), 429, "RATE_LIMITED")
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert srv.terminate() == 0
