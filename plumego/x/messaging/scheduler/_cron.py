"""Cron schedules in Go Plumego's grammar, and the next time a schedule fires.

Grammar (upstream-x.md, scheduler): 5 fields ``min hour dom mon dow`` or 6 with a leading seconds field; numeric
values only (no JAN/MON names, no ``L``/``W``/``#``/``?``); ``*``, ``a``, ``a-b``, ``a,b``, ``*/n``, ``a-b/n``;
dow is 0-6 (7 is invalid); descriptors ``@yearly @annually @monthly @weekly @daily @midnight @hourly`` and
``@every <Go duration>``. When both day-of-month and day-of-week are restricted they are OR-ed (Vixie cron);
when either starts with ``*`` (``*/10`` included) both must match, as in Vixie cron and robfig/cron. Times are
wall-clock times in the schedule's time zone (UTC by default); a wall time that does not exist (spring-forward
gap) is skipped, an ambiguous one (fall-back) fires once, at its first occurrence.

No cron library is used: croniter accepts names, ``7`` for Sunday and ``L``/``#``, which the Go grammar refuses,
and the grammar table in the tests pins this one. Imports only the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["CronSchedule", "EverySchedule", "Schedule", "parse_go_duration", "parse_schedule"]

_BOUNDS = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dom": (1, 31), "month": (1, 12), "dow": (0, 6)}
_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *", "@annually": "0 0 0 1 1 *", "@monthly": "0 0 0 1 * *", "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *", "@midnight": "0 0 0 * * *", "@hourly": "0 0 * * * *",
}
_ITEM = re.compile(r"^(?:(\*)|(\d+)(?:-(\d+))?)(?:/(\d+))?$")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SEARCH_YEARS = 5


def parse_go_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` (``1h30m``, ``90s``, ``1.5h``, ``300ms``) in seconds; ValueError otherwise."""
    s = text.strip()
    sign = 1.0
    if s and s[0] in "+-":
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    if s == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f"invalid Go duration {text!r}")
    return sign * total


class Schedule(Protocol):
    """Something that says when it next fires after a given instant."""

    def next_after(self, after: datetime) -> datetime | None: ...


@dataclass(frozen=True)
class EverySchedule:
    """``@every <duration>``: fixed intervals from whenever the job was added (Go's ConstantDelaySchedule)."""

    interval: float

    def next_after(self, after: datetime) -> datetime | None:
        return after + timedelta(seconds=self.interval)


@dataclass(frozen=True)
class CronSchedule:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]       # 0 = Sunday, as in cron
    dom_star: bool
    dow_star: bool
    location: tzinfo = timezone.utc

    def _day_matches(self, d: datetime) -> bool:
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow

    def next_after(self, after: datetime) -> datetime | None:
        """The first firing strictly after ``after`` (an aware datetime), as an aware datetime in the schedule's
        zone; None when nothing fires within five years (e.g. ``0 0 30 2 *``)."""
        if after.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        local = after.astimezone(self.location).replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
        limit = local.year + _SEARCH_YEARS
        t = local
        while t.year <= limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            if t.second not in self.seconds:
                t += timedelta(seconds=1)
                continue
            aware = t.replace(tzinfo=self.location, fold=0)
            if aware.astimezone(timezone.utc).astimezone(self.location).replace(tzinfo=None) != t:
                t += timedelta(seconds=1)        # a wall time inside a spring-forward gap does not exist
                continue
            if aware <= after:                   # the repeated hour of a fall-back, seen again: already fired
                t += timedelta(seconds=1)
                continue
            return aware
        return None


def _field(text: str, name: str) -> frozenset[int]:
    lo, hi = _BOUNDS[name]
    values: set[int] = set()
    for item in text.split(","):
        m = _ITEM.match(item)
        if m is None:
            raise ValueError(f"invalid {name} field item {item!r}")
        star, start, end, step = m.groups()
        if star:
            a, b = lo, hi
        else:
            a = int(start)
            b = int(end) if end is not None else a
            if step is not None and end is None:
                raise ValueError(f"invalid {name} field item {item!r}: a step needs '*' or a range")
        if not (lo <= a <= hi and lo <= b <= hi):
            raise ValueError(f"{name} value out of range {lo}-{hi} in {item!r}")
        if a > b:
            raise ValueError(f"{name} range {a}-{b} is backwards")
        n = int(step) if step is not None else 1
        if n < 1:
            raise ValueError(f"{name} step must be >= 1 in {item!r}")
        values.update(range(a, b + 1, n))
    return frozenset(values)


def parse_schedule(spec: str, location: tzinfo | str | None = None) -> Schedule:
    """Parse a cron spec, a descriptor or ``@every``; ``location`` is a tzinfo or an IANA name (default UTC)."""
    tz: tzinfo = timezone.utc if location is None else ZoneInfo(location) if isinstance(location, str) else location
    text = spec.strip()
    if text.startswith("@every"):
        rest = text[len("@every"):]
        if not rest[:1].isspace():
            raise ValueError(f"invalid schedule {spec!r}: '@every' needs a duration")
        interval = parse_go_duration(rest.strip())
        if interval <= 0:
            raise ValueError(f"invalid schedule {spec!r}: the interval must be positive")
        return EverySchedule(interval)
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ValueError(f"unknown descriptor {text!r} (known: {', '.join(sorted(_DESCRIPTORS))}, @every)")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(f"invalid schedule {spec!r}: expected 5 or 6 fields, got {len(fields)}")
    sec, minute, hour, dom, month, dow = fields
    return CronSchedule(
        seconds=_field(sec, "second"), minutes=_field(minute, "minute"), hours=_field(hour, "hour"),
        days=_field(dom, "dom"), months=_field(month, "month"), weekdays=_field(dow, "dow"),
        dom_star=dom.startswith("*"), dow_star=dow.startswith("*"), location=tz,
    )
