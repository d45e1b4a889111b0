"""Devtools: refused in production, routes/middleware/config (redacted)/info, and the profiling endpoints."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from plumego.contract import Request
from plumego.core import App
from plumego.middleware import request_id
from plumego.x.observability.devtools import DevtoolsRefused, mount_devtools, redact


@dataclass
class ServiceConfig:
    database_url: str = "sqlite:///x.db"
    api_key: str = "abc123"
    db_password: str = "hunter2"
    workers: int = 2


@pytest.mark.parametrize("environment", ["production", "PROD", " live "])
def test_refuses_production(environment: str) -> None:
    with pytest.raises(DevtoolsRefused):
        mount_devtools(App(), environment=environment)


def test_refuses_production_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUMEGO_ENV", "production")
    with pytest.raises(DevtoolsRefused):
        mount_devtools(App(), environment="development")
    monkeypatch.delenv("PLUMEGO_ENV")
    with pytest.raises(DevtoolsRefused):
        mount_devtools(App(), environment="")


def test_redact() -> None:
    assert redact({"token": "t", "nested": {"password": "p", "ok": [1, "x"]}, "empty_secret": ""}) == {
        "token": "***", "nested": {"password": "***", "ok": [1, "x"]}, "empty_secret": ""}


async def test_routes() -> None:
    app = App()
    app.use(request_id())

    async def hello(request: Request) -> dict[str, str]:
        return {"hello": "world"}

    app.get("/hello", hello, name="hello")
    paths = mount_devtools(app, environment="development", config=ServiceConfig())
    assert "/_debug/pprof/profile" in paths
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dev") as client:
        text = (await client.get("/_debug/routes")).text
        assert "/hello  (hello)" in text
        listed = (await client.get("/_debug/routes.json")).json()["routes"]
        assert any(r["method"] == "GET" and r["path"] == "/hello" for r in listed)
        assert (await client.get("/_debug/middleware")).json()["middleware"] == ["request_id"]
        config = (await client.get("/_debug/config")).json()["service"]
        assert config == {"database_url": "sqlite:///x.db", "api_key": "***", "db_password": "***", "workers": 2}
        assert (await client.get("/_debug/info")).json()["pid"] > 0

        async def busy() -> None:
            for _ in range(20):
                await asyncio.sleep(0.005)
                sum(i * i for i in range(2000))

        worker = asyncio.create_task(busy())
        profile = await client.get("/_debug/pprof/profile?seconds=0.2")
        await worker
        assert profile.status_code == 200 and "function calls" in profile.text
        for bad in ("0", "31", "abc", "nan"):
            assert (await client.get(f"/_debug/pprof/profile?seconds={bad}")).status_code == 400
        assert (await client.get("/_debug/pprof/heap")).status_code == 409
        assert (await client.get("/_debug/pprof/heap?start=1")).json()["tracing"] is True
        heap = (await client.get("/_debug/pprof/heap")).json()
        assert heap["current_bytes"] > 0
        assert (await client.get("/_debug/pprof/heap?stop=1")).json() == {"tracing": False}
        assert "---" in (await client.get("/_debug/pprof/tasks")).text
        assert "MainThread" in (await client.get("/_debug/pprof/threads")).text
