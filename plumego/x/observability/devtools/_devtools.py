"""Developer endpoints under ``/_debug``: routes, middleware, redacted config, process info, and pprof-like
profiling (cProfile over the event loop, tracemalloc heap, asyncio task and thread stacks). They refuse to
mount in production.

Owns the refusal rule, redaction and the profiling endpoints. Imports the standard library, plumego.contract
and plumego.core (the App it inspects); never the reference app.
"""

from __future__ import annotations

import asyncio
import cProfile
import dataclasses
import io
import os
import platform
import pstats
import re
import sys
import threading
import time
import traceback
import tracemalloc
from collections.abc import Mapping
from typing import Any, Final

from plumego.contract import APIError, ErrorType, Request, Response
from plumego.core import App

__all__ = ["DevtoolsRefused", "mount_devtools", "redact"]

PRODUCTION_NAMES: Final = frozenset({"prod", "production", "live"})
ENV_VARIABLES: Final = ("PLUMEGO_ENV", "APP_ENV", "ENV")
_SECRET: Final = re.compile(r"secret|token|password|passwd|api[_-]?key|private|credential|dsn|auth", re.I)
_MAX_PROFILE_SECONDS: Final = 30.0


class DevtoolsRefused(RuntimeError):
    """Raised by :func:`mount_devtools` in a production environment."""


def redact(value: Any, key: str = "") -> Any:
    """A JSON-able copy of ``value`` with every value under a secret-looking key replaced by ``"***"``."""
    if key and _SECRET.search(key):
        return "***" if value not in (None, "", (), []) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def _middleware_name(middleware: object) -> str:
    layer_name = getattr(middleware, "name", None)    # header layers (request_id, security_headers) are objects
    if isinstance(layer_name, str) and layer_name:
        return layer_name
    name = getattr(middleware, "__qualname__", "") or type(middleware).__qualname__
    return name.split(".<locals>")[0]


def mount_devtools(app: App, *, environment: str, config: Any = None, prefix: str = "/_debug") -> list[str]:
    """Mount the developer routes on ``app``; returns their paths.

    ``environment`` is required and must not name production (``prod``, ``production``, ``live``); the
    ``PLUMEGO_ENV``/``APP_ENV``/``ENV`` variables are checked as well, so a development flag left in code
    cannot expose them on a production host. Refusal raises :class:`DevtoolsRefused`.

    Routes: ``/routes`` (text), ``/routes.json``, ``/middleware``, ``/config`` (app config plus ``config``,
    secrets redacted), ``/info``, ``/pprof/profile?seconds=1`` (cProfile of the event loop thread, text, at
    most 30 s, one at a time), ``/pprof/heap`` (tracemalloc top allocations; ``?start=1`` starts tracing),
    ``/pprof/tasks`` (asyncio task stacks, Go's goroutine dump) and ``/pprof/threads``.
    """
    named = [environment, *(os.environ.get(var, "") for var in ENV_VARIABLES)]
    if not environment.strip():
        raise DevtoolsRefused("devtools: say which environment this is (environment='development')")
    for name in named:
        if name.strip().lower() in PRODUCTION_NAMES:
            raise DevtoolsRefused(f"devtools refuse to mount in production (environment {name!r})")
    base = "/" + prefix.strip("/")
    started = time.time()
    profiling = asyncio.Lock()

    def routes_list() -> list[dict[str, Any]]:
        return [route.to_dict() for route in app.routes()]

    async def routes_text(request: Request) -> Response:
        lines = [f"{r.method:<8} {r.path}" + (f"  ({r.name})" if r.name else "") for r in app.routes()]
        return Response("\n".join(lines) + "\n", media_type="text/plain; charset=utf-8")

    async def routes_json(request: Request) -> dict[str, Any]:
        return {"routes": routes_list()}

    async def middleware(request: Request) -> dict[str, Any]:
        return {"middleware": [_middleware_name(m) for m in app.middleware], "order": "outermost first"}

    async def config_view(request: Request) -> dict[str, Any]:
        return {"environment": environment, "app": redact(app.config), "service": redact(config)}

    async def info(request: Request) -> dict[str, Any]:
        return {"pid": os.getpid(), "python": sys.version.split()[0],
                "implementation": platform.python_implementation(),
                "platform": platform.platform(), "uptime_seconds": round(time.time() - started, 3),
                "threads": threading.active_count(), "tasks": len(asyncio.all_tasks()), "inflight": app.inflight}

    async def profile(request: Request) -> Response:
        raw = request.query_params.get("seconds", "1")
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= _MAX_PROFILE_SECONDS:
            raise APIError(ErrorType.VALIDATION, f"seconds must be within (0, {_MAX_PROFILE_SECONDS:g}]",
                           details={"field": "seconds", "value": raw[:32]})
        if profiling.locked():
            raise APIError(ErrorType.CONFLICT, "a profile is already running", code="PROFILE_RUNNING")
        async with profiling:
            profiler = cProfile.Profile()
            try:
                profiler.enable()
            except ValueError:  # another profiler (a debugger, coverage tool) owns the hook
                raise APIError(ErrorType.CONFLICT, "another profiler is active", code="PROFILE_RUNNING") from None
            try:
                await asyncio.sleep(seconds)
            finally:
                profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(request.query_params.get("sort", "cumulative") if request.query_params.get("sort") in
                         ("cumulative", "tottime", "calls") else "cumulative").print_stats(60)
        return Response(out.getvalue(), media_type="text/plain; charset=utf-8")

    async def heap(request: Request) -> dict[str, Any]:
        if request.query_params.get("stop") == "1":
            tracemalloc.stop()
            return {"tracing": False}
        if not tracemalloc.is_tracing():
            if request.query_params.get("start") != "1":
                raise APIError(ErrorType.CONFLICT,
                               "tracemalloc is off: call with ?start=1 first (it slows the process)",
                               code="HEAP_NOT_TRACING")
            tracemalloc.start(10)
            return {"tracing": True, "top": []}
        snapshot = tracemalloc.take_snapshot()
        current, peak = tracemalloc.get_traced_memory()
        top = [{"where": str(stat.traceback[0]), "size": stat.size, "count": stat.count}
               for stat in snapshot.statistics("lineno")[:30]]
        return {"tracing": True, "current_bytes": current, "peak_bytes": peak, "top": top}

    async def tasks(request: Request) -> Response:
        out = io.StringIO()
        for task in asyncio.all_tasks():
            out.write(f"--- {task.get_name()} {task.get_coro()!r}\n")
            task.print_stack(limit=20, file=out)
        return Response(out.getvalue(), media_type="text/plain; charset=utf-8")

    async def threads(request: Request) -> Response:
        out = io.StringIO()
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            out.write(f"--- thread {names.get(ident, ident)}\n")
            out.write("".join(traceback.format_stack(frame, limit=20)))
        return Response(out.getvalue(), media_type="text/plain; charset=utf-8")

    table = {"/routes": routes_text, "/routes.json": routes_json, "/middleware": middleware, "/config": config_view,
             "/info": info, "/pprof/profile": profile, "/pprof/heap": heap, "/pprof/tasks": tasks,
             "/pprof/threads": threads}
    for path, handler in table.items():
        app.get(base + path, handler, tags=("devtools",))
    return [base + path for path in table]
