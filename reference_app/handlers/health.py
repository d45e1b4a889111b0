"""Liveness (``/healthz``) and readiness (``/readyz``) endpoints.

Readiness runs a :class:`plumego.health.HealthChecker` over the component checks handed in by the app;
a failure answers 503 ``health.component.unhealthy`` with one detail per failed component.
Imports plumego.contract and plumego.health only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from plumego.contract import APIError, EnvelopeResponse, ErrorType, Request, ResponseApp
from plumego.health import HealthChecker

CODE_UNHEALTHY: Final = "health.component.unhealthy"


class HealthHandlers:
    def __init__(self, service_name: str, checker: HealthChecker) -> None:
        self.service_name = service_name
        self.checker = checker

    async def live(self, request: Request) -> ResponseApp:
        """Always 200 while the process serves requests."""
        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return EnvelopeResponse({"status": "ok", "service": self.service_name, "timestamp": now})

    async def ready(self, request: Request) -> ResponseApp:
        report = await self.checker.run()
        if report.ready:
            return EnvelopeResponse(report.readiness().to_dict())
        failed = {
            name: component.message or component.status.value
            for name, component in report.components.items()
            if not component.status.is_ready()
        }
        raise APIError(
            ErrorType.UNAVAILABLE, "one or more components are not ready", code=CODE_UNHEALTHY, details=failed
        )
