"""The worker as an App lifecycle component: started by lifespan startup, drained by lifespan shutdown, fed by a
route that enqueues. Uses the embedded SQLite backend (the backends themselves are covered by the suite)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from plumego.contract import JSONResponse, Request, Response
from plumego.core import App
from plumego.x.messaging.mq import SQLiteTaskQueue, Task, TaskStatus, Worker
from tests.contract.asgi_driver import call, http_scope


class Lifespan:
    """Drive the App's ASGI lifespan protocol as a server does: startup, then shutdown."""

    def __init__(self, app: App) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.runner = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                              self.inbox.get, self.outbox.put))

    async def event(self, name: str) -> None:
        await self.inbox.put({"type": f"lifespan.{name}"})
        reply = await asyncio.wait_for(self.outbox.get(), 30)
        assert reply["type"] == f"lifespan.{name}.complete", reply


async def test_worker_runs_under_the_app_lifespan(tmp_path: Path) -> None:
    queue = SQLiteTaskQueue(tmp_path / "q.db", poll_interval=0.02)
    done: list[bytes] = []

    async def handle(task: Task) -> None:
        done.append(task.payload)

    worker = Worker(queue, poll_interval=0.02)
    worker.register("jobs", handle)

    async def submit(request: Request) -> Response:
        task = await queue.enqueue("jobs", await request.body())
        return JSONResponse({"id": task.id}, status=202)

    app = App()
    app.post("/jobs", submit)
    app.add_component("mq-worker", worker)
    server = Lifespan(app)
    await server.event("startup")
    try:
        await app.ready()
        res = await call(app, http_scope("POST", "/jobs"), [b"payload-1"])
        assert res.status == 202
        task_id = json.loads(res.body)["id"]
        for _ in range(1500):
            stored = await queue.get(task_id)
            if stored is not None and stored.status == TaskStatus.DONE:
                break
            await asyncio.sleep(0.02)
        assert done == [b"payload-1"]
    finally:
        await server.event("shutdown")
        await asyncio.wait_for(server.runner, 30)
    try:
        await worker.ready()
    except RuntimeError:
        pass                            # stopped by the App's shutdown, as it should be
    else:
        raise AssertionError("the worker still runs after lifespan shutdown")
    await queue.close()
