"""Health states, component results and the JSON-serialisable liveness/readiness reports.

Owns the wire shape of health data (field names follow Go plumego: status, message, details, timestamp,
duration in integer nanoseconds). Imports only the standard library and nothing from plumego.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class HealthState(enum.StrEnum):
    """The three states a component or a whole service can be in."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    def is_ready(self) -> bool:
        """Healthy and degraded services still take traffic; unhealthy ones do not."""
        return self is not HealthState.UNHEALTHY


_SEVERITY: Mapping[HealthState, int] = MappingProxyType(
    {HealthState.HEALTHY: 0, HealthState.DEGRADED: 1, HealthState.UNHEALTHY: 2}
)


def worst_state(states: list[HealthState] | tuple[HealthState, ...]) -> HealthState:
    """The most severe of ``states``; an empty collection is healthy."""
    worst = HealthState.HEALTHY
    for state in states:
        if _SEVERITY[state] > _SEVERITY[worst]:
            worst = state
    return worst


def _iso(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a component check may return to report more than "healthy" (returning None means healthy)."""

    state: HealthState
    message: str = ""
    details: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def degraded(cls, message: str, details: Mapping[str, object] | None = None) -> CheckResult:
        return cls(HealthState.DEGRADED, message, dict(details or {}))

    @classmethod
    def unhealthy(cls, message: str, details: Mapping[str, object] | None = None) -> CheckResult:
        return cls(HealthState.UNHEALTHY, message, dict(details or {}))


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """The outcome of one component check. ``duration`` is in seconds (serialised as nanoseconds)."""

    name: str
    status: HealthState
    message: str
    timestamp: _dt.datetime
    duration: float
    critical: bool = True
    details: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"status": self.status.value}
        if self.message:
            out["message"] = self.message
        if self.details:
            out["details"] = dict(self.details)
        out["timestamp"] = _iso(self.timestamp)
        out["duration"] = int(self.duration * 1e9)
        out["critical"] = self.critical
        return out


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The aggregate of a set of checks: the worst critical state (non-critical failures only degrade)."""

    status: HealthState
    timestamp: _dt.datetime
    duration: float
    components: Mapping[str, ComponentHealth] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.status.is_ready()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "status": self.status.value,
            "timestamp": _iso(self.timestamp),
            "duration": int(self.duration * 1e9),
        }
        if self.components:
            out["components"] = {name: c.to_dict() for name, c in self.components.items()}
        return out

    def readiness(self) -> ReadinessStatus:
        """Collapse the report into the readiness shape probes and the reference app answer with."""
        failed = sorted(name for name, c in self.components.items() if not c.status.is_ready())
        reason = "" if self.ready else "components not ready: " + ", ".join(failed)
        return ReadinessStatus(
            ready=self.ready,
            reason=reason,
            timestamp=self.timestamp,
            components={name: c.status.is_ready() for name, c in self.components.items()},
        )


@dataclass(frozen=True, slots=True)
class ReadinessStatus:
    """``{"ready", "reason"?, "timestamp", "components"?: {name: bool}}`` as in Go plumego."""

    ready: bool
    timestamp: _dt.datetime
    reason: str = ""
    components: Mapping[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"ready": self.ready}
        if self.reason:
            out["reason"] = self.reason
        out["timestamp"] = _iso(self.timestamp)
        if self.components:
            out["components"] = dict(self.components)
        return out
