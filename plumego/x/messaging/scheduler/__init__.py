"""plumego.x.messaging.scheduler (experimental): cron, interval and one-off jobs that survive restarts and run once
per tick across every worker sharing the store.

::

    scheduler = Scheduler(SQLiteJobStore("jobs.db"))
    scheduler.register_task("report", send_report)      # async def send_report(ctx: JobContext) -> None
    await scheduler.add_cron("daily-report", "0 7 * * 1-5", "report", {"to": "ops"}, location="Europe/Berlin",
                             options=JobOptions(retry=RetryPolicy.fixed(3, 10), overlap=Overlap.SKIP_IF_RUNNING))
    app.add_component("scheduler", scheduler)

The cron grammar is Go Plumego's (5 fields, or 6 with leading seconds; numeric values; ``*``, ``a-b``, ``a,b``,
``*/n``, ``a-b/n``; dow 0-6; descriptors and ``@every <Go duration>``; the Vixie day-of-month/day-of-week OR rule),
evaluated in a time zone with DST handled. Jobs persist in the store (``open_job_store``: SQLite, PostgreSQL or
Redis) and rehydrate through registered task names; ``JobOptions(depends_on=...)`` orders jobs (Go's dependency
policies skip, cancel, continue; cycles are refused).
Imports the standard library, plumego.store and plumego.log; never plumego.core.
"""

from ._cron import CronSchedule, EverySchedule, Schedule, parse_go_duration, parse_schedule
from ._jobs import (
    DeadLetter,
    DependencyCycleError,
    DependencyFailure,
    JobContext,
    JobInfo,
    JobOptions,
    JobState,
    Overlap,
    RetryPolicy,
)
from ._routes import register_admin_routes
from ._scheduler import Scheduler, TaskFunc
from ._store import JobExistsError, JobStore, PostgresJobStore, SQLiteJobStore, open_job_store

__all__ = [
    "CronSchedule",
    "DeadLetter",
    "DependencyCycleError",
    "DependencyFailure",
    "EverySchedule",
    "JobContext",
    "JobExistsError",
    "JobInfo",
    "JobOptions",
    "JobState",
    "JobStore",
    "Overlap",
    "PostgresJobStore",
    "RetryPolicy",
    "SQLiteJobStore",
    "Schedule",
    "Scheduler",
    "TaskFunc",
    "parse_go_duration",
    "parse_schedule",
    "open_job_store",
    "register_admin_routes",
]
