"""Component checks and their concurrent aggregation with per-check timeouts.

Owns the check contract (an async callable) and HealthChecker, which never raises on a failing check.
Imports only the standard library and plumego.health internals.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from plumego.health._model import CheckResult, ComponentHealth, HealthReport, HealthState, worst_state

CheckFunc = Callable[[], Awaitable[CheckResult | HealthState | None]]
"""A component check: returns None (healthy), a HealthState, or a CheckResult; raising means unhealthy."""


@dataclass(frozen=True, slots=True)
class ComponentCheck:
    """A named check. ``timeout`` (seconds) overrides the checker default; a non-critical component that
    fails makes the service degraded rather than unhealthy."""

    name: str
    check: CheckFunc
    timeout: float | None = None
    critical: bool = True


class HealthChecker:
    """Runs its checks concurrently, each bounded by its timeout, and aggregates one :class:`HealthReport`.

    A check that raises or times out is reported unhealthy with a reason; ``run`` itself never raises for
    a failing check (cancelling the caller still cancels the checks).
    """

    __slots__ = ("_checks", "_default_timeout")

    def __init__(self, checks: Sequence[ComponentCheck] = (), default_timeout: float = 5.0) -> None:
        if default_timeout <= 0:
            raise ValueError("default_timeout must be positive")
        names = [c.name for c in checks]
        if any(not name for name in names):
            raise ValueError("component check names must be non-empty")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate component check names: {duplicates}")
        for c in checks:
            if c.timeout is not None and c.timeout <= 0:
                raise ValueError(f"timeout for {c.name!r} must be positive")
        self._checks = tuple(checks)
        self._default_timeout = default_timeout

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._checks)

    async def run(self) -> HealthReport:
        started = time.perf_counter()
        now = _dt.datetime.now(_dt.timezone.utc)
        results = await asyncio.gather(*(self._run_one(c) for c in self._checks))
        states = [r.status if r.critical else _soften(r.status) for r in results]
        return HealthReport(
            status=worst_state(states),
            timestamp=now,
            duration=time.perf_counter() - started,
            components={r.name: r for r in results},
        )

    async def _run_one(self, component: ComponentCheck) -> ComponentHealth:
        timeout = component.timeout if component.timeout is not None else self._default_timeout
        started = time.perf_counter()
        now = _dt.datetime.now(_dt.timezone.utc)
        details: dict[str, object] = {}
        try:
            async with asyncio.timeout(timeout):
                # Typed as object: a check written without type hints may return anything.
                outcome: object = await component.check()
        except TimeoutError:
            state, message = HealthState.UNHEALTHY, f"check timed out after {timeout:g}s"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a check is a health result, not an error
            state, message = HealthState.UNHEALTHY, str(exc) or type(exc).__name__
        else:
            if outcome is None:
                state, message = HealthState.HEALTHY, ""
            elif isinstance(outcome, HealthState):
                state, message = outcome, ""
            elif isinstance(outcome, CheckResult):
                state, message, details = outcome.state, outcome.message, dict(outcome.details)
            else:
                state = HealthState.UNHEALTHY
                message = f"check returned unsupported value of type {type(outcome).__name__}"
        return ComponentHealth(
            name=component.name,
            status=state,
            message=message,
            timestamp=now,
            duration=time.perf_counter() - started,
            critical=component.critical,
            details=details,
        )


def _soften(state: HealthState) -> HealthState:
    return HealthState.DEGRADED if state is HealthState.UNHEALTHY else state
