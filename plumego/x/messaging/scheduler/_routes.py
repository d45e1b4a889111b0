"""The scheduler's admin routes (Go's ``AdminHandler``, prefix ``/scheduler``; auth is the caller's job: put an
auth middleware in front).

GET ``/health``, ``/stats``, ``/jobs`` (filters ``state``, ``group``, ``tag``), ``/jobs/:id``; POST
``/jobs/:id/pause|resume|cancel|trigger``; GET and DELETE ``/dlq`` and ``/dlq/:id``; POST ``/groups/:group/:action``
and ``/tags/:tag/:action`` with action pause, resume or cancel. Imports the standard library, plumego.contract and
this package.
"""

from __future__ import annotations

from typing import Any, Protocol

from plumego.contract import APIError, ErrorType, Request

from ._jobs import DeadLetter, JobInfo, JobState
from ._scheduler import Scheduler

__all__ = ["register_admin_routes"]


class Routes(Protocol):
    def get(self, path: str, handler: Any, **options: Any) -> Any: ...
    def post(self, path: str, handler: Any, **options: Any) -> Any: ...
    def delete(self, path: str, handler: Any, **options: Any) -> Any: ...


def _job(j: JobInfo) -> dict[str, Any]:
    return {"id": j.id, "task": j.task, "spec": j.spec, "location": j.location, "state": j.state.value,
            "next_run": j.next_run, "runs": j.runs, "failures": j.failures, "last_error": j.last_error,
            "group": j.options.group, "tags": list(j.options.tags), "overlap": j.options.overlap.value,
            "max_runs": j.options.max_runs}


def _dead(d: DeadLetter) -> dict[str, Any]:
    return {"id": d.id, "job_id": d.job_id, "task": d.task, "tick": d.tick, "attempts": d.attempts,
            "error": d.error, "failed_at": d.failed_at}


def register_admin_routes(routes: Routes, scheduler: Scheduler, *, prefix: str = "/scheduler") -> None:
    p = prefix.rstrip("/")

    async def health(request: Request) -> dict[str, Any]:
        try:
            await scheduler.ready()
        except RuntimeError:
            raise APIError(status=503, message="the scheduler is not running") from None
        return {"status": "ok"}

    async def stats(request: Request) -> dict[str, Any]:
        counts: dict[str, int] = {s.value: 0 for s in JobState}
        for job in await scheduler.list_jobs():
            counts[job.state.value] += 1
        return {"jobs": counts, "dead_letters": len(await scheduler.dead_letters()), "instance": scheduler.stats()}

    async def jobs(request: Request) -> dict[str, Any]:
        q = request.query_params
        state_raw = q.get("state")
        if state_raw is not None and state_raw not in {s.value for s in JobState}:
            raise APIError(ErrorType.VALIDATION, "unknown state", details={"state": state_raw})
        found = await scheduler.list_jobs(state=JobState(state_raw) if state_raw else None, group=q.get("group"),
                                          tag=q.get("tag"))
        return {"items": [_job(j) for j in found]}

    async def job(request: Request) -> dict[str, Any]:
        found = await scheduler.get(request.param("id"))
        if found is None:
            raise APIError(ErrorType.NOT_FOUND, "job not found")
        return _job(found)

    async def job_action(request: Request) -> dict[str, Any]:
        job_id, action = request.param("id"), request.param("action")
        if await scheduler.get(job_id) is None:
            raise APIError(ErrorType.NOT_FOUND, "job not found")
        actions = {"pause": scheduler.pause, "resume": scheduler.resume, "cancel": scheduler.cancel,
                   "trigger": scheduler.trigger_now}
        if action not in actions:
            raise APIError(ErrorType.NOT_FOUND, "unknown action")
        changed = await actions[action](job_id)
        if not changed:
            raise APIError(ErrorType.CONFLICT, f"cannot {action} the job in its current state")
        return {"id": job_id, "action": action}

    def bulk(kind: str) -> Any:
        async def handler(request: Request) -> dict[str, Any]:
            name, action = request.param("name"), request.param("action")
            apply = scheduler.apply_to_group if kind == "group" else scheduler.apply_to_tag
            try:
                changed = await apply(name, action)
            except ValueError as exc:
                raise APIError(ErrorType.VALIDATION, str(exc)) from None
            return {kind: name, "action": action, "changed": changed}
        return handler

    async def dlq(request: Request) -> dict[str, Any]:
        return {"items": [_dead(d) for d in await scheduler.dead_letters(request.query_params.get("job_id"))]}

    async def dlq_clear(request: Request) -> dict[str, Any]:
        return {"deleted": await scheduler.store.delete_dead_letters()}

    async def dlq_item(request: Request) -> dict[str, Any]:
        wanted = request.param("id")
        for d in await scheduler.dead_letters():
            if str(d.id) == wanted:
                return _dead(d)
        raise APIError(ErrorType.NOT_FOUND, "dead letter not found")

    async def dlq_delete(request: Request) -> dict[str, Any]:
        wanted = request.param("id")
        if not (wanted.isascii() and wanted.isdigit() and len(wanted) < 19):
            raise APIError(ErrorType.NOT_FOUND, "dead letter not found")
        if not await scheduler.store.delete_dead_letters([int(wanted)]):
            raise APIError(ErrorType.NOT_FOUND, "dead letter not found")
        return {"deleted": 1}

    routes.get(f"{p}/health", health)
    routes.get(f"{p}/stats", stats)
    routes.get(f"{p}/jobs", jobs)
    routes.get(f"{p}/jobs/:id", job)
    routes.post(f"{p}/jobs/:id/:action", job_action)
    routes.post(f"{p}/groups/:name/:action", bulk("group"))
    routes.post(f"{p}/tags/:name/:action", bulk("tag"))
    routes.get(f"{p}/dlq", dlq)
    routes.delete(f"{p}/dlq", dlq_clear)
    routes.get(f"{p}/dlq/:id", dlq_item)
    routes.delete(f"{p}/dlq/:id", dlq_delete)
