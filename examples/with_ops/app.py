"""The with_ops service: a small work queue, its routes and wiring. Imports plumego's stable roots and this app's
adapters only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plumego.contract import APIError, ErrorType, JSONResponse, Request, Response
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.metrics import CollectorObserver, MetricsCollector
from plumego.middleware import access_log, http_metrics, recovery, request_id

from .adapters.ops import mount_dev, mount_ops


class WorkQueues:
    """Per-process queues of pending and dead jobs (this example's domain; ops only reads and replays them)."""

    def __init__(self) -> None:
        self._pending: dict[str, list[str]] = {"primary": [], "emails": []}
        self._dead: dict[str, list[str]] = {"primary": [], "emails": []}

    def names(self) -> list[str]:
        return sorted(self._pending)

    def _known(self, queue: str) -> None:
        if queue not in self._pending:
            raise APIError(ErrorType.NOT_FOUND, f"no queue {queue!r}", details={"queue": queue})

    def submit(self, queue: str, job: str, fail: bool) -> None:
        self._known(queue)
        (self._dead if fail else self._pending)[queue].append(job)

    def stats(self, queue: str) -> Mapping[str, int]:
        self._known(queue)
        return {"pending": len(self._pending[queue]), "dead": len(self._dead[queue])}

    def replay(self, queue: str, limit: int) -> int:
        self._known(queue)
        moved, self._dead[queue] = self._dead[queue][:limit], self._dead[queue][limit:]
        self._pending[queue].extend(moved)
        return len(moved)


def build_app(logger: StructuredLogger, *, ops_token: str, environment: str, devtools: bool,
              host: str = "127.0.0.1", port: int = 8087) -> App:
    app = App(AppConfig(host=host, port=port))
    collector = MetricsCollector()
    app.use(request_id())
    app.use(http_metrics(CollectorObserver(collector)))
    app.use(recovery(logger))
    app.use(access_log(logger))
    queues = WorkQueues()

    async def submit(request: Request) -> Response:
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("queue"), str) or not isinstance(body.get("job"), str):
            raise APIError(ErrorType.VALIDATION, 'the body must be {"queue": string, "job": string, "fail"?: bool}')
        queues.submit(body["queue"], body["job"], bool(body.get("fail", False)))
        return JSONResponse({"queued": body["job"]}, status=202)

    async def metrics(request: Request) -> dict[str, Any]:
        return collector.snapshot().to_dict()

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    app.post("/jobs", submit)
    app.get("/healthz", healthz)
    app.get("/metrics", metrics)
    mount_ops(app, ops_token, queues, {"metrics": metrics})
    if devtools:
        mount_dev(app, environment, {"environment": environment, "ops_token": ops_token})
    return app
