"""Runs an ASGI app under uvicorn, imported lazily so the kernel itself needs only the standard library.

Owns the uvicorn hand-off for ``App.run`` and ``plumego serve``. Imports only the standard library
(uvicorn is imported inside ``serve``).
"""

from __future__ import annotations

from typing import Any

from plumego.contract import ASGIApp

from ._config import AppConfig

__all__ = ["ServerUnavailable", "serve"]


class ServerUnavailable(RuntimeError):
    """uvicorn is not installed."""


def serve(app: ASGIApp | str, config: AppConfig, **overrides: Any) -> None:
    """Validate ``config`` and run uvicorn until it stops (SIGINT/SIGTERM -> graceful shutdown)."""
    config.validate()
    try:
        import uvicorn
    except ImportError as exc:
        raise ServerUnavailable(
            "plumego serve needs uvicorn; install it with: pip install 'plumego[server]'"
        ) from exc
    options = config.uvicorn_options()
    options.update(overrides)
    uvicorn.run(app, **options)
