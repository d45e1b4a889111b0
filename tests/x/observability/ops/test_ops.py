"""Ops routes: bearer token (fail closed without one), hooks, *_NOT_CONFIGURED / *_FAILED, bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plumego.core import App
from plumego.x.observability import PrometheusCollector
from plumego.x.observability.ops import OpsHooks, OpsOptions, register_ops_routes

TOKEN = "s3cret-ops-token"


def client_for(options: OpsOptions) -> httpx.AsyncClient:
    app = App()
    register_ops_routes(app, options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops.test")


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_fails_closed_without_a_token() -> None:
    async with client_for(OpsOptions(hooks=OpsHooks(queue_list=lambda: ["a"]))) as client:
        for path in ("/ops", "/ops/queue", "/ops/runtime"):
            response = await client.get(path, headers=auth("anything"))
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "OPS_AUTH_NOT_CONFIGURED"
    async with client_for(OpsOptions(allow_insecure=True)) as client:       # explicit opt-out only
        assert (await client.get("/ops")).status_code == 200


async def test_bearer_token() -> None:
    async with client_for(OpsOptions(token=TOKEN)) as client:
        missing = await client.get("/ops")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "UNAUTHORIZED"
        assert (await client.get("/ops", headers=auth("wrong"))).status_code == 401
        assert (await client.get("/ops", headers={"authorization": "Bearer a b"})).status_code == 401
        assert (await client.get("/ops", headers={"authorization": f"Basic {TOKEN}"})).status_code == 401
        assert (await client.get("/ops?token=" + TOKEN)).status_code == 401     # never from the query string
        ok = await client.get("/ops", headers=auth())
        assert ok.status_code == 200
        assert ok.json()["hooks"]["queue_stats"] is False
        runtime = (await client.get("/ops/runtime", headers=auth())).json()
        assert runtime["pid"] > 0


async def test_hooks_and_errors() -> None:
    replayed: list[tuple[str, int]] = []

    async def replay(queue: str, limit: int) -> int:
        replayed.append((queue, limit))
        return 3

    def broken(tenant: str) -> dict[str, Any]:
        raise RuntimeError("db password=hunter2 leaked?")

    hooks = OpsHooks(queue_stats=lambda q: {"pending": 4, "dead": 1}, queue_replay=replay,
                     receipt_lookup=lambda rid: {"id": rid, "status": "sent"} if rid == "r1" else None,
                     tenant_quota=broken, readiness=lambda: False)
    collector = PrometheusCollector()
    async with client_for(OpsOptions(token=TOKEN, hooks=hooks, extra={"metrics": collector.handler})) as client:
        stats = await client.get("/ops/queue?queue=primary", headers=auth())
        assert stats.json() == {"queue": "primary", "stats": {"pending": 4, "dead": 1}}
        assert (await client.get("/ops/queue", headers=auth())).status_code == 400
        done = await client.post("/ops/queue/replay", headers=auth(), json={"queue": "primary", "limit": 10})
        assert done.json() == {"queue": "primary", "replayed": 3} and replayed == [("primary", 10)]
        for body in ({"queue": "primary", "limit": 0}, {"queue": "p", "limit": True}, {"limit": 5}, [1]):
            assert (await client.post("/ops/queue/replay", headers=auth(), json=body)).status_code == 400
        bad_json = await client.post("/ops/queue/replay", headers={**auth(), "content-type": "application/json"},
                                     content=b"{not json")
        assert bad_json.status_code == 400
        assert (await client.get("/ops/receipts?id=r1", headers=auth())).json()["receipt"]["status"] == "sent"
        assert (await client.get("/ops/receipts?id=zz", headers=auth())).status_code == 404
        channels = await client.get("/ops/channels", headers=auth())
        assert channels.status_code == 501 and channels.json()["error"]["code"] == "CHANNEL_NOT_CONFIGURED"
        failed = await client.get("/ops/tenants/quota?tenant=t1", headers=auth())
        assert failed.status_code == 500 and failed.json()["error"]["code"] == "TENANT_QUOTA_FAILED"
        assert "hunter2" not in failed.text
        assert (await client.get("/ops/ready", headers=auth())).status_code == 503
        metrics = await client.get("/ops/metrics", headers=auth())
        assert metrics.status_code == 200 and "http_requests_total" in metrics.text
        assert (await client.get("/ops/metrics")).status_code == 401


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        register_ops_routes(App(), OpsOptions(token=TOKEN, base_path="/"))
    with pytest.raises(ValueError, match="collides"):
        register_ops_routes(App(), OpsOptions(token=TOKEN, extra={"queue": lambda r: None}))  # type: ignore[dict-item]
