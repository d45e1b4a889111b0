"""plumego.health: Health model: liveness and readiness states and the aggregation of component checks with timeouts.

Stable root (ga). Imports only the standard library;
never plumego.x, the reference app or tooling.
"""

from plumego.health._checks import CheckFunc, ComponentCheck, HealthChecker
from plumego.health._model import (
    CheckResult,
    ComponentHealth,
    HealthReport,
    HealthState,
    ReadinessStatus,
    worst_state,
)

__all__ = [
    "CheckFunc",
    "CheckResult",
    "ComponentCheck",
    "ComponentHealth",
    "HealthChecker",
    "HealthReport",
    "HealthState",
    "ReadinessStatus",
    "worst_state",
]
