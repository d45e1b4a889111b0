"""Active health checks: every ``interval`` GET ``path`` on each backend over its own pool; the expected status
marks it healthy, anything else (or no answer within ``timeout``) unhealthy; ``on_change(url, healthy)`` runs on
each change. Runs as a task of the :class:`Gateway` component. Imports the standard library and this package.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ._backend import Backend
from ._upstream import UpstreamError

if TYPE_CHECKING:
    from ._proxy import Gateway, HealthCheck

__all__ = ["check_backend", "run_health_checks"]

_log = logging.getLogger("plumego.x.gateway")


async def check_backend(backend: Backend, check: HealthCheck) -> bool:
    try:
        status = await backend.probe(check.path, check.timeout)
    except UpstreamError:
        return False
    return status == check.expected_status


async def run_health_checks(gateway: Gateway, check: HealthCheck) -> None:
    while True:
        backends = gateway.backends
        results = await asyncio.gather(*(check_backend(b, check) for b in backends))
        for backend, healthy in zip(backends, results, strict=True):
            if backend.healthy == healthy:
                continue
            backend.healthy = healthy
            if healthy:
                backend.consecutive_failures = 0
            _log.warning("gateway backend %s is now %s", backend.url, "healthy" if healthy else "unhealthy")
            if check.on_change is not None:
                try:
                    check.on_change(backend.url, healthy)
                except Exception:
                    _log.exception("gateway health on_change callback failed")
        await asyncio.sleep(check.interval)
