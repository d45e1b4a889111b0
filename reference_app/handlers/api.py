"""Informational endpoints: ``GET /``, ``/api/hello``, ``/api/info`` and ``/api/v1/greet``.

Imports plumego.contract only; service name and version are handed in by the app wiring.
"""

from __future__ import annotations

import platform
import time

from plumego.contract import APIError, EnvelopeResponse, ErrorType, Request, ResponseApp


class APIHandlers:
    """Stateless handlers answering the success envelope."""

    def __init__(self, service_name: str, version: str) -> None:
        self.service_name = service_name
        self.version = version
        self._started = time.monotonic()

    async def root(self, request: Request) -> ResponseApp:
        return EnvelopeResponse(
            {
                "service": self.service_name,
                "version": self.version,
                "endpoints": ["/healthz", "/readyz", "/api/hello", "/api/info", "/api/v1/greet", "/api/v1/items"],
            }
        )

    async def hello(self, request: Request) -> ResponseApp:
        return EnvelopeResponse({"message": "hello from plumego"})

    async def info(self, request: Request) -> ResponseApp:
        return EnvelopeResponse(
            {
                "service": self.service_name,
                "version": self.version,
                "runtime": f"{platform.python_implementation()} {platform.python_version()}",
                "uptime_seconds": int(time.monotonic() - self._started),
            }
        )

    async def greet(self, request: Request) -> ResponseApp:
        name = request.query_params.get("name", "").strip()
        if not name:
            raise APIError(
                ErrorType.REQUIRED, "query parameter name is required", details={"name": "field is required"}
            )
        return EnvelopeResponse({"message": f"hello, {name}"})
