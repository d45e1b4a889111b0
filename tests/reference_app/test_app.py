"""The wired App in-process (httpx ASGI transport): failure paths that a healthy subprocess cannot show —
readiness 503 and storage failures — plus the route table and middleware wiring."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx

from reference_app.app import ReferenceService
from reference_app.config import Config
from plumego.log import LoggerConfig, new_logger


def _service(tmp_path: Path, **overrides: object) -> tuple[ReferenceService, io.StringIO]:
    out = io.StringIO()
    cfg = Config(data_dir=tmp_path / "data", **overrides)  # type: ignore[arg-type]
    service = ReferenceService(cfg, new_logger(LoggerConfig(format="json", output=out)))
    service.register_routes()
    return service, out


def _client(service: ReferenceService) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://refapp")


async def test_routes_are_registered_explicitly(tmp_path: Path) -> None:
    service, _ = _service(tmp_path)
    table = {(r.method, r.path) for r in service.app.routes()}
    assert table == {
        ("GET", "/"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/api/hello"), ("GET", "/api/info"),
        ("GET", "/api/v1/greet"), ("GET", "/api/v1/items"), ("POST", "/api/v1/items"),
        ("GET", "/api/v1/items/:id"), ("PUT", "/api/v1/items/:id"), ("PATCH", "/api/v1/items/:id"),
        ("DELETE", "/api/v1/items/:id"),
    }
    service.store.close()


async def test_readiness_fails_with_one_detail_per_component(tmp_path: Path, envelope: object) -> None:
    service, _ = _service(tmp_path)
    async with _client(service) as client:
        assert (await client.get("/readyz")).status_code == 200
        service.store.close()
        response = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200  # liveness does not depend on the store
    error = envelope(response, 503, "health.component.unhealthy")  # type: ignore[operator]
    assert error["type"] == "service_unavailable"
    assert error["message"] == "one or more components are not ready"
    assert list(error["details"]) == ["item_store"] and error["details"]["item_store"]


async def test_storage_failures_are_logged_not_leaked(tmp_path: Path, envelope: object) -> None:
    service, logs = _service(tmp_path)
    service.store.close()
    async with _client(service) as client:
        responses = {
            "create": await client.post("/api/v1/items", json={"name": "a"}),
            "list": await client.get("/api/v1/items"),
            "get": await client.get("/api/v1/items/abc"),
        }
    for op, response in responses.items():
        error = envelope(response, 500, f"item.{op}.failed")  # type: ignore[operator]
        assert error["message"] == f"failed to {op} item"
        assert "closed" not in response.text.lower() and "sqlite" not in response.text.lower()
    records = [json.loads(line) for line in logs.getvalue().splitlines()]
    failures = [r for r in records if r["msg"] == "item storage failed"]
    assert [r["op"] for r in failures] == ["create", "list", "get"]
    assert all(r["level"] == "ERROR" and "ProgrammingError" in r["error"] and r["request_id"] for r in failures)


async def test_startup_warnings_and_quiet_config(tmp_path: Path) -> None:
    _, logs = _service(tmp_path / "a")
    warnings = [json.loads(line)["msg"] for line in logs.getvalue().splitlines()]
    assert any("APP_WRITE_KEY is empty" in msg for msg in warnings)
    assert any("CORS allows every origin" in msg for msg in warnings)
    service, logs = _service(tmp_path / "b", write_key="k", cors_allowed_origins=("https://example.com",))
    assert logs.getvalue() == ""
    async with _client(service) as client:
        response = await client.get("/api/hello", headers={"Origin": "https://example.com"})
        assert response.headers["access-control-allow-origin"] == "https://example.com"
        other = await client.get("/api/hello", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    service.store.close()
