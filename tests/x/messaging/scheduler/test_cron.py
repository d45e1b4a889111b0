"""The cron grammar table (Go Plumego's: numeric only, dow 0-6, optional seconds, descriptors, @every) and the
next-fire computation, including the Vixie day rule, leap days and both DST transitions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from plumego.x.messaging.scheduler import CronSchedule, EverySchedule, parse_go_duration, parse_schedule

UTC = timezone.utc
VALID = [
    "* * * * *", "*/5 * * * *", "0 9-17 * * 1-5", "0,30 * * * *", "0 0 1,15 * *", "0-30/10 * * * *",
    "30 * * * * *", "*/15 * * * * *", "0 0 0 29 2 *", "0 0 * * 0", "0 0 * * 6", "59 23 31 12 *",
    "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every 1h30m",
    "@every 90s", "@every 1.5h", "@every 300ms",
]
INVALID = [
    "", "* * * *", "* * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 0 *",
    "* * * 13 *", "* * * * 7", "* * * JAN *", "* * * * MON", "* * L * *", "* * * * 1#2", "? * * * *",
    "5-1 * * * *", "*/0 * * * *", "5/10 * * * *", "1,,2 * * * *", "-1 * * * *", "@reboot", "@every",
    "@every 0s", "@every -1m", "@every 5", "@every 1d", "@everyday",
]


@pytest.mark.parametrize("spec", VALID)
def test_valid_specs_parse(spec: str) -> None:
    assert parse_schedule(spec).next_after(datetime(2026, 1, 1, tzinfo=UTC)) is not None


@pytest.mark.parametrize("spec", INVALID)
def test_invalid_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(spec)


def fires(spec: str, start: datetime, n: int, tz: str | None = None) -> list[str]:
    schedule = parse_schedule(spec, tz)
    out: list[str] = []
    t = start
    for _ in range(n):
        nxt = schedule.next_after(t)
        assert nxt is not None
        out.append(nxt.isoformat())
        t = nxt
    return out


def test_five_and_six_fields() -> None:
    start = datetime(2026, 3, 10, 12, 0, 30, tzinfo=UTC)
    assert fires("*/20 * * * *", start, 3) == [
        "2026-03-10T12:20:00+00:00", "2026-03-10T12:40:00+00:00", "2026-03-10T13:00:00+00:00"]
    assert fires("*/15 * * * * *", start, 3) == [
        "2026-03-10T12:00:45+00:00", "2026-03-10T12:01:00+00:00", "2026-03-10T12:01:15+00:00"]
    assert fires("0 9-17/4 * * 1-5", datetime(2026, 3, 13, 18, tzinfo=UTC), 2) == [   # Friday evening -> Monday
        "2026-03-16T09:00:00+00:00", "2026-03-16T13:00:00+00:00"]


def test_vixie_day_rule() -> None:
    # both restricted: the 13th OR any Friday
    got = fires("0 0 13 * 5", datetime(2026, 2, 1, tzinfo=UTC), 4)
    assert got == ["2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "2026-02-20T00:00:00+00:00",
                   "2026-02-27T00:00:00+00:00"]
    # when either field starts with '*', both must match (Vixie's DOM_STAR/DOW_STAR, robfig/cron's starBit):
    # the 1st, 11th, 21st or 31st that is a Monday
    assert fires("0 0 */10 * 1", datetime(2026, 2, 1, tzinfo=UTC), 1) == ["2026-05-11T00:00:00+00:00"]
    assert fires("0 0 13 * *", datetime(2026, 2, 1, tzinfo=UTC), 1) == ["2026-02-13T00:00:00+00:00"]


def test_descriptors_leap_day_and_impossible_dates() -> None:
    assert fires("@weekly", datetime(2026, 3, 4, tzinfo=UTC), 1) == ["2026-03-08T00:00:00+00:00"]   # Sunday
    assert fires("@yearly", datetime(2026, 3, 4, tzinfo=UTC), 1) == ["2027-01-01T00:00:00+00:00"]
    assert fires("0 12 29 2 *", datetime(2026, 3, 1, tzinfo=UTC), 2) == [
        "2028-02-29T12:00:00+00:00", "2032-02-29T12:00:00+00:00"]
    assert parse_schedule("0 0 30 2 *").next_after(datetime(2026, 1, 1, tzinfo=UTC)) is None
    with pytest.raises(ValueError):
        parse_schedule("* * * * *").next_after(datetime(2026, 1, 1))      # naive datetimes are refused


def test_every_and_go_durations() -> None:
    schedule = parse_schedule("@every 1h30m")
    assert isinstance(schedule, EverySchedule) and schedule.interval == 5400
    start = datetime(2026, 1, 1, 0, 0, 7, tzinfo=UTC)
    assert schedule.next_after(start) == start + timedelta(minutes=90)
    assert parse_go_duration("1.5h") == 5400 and parse_go_duration("300ms") == pytest.approx(0.3)
    assert parse_go_duration("2h45m30.5s") == pytest.approx(9930.5) and parse_go_duration("0") == 0
    assert parse_go_duration("1.h.5m") == 3630         # Go accepts "1." and ".5" too
    for bad in ("", "1", "1d", "h", "1h 30m", "1.5.5h", "."):
        with pytest.raises(ValueError):
            parse_go_duration(bad)


def test_time_zone_and_dst() -> None:
    berlin = "Europe/Berlin"
    # spring forward, 2026-03-29: 02:30 does not exist in Berlin, so that day is skipped
    got = fires("30 2 * * *", datetime(2026, 3, 28, 12, tzinfo=UTC), 2, berlin)
    assert got == ["2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]
    # fall back, 2026-10-25: 02:30 happens twice, the job fires once (the first time)
    got = fires("30 2 * * *", datetime(2026, 10, 24, 12, tzinfo=UTC), 2, berlin)
    assert got == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    # every 30 minutes across the fall-back hour: the repeated wall times are not fired twice
    got = fires("*/30 * * * *", datetime(2026, 10, 24, 23, 45, tzinfo=UTC), 4, berlin)
    assert got == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T03:00:00+01:00",
                   "2026-10-25T03:30:00+01:00"]
    schedule = parse_schedule("0 9 * * *", ZoneInfo("America/New_York"))
    assert isinstance(schedule, CronSchedule)
    assert schedule.next_after(datetime(2026, 7, 1, 14, tzinfo=UTC)) == datetime(2026, 7, 2, 13, tzinfo=UTC)
