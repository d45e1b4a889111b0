"""The scheduler: a lifecycle component that runs persisted cron, interval and one-off jobs, once per tick across
every worker that shares its store.

Owns the run loop, the task registry, retries, overlap policies, timeouts, jitter and pause/resume/cancel. Jobs are
rows in a :class:`JobStore`, so they survive restarts and are rehydrated by task name: a job names a task
registered with ``register_task``; a scheduler runs only the jobs whose task it knows. A missed tick (the service
was down) runs once when the scheduler comes back, and the next tick is computed from then (no catch-up burst).
A run that dies with its process is not retried; the next tick runs as usual.
Imports the standard library, plumego.log, this package and the family's drain helper; never plumego.core.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from plumego.log import DiscardLogger, StructuredLogger

from .._drain import drain
from ._cron import CronSchedule, EverySchedule, parse_schedule
from ._jobs import (
    DeadLetter,
    DependencyCycleError,
    DependencyFailure,
    JobContext,
    JobInfo,
    JobOptions,
    JobState,
    Overlap,
    check_name,
    find_cycle,
)
from ._store import JobStore

__all__ = ["Scheduler", "TaskFunc"]

TaskFunc = Callable[[JobContext], Awaitable[None]]


class Scheduler:
    """``run_lease``: how long a run holds the job's "running" mark without a heart-beat (it is renewed every
    ``run_lease / 3`` while the run lasts); it only matters when the process dies mid-run."""

    def __init__(self, store: JobStore, *, poll_interval: float = 1.0, run_lease: float = 60.0,
                 shutdown_timeout: float = 30.0, clock: Callable[[], float] = time.time,
                 logger: StructuredLogger | None = None) -> None:
        if poll_interval <= 0 or run_lease <= 0 or shutdown_timeout < 0:
            raise ValueError("poll_interval and run_lease must be > 0, shutdown_timeout >= 0")
        self.store = store
        self.poll_interval = poll_interval
        self.run_lease = run_lease
        self.shutdown_timeout = shutdown_timeout
        self._clock = clock
        self._log = logger or DiscardLogger()
        self._tasks: dict[str, TaskFunc] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.runs = 0
        self.skipped = 0

    # -- registry and jobs ---------------------------------------------------------------------------------------------

    def register_task(self, name: str, fn: TaskFunc) -> None:
        """Make ``name`` runnable here; persisted jobs naming it are rehydrated by it."""
        check_name(name, "task name")
        if name in self._tasks:
            raise ValueError(f"task {name!r} is registered already")
        self._tasks[name] = fn

    async def add_cron(self, job_id: str, spec: str, task: str, payload: Any = None, *, location: str = "UTC",
                       options: JobOptions | None = None, replace: bool = False) -> JobInfo:
        """A recurring job: a cron spec, a descriptor or ``@every <duration>``, in ``location`` (IANA name)."""
        schedule = parse_schedule(spec, location)
        assert isinstance(schedule, (CronSchedule, EverySchedule))
        first = self._next_time(schedule, self._clock())
        return await self._add(job_id, task, spec, location, payload, options, first, replace)

    async def schedule(self, job_id: str, run_at: float, task: str, payload: Any = None, *,
                       options: JobOptions | None = None, replace: bool = False) -> JobInfo:
        """A one-off job at ``run_at`` (Unix seconds)."""
        return await self._add(job_id, task, None, "UTC", payload, options, run_at, replace)

    async def delay(self, job_id: str, seconds: float, task: str, payload: Any = None, *,
                    options: JobOptions | None = None, replace: bool = False) -> JobInfo:
        """A one-off job ``seconds`` from now."""
        return await self.schedule(job_id, self._clock() + seconds, task, payload, options=options, replace=replace)

    async def _add(self, job_id: str, task: str, spec: str | None, location: str, payload: Any,
                   options: JobOptions | None, next_run: float | None, replace: bool) -> JobInfo:
        check_name(job_id, "job id")
        check_name(task, "task name")
        if options is not None and options.depends_on:
            await self._check_dependencies(job_id, options.depends_on)
        job = JobInfo(id=job_id, task=task, spec=spec, location=location, payload=payload, state=JobState.SCHEDULED,
                      next_run=next_run, runs=0, failures=0, last_error="", options=options or JobOptions())
        await self.store.add(job, replace=replace)
        return job

    async def _check_dependencies(self, job_id: str, depends_on: tuple[str, ...]) -> None:
        """Refuse unknown dependencies and cycles (the job's new edges replace its stored ones)."""
        jobs = {j.id: j for j in await self.store.list_jobs()}
        for dep in depends_on:
            if dep == job_id:
                raise DependencyCycleError([job_id, job_id])
            if dep not in jobs:
                raise ValueError(f"job {job_id!r} depends on unknown job {dep!r}")
        graph = {j.id: list(j.options.depends_on) for j in jobs.values()}
        graph[job_id] = list(depends_on)
        cycle = find_cycle(graph, job_id)
        if cycle is not None:
            raise DependencyCycleError(cycle)

    async def _dependencies_state(self, job: JobInfo, now: float) -> str:
        """``ok`` when every dependency's latest finished run succeeded, ``failed`` when one failed (or it is dead,
        canceled or gone), ``wait`` while one has not run yet or is running."""
        waiting = False
        for dep_id in job.options.depends_on:
            dep = await self.store.get(dep_id)
            if dep is None or dep.state in (JobState.DEAD, JobState.CANCELED) or dep.last_error:
                return "failed"
            if dep.runs == 0 or (dep.running_until is not None and dep.running_until > now):
                waiting = True
        return "wait" if waiting else "ok"

    def _next_time(self, schedule: CronSchedule | EverySchedule, after: float) -> float | None:
        nxt = schedule.next_after(datetime.fromtimestamp(after, timezone.utc))
        return None if nxt is None else nxt.timestamp()

    def _following(self, job: JobInfo, now: float) -> float | None:
        if job.spec is None:
            return None
        schedule = parse_schedule(job.spec, job.location)
        assert isinstance(schedule, (CronSchedule, EverySchedule))
        return self._next_time(schedule, max(now, job.next_run or now))

    # -- pause, resume, cancel -----------------------------------------------------------------------------------------

    async def pause(self, job_id: str) -> int:
        return await self._set([job_id], JobState.PAUSED, {JobState.SCHEDULED})

    async def resume(self, job_id: str) -> int:
        return await self._set([job_id], JobState.SCHEDULED, {JobState.PAUSED})

    async def cancel(self, job_id: str) -> int:
        return await self._set([job_id], JobState.CANCELED, {JobState.SCHEDULED, JobState.PAUSED})

    async def apply_to_group(self, group: str, action: str) -> int:
        """``action`` is pause, resume or cancel, for every job of ``group``."""
        return await self._bulk(await self.store.list_jobs(group=group), action)

    async def apply_to_tag(self, tag: str, action: str) -> int:
        return await self._bulk(await self.store.list_jobs(tag=tag), action)

    async def _bulk(self, jobs: list[JobInfo], action: str) -> int:
        states = {"pause": (JobState.PAUSED, {JobState.SCHEDULED}),
                  "resume": (JobState.SCHEDULED, {JobState.PAUSED}),
                  "cancel": (JobState.CANCELED, {JobState.SCHEDULED, JobState.PAUSED})}
        if action not in states:
            raise ValueError(f"unknown action {action!r}: pause, resume or cancel")
        target, sources = states[action]
        return await self._set([j.id for j in jobs], target, sources)

    async def _set(self, job_ids: list[str], target: JobState, sources: set[JobState]) -> int:
        now = self._clock()
        jobs = [j for j in [await self.store.get(i) for i in job_ids] if j is not None and j.state in sources]
        next_runs: dict[str, float | None] = {}
        for job in jobs:
            if target is JobState.CANCELED:
                next_runs[job.id] = None
            elif target is JobState.SCHEDULED and job.spec is not None:   # resume: from now, no catch-up
                schedule = parse_schedule(job.spec, job.location)
                assert isinstance(schedule, (CronSchedule, EverySchedule))
                next_runs[job.id] = self._next_time(schedule, now)
        return await self.store.set_state([j.id for j in jobs], target, now, next_runs)

    async def trigger_now(self, job_id: str) -> bool:
        """Make a scheduled job due now (Go's ``TriggerNow``); False when it is not scheduled."""
        job = await self.store.get(job_id)
        if job is None or job.state is not JobState.SCHEDULED:
            return False
        return await self.store.set_state([job_id], JobState.SCHEDULED, self._clock(), {job_id: self._clock()}) == 1

    def stats(self) -> dict[str, Any]:
        """Counters of this scheduler instance (runs started here, ticks skipped here, runs in flight here)."""
        return {"runs": self.runs, "skipped": self.skipped, "running": len(self._running),
                "tasks": sorted(self._tasks), "started": self._loop_task is not None}

    # -- queries -------------------------------------------------------------------------------------------------------

    async def get(self, job_id: str) -> JobInfo | None:
        return await self.store.get(job_id)

    async def list_jobs(self, *, state: JobState | None = None, group: str | None = None,
                        tag: str | None = None) -> list[JobInfo]:
        return await self.store.list_jobs(state=state, group=group, tag=tag)

    async def dead_letters(self, job_id: str | None = None) -> list[DeadLetter]:
        return await self.store.dead_letters(job_id)

    # -- running -------------------------------------------------------------------------------------------------------

    async def run_pending(self) -> int:
        """Claim and start every due job this scheduler can run; returns how many runs it started."""
        now = self._clock()
        started = 0
        for job, running_until in await self.store.due(now, sorted(self._tasks), 100):
            assert job.next_run is not None
            following = self._following(job, now)
            if job.options.depends_on:
                verdict = await self._dependencies_state(job, now)
                if verdict == "wait":
                    continue                      # stays due until the dependencies have run
                policy = job.options.on_dependency_failure
                if verdict == "failed" and policy is DependencyFailure.SKIP:
                    if await self.store.claim(job.id, job.next_run, following, None, now):
                        self.skipped += 1
                    continue
                if verdict == "failed" and policy is DependencyFailure.CANCEL:
                    await self.store.set_state([job.id], JobState.CANCELED, now, {job.id: None})
                    continue
            busy = running_until is not None and running_until > now
            if busy and job.options.overlap is Overlap.SKIP_IF_RUNNING:
                if await self.store.claim(job.id, job.next_run, following, None, now):
                    self.skipped += 1
                continue
            if busy and job.options.overlap is Overlap.SERIAL:
                continue                          # stays due: runs as soon as the current run finishes
            if await self.store.claim(job.id, job.next_run, following, now + self.run_lease, now):
                t = asyncio.create_task(self._run(job, job.next_run), name=f"scheduler-{job.id}")
                self._running.add(t)
                t.add_done_callback(self._running.discard)
                started += 1
        return started

    async def join(self) -> None:
        """Wait for the runs started so far (tests and shutdown)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _run(self, job: JobInfo, tick: float) -> None:
        fn = self._tasks[job.task]
        opts = job.options
        if opts.jitter:
            await asyncio.sleep(random.uniform(0, opts.jitter))
        retries = opts.retry.max_retries if opts.retry else 0
        beat = asyncio.create_task(self._heartbeat(job.id))
        ok, error, attempt = False, "", 0
        try:
            for attempt in range(1, retries + 2):
                ctx = JobContext(job_id=job.id, task=job.task, payload=job.payload, tick=tick, attempt=attempt)
                try:
                    if opts.timeout is not None:
                        await asyncio.wait_for(fn(ctx), opts.timeout)
                    else:
                        await fn(ctx)
                    ok = True
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = _describe(exc)
                    self._log.warn("scheduled job failed", {"job": job.id, "attempt": attempt,
                                                            "error": type(exc).__name__})
                    if opts.retry is not None and attempt <= retries:
                        await asyncio.sleep(opts.retry.delay(attempt))
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        self.runs += 1
        await self.store.finish(job.id, ok=ok, error=error, tick=tick, attempts=attempt, now=self._clock())

    async def _heartbeat(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.run_lease / 3)
            with contextlib.suppress(Exception):
                await self.store.extend_run(job_id, self._clock() + self.run_lease)

    # -- lifecycle -----------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop_task is None:
            self._stopping.clear()
            self._loop_task = asyncio.create_task(self._loop(), name="scheduler")

    async def ready(self) -> None:
        if self._loop_task is None or self._loop_task.done():
            raise RuntimeError("the scheduler is not running")

    async def stop(self) -> None:
        """Stop claiming ticks, wait up to ``shutdown_timeout`` for running jobs, cancel the rest."""
        if self._loop_task is None:
            return
        self._stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task
        self._loop_task = None
        await drain(self._running, self.shutdown_timeout)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_pending()
            except Exception as exc:       # the store is unreachable: log and try again next poll
                self._log.error("scheduler poll failed", {"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= 500 else text[:497] + "..."
