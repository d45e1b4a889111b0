"""plumego.x.messaging.scheduler (experimental): cron and delayed job scheduling.

The cron grammar is Go Plumego's (5 fields, or 6 with leading seconds; numeric values; ``*``, ``a-b``, ``a,b``,
``*/n``, ``a-b/n``; dow 0-6; descriptors and ``@every <Go duration>``; the Vixie day-of-month/day-of-week OR rule),
evaluated in a time zone with DST handled. The persistent scheduler with leases is not built yet.
Imports only the standard library; never plumego.core.
"""

from ._cron import CronSchedule, EverySchedule, Schedule, parse_go_duration, parse_schedule

__all__ = ["CronSchedule", "EverySchedule", "Schedule", "parse_go_duration", "parse_schedule"]
