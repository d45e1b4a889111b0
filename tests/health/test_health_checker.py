"""HealthChecker aggregation: concurrency, timeouts, raising checks, degraded components, report shapes."""

from __future__ import annotations

import asyncio
import json

import pytest

from plumego.health import (
    CheckResult,
    ComponentCheck,
    HealthChecker,
    HealthReport,
    HealthState,
    worst_state,
)


async def ok() -> None:
    return None


async def boom() -> None:
    raise ConnectionError("db refused connection")


async def slow() -> None:
    await asyncio.sleep(30)


async def degraded() -> CheckResult:
    return CheckResult.degraded("replica lag", {"lag_seconds": 12})


def test_state_model() -> None:
    assert HealthState.HEALTHY.is_ready() and HealthState.DEGRADED.is_ready()
    assert not HealthState.UNHEALTHY.is_ready()
    assert worst_state([]) is HealthState.HEALTHY
    assert worst_state([HealthState.DEGRADED, HealthState.HEALTHY]) is HealthState.DEGRADED
    assert worst_state([HealthState.DEGRADED, HealthState.UNHEALTHY]) is HealthState.UNHEALTHY
    assert HealthState("degraded") is HealthState.DEGRADED


async def test_all_healthy() -> None:
    report = await HealthChecker([ComponentCheck("db", ok), ComponentCheck("cache", ok)]).run()
    assert report.status is HealthState.HEALTHY and report.ready
    assert set(report.components) == {"db", "cache"}
    assert all(c.status is HealthState.HEALTHY for c in report.components.values())


async def test_no_checks_is_healthy() -> None:
    report = await HealthChecker().run()
    assert report.status is HealthState.HEALTHY
    assert "components" not in report.to_dict()


async def test_raising_check_is_unhealthy_with_reason() -> None:
    report = await HealthChecker([ComponentCheck("db", boom), ComponentCheck("cache", ok)]).run()
    assert report.status is HealthState.UNHEALTHY and not report.ready
    db = report.components["db"]
    assert db.status is HealthState.UNHEALTHY and db.message == "db refused connection"
    assert report.components["cache"].status is HealthState.HEALTHY


async def test_timed_out_check_is_unhealthy_and_others_still_finish() -> None:
    checker = HealthChecker([ComponentCheck("slow", slow, timeout=0.05), ComponentCheck("db", ok)])
    report = await checker.run()
    assert report.components["slow"].status is HealthState.UNHEALTHY
    assert report.components["slow"].message == "check timed out after 0.05s"
    assert report.components["db"].status is HealthState.HEALTHY


async def test_default_timeout_applies() -> None:
    report = await HealthChecker([ComponentCheck("slow", slow)], default_timeout=0.05).run()
    assert report.components["slow"].message == "check timed out after 0.05s"


async def test_checks_run_concurrently() -> None:
    started: list[str] = []
    gate = asyncio.Event()

    def waiter(name: str) -> ComponentCheck:
        async def check() -> None:
            started.append(name)
            if len(started) == 2:
                gate.set()
            await gate.wait()

        return ComponentCheck(name, check, timeout=5)

    # Each check waits until both have started: sequential execution would time out instead.
    report = await HealthChecker([waiter("a"), waiter("b")]).run()
    assert report.status is HealthState.HEALTHY


async def test_degraded_and_non_critical_components() -> None:
    report = await HealthChecker(
        [ComponentCheck("replica", degraded), ComponentCheck("mailer", boom, critical=False)]
    ).run()
    assert report.status is HealthState.DEGRADED and report.ready
    assert report.components["mailer"].status is HealthState.UNHEALTHY
    assert report.components["replica"].details == {"lag_seconds": 12}


async def test_state_return_and_unsupported_return() -> None:
    async def returns_state() -> HealthState:
        return HealthState.DEGRADED

    async def returns_junk():  # type: ignore[no-untyped-def]
        return 42

    report = await HealthChecker(
        [ComponentCheck("s", returns_state), ComponentCheck("junk", returns_junk)]
    ).run()
    assert report.components["s"].status is HealthState.DEGRADED
    assert report.components["junk"].status is HealthState.UNHEALTHY
    assert "int" in report.components["junk"].message


async def test_report_and_readiness_are_json_serialisable() -> None:
    report = await HealthChecker([ComponentCheck("db", boom), ComponentCheck("cache", ok)]).run()
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["status"] == "unhealthy"
    assert isinstance(doc["duration"], int)
    assert doc["timestamp"].endswith("Z")
    assert doc["components"]["db"]["message"] == "db refused connection"
    assert doc["components"]["db"]["status"] == "unhealthy"
    assert "message" not in doc["components"]["cache"]
    ready = json.loads(json.dumps(report.readiness().to_dict()))
    assert ready["ready"] is False
    assert ready["reason"] == "components not ready: db"
    assert ready["components"] == {"db": False, "cache": True}


async def test_readiness_when_ready_has_no_reason() -> None:
    report: HealthReport = await HealthChecker([ComponentCheck("db", ok)]).run()
    doc = report.readiness().to_dict()
    assert doc["ready"] is True and "reason" not in doc


def test_construction_validates() -> None:
    with pytest.raises(ValueError):
        HealthChecker([ComponentCheck("a", ok), ComponentCheck("a", ok)])
    with pytest.raises(ValueError):
        HealthChecker([ComponentCheck("", ok)])
    with pytest.raises(ValueError):
        HealthChecker([ComponentCheck("a", ok, timeout=0)])
    with pytest.raises(ValueError):
        HealthChecker(default_timeout=0)
    assert HealthChecker([ComponentCheck("a", ok)]).names == ("a",)


async def test_cancelling_the_caller_cancels_checks() -> None:
    task = asyncio.create_task(HealthChecker([ComponentCheck("slow", slow, timeout=30)]).run())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
