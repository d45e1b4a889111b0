"""The scheduler's admin routes through the App: health, stats, job listing and actions, bulk actions by group and
tag, and the dead-letter list."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from plumego.core import App
from plumego.x.messaging.scheduler import (
    JobContext,
    JobOptions,
    Scheduler,
    SQLiteJobStore,
    register_admin_routes,
)


async def test_admin_routes(tmp_path: Path) -> None:
    scheduler = Scheduler(SQLiteJobStore(tmp_path / "j.db"), poll_interval=0.05)

    async def fail(ctx: JobContext) -> None:
        raise RuntimeError("boom")

    scheduler.register_task("fail", fail)
    await scheduler.add_cron("nightly", "@daily", "fail", options=JobOptions(group="reports", tags=("eu",)))
    await scheduler.add_cron("hourly", "@hourly", "fail", options=JobOptions(group="reports"))
    await scheduler.delay("once", 3600, "fail")
    app = App()
    register_admin_routes(app, scheduler)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduler.test")
    assert (await client.get("/scheduler/health")).status_code == 503           # not started yet
    listed = (await client.get("/scheduler/jobs?group=reports")).json()["items"]
    assert [j["id"] for j in listed] == ["hourly", "nightly"]
    assert (await client.get("/scheduler/jobs?state=nope")).status_code == 400
    assert (await client.post("/scheduler/jobs/nightly/pause")).json() == {"id": "nightly", "action": "pause"}
    assert (await client.post("/scheduler/jobs/nightly/pause")).status_code == 409
    assert (await client.post("/scheduler/jobs/nightly/explode")).status_code == 404
    assert (await client.get("/scheduler/jobs/nightly")).json()["state"] == "paused"
    assert (await client.post("/scheduler/groups/reports/resume")).json()["changed"] == 1
    assert (await client.post("/scheduler/tags/eu/cancel")).json()["changed"] == 1
    assert (await client.post("/scheduler/groups/reports/explode")).status_code == 400
    assert (await client.post("/scheduler/jobs/once/trigger")).status_code == 200
    await scheduler.start()
    try:
        assert (await client.get("/scheduler/health")).json() == {"status": "ok"}
        for _ in range(600):
            if (await client.get("/scheduler/dlq")).json()["items"]:
                break
            await asyncio.sleep(0.05)
        (dead,) = (await client.get("/scheduler/dlq")).json()["items"]
        assert dead["job_id"] == "once" and dead["error"] == "RuntimeError: boom"
        assert (await client.get(f"/scheduler/dlq/{dead['id']}")).json()["job_id"] == "once"
        stats = (await client.get("/scheduler/stats")).json()
        assert stats["jobs"]["dead"] == 1 and stats["jobs"]["canceled"] == 1 and stats["dead_letters"] == 1
        assert (await client.delete(f"/scheduler/dlq/{dead['id']}")).json() == {"deleted": 1}
        assert (await client.delete(f"/scheduler/dlq/{dead['id']}")).status_code == 404
        assert (await client.delete("/scheduler/dlq")).json() == {"deleted": 0}
    finally:
        await client.aclose()
        await scheduler.stop()
        await scheduler.store.close()
