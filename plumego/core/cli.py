"""The ``plumego`` command: ``plumego serve module:app`` runs an ASGI app under uvicorn.

Owns argument parsing and app loading only; configuration comes from the App's AppConfig unless flags
override it. Imports only the standard library (uvicorn lazily, via core._serve).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ._app import App
from ._config import AppConfig, ConfigError
from ._serve import ServerUnavailable, serve

__all__ = ["load_app", "main"]


class AppLoadError(Exception):
    """The ``module:attribute`` target could not be imported or is not an ASGI app."""


def load_app(target: str) -> Any:
    """Import ``module:attr`` (attr may be dotted); the current directory is importable."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise AppLoadError(f"expected 'module:app', got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        # The user names the app to serve on the command line, so this import is dynamic by design.
        obj: Any = importlib.import_module(module_name)  # noqa: PLG110
    except ImportError as exc:
        raise AppLoadError(f"cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise AppLoadError(f"{target!r} is not an ASGI application")
    return obj


def installed_version() -> str:
    """The installed distribution's version (read from its metadata: importing the root facade is PLG104)."""
    try:
        return importlib.metadata.version("plumego")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plumego", description="Plumego runtime commands.")
    parser.add_argument("--version", action="version", version=f"plumego {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve an ASGI app with uvicorn")
    run.add_argument("target", help="the app to serve, as module:attribute (e.g. service.main:app)")
    run.add_argument("--host", help="bind address (default: the App's config, else 127.0.0.1)")
    run.add_argument("--port", type=int, help="bind port (default: the App's config, else 8080)")
    run.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    run.add_argument("--workers", type=int, help="worker processes")
    run.add_argument("--log-level", default=None, help="uvicorn log level")
    run.add_argument("--no-access-log", action="store_true", help="disable uvicorn's access log")
    _plugin_commands(commands)
    return parser


def _plugin_commands(commands: Any) -> None:
    """Subcommands that installed packages add through the ``plumego.cli`` entry point group (x/openapi adds
    ``openapi``): core stays free of x/* imports. A plugin that fails to load is skipped, never fatal."""
    for entry in importlib.metadata.entry_points(group="plumego.cli"):
        try:
            entry.load()(commands)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break `plumego serve`
            print(f"plumego: skipping command {entry.name!r}: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "serve":
        code: int = args.func(args)
        return code
    try:
        app = load_app(args.target)
    except AppLoadError as exc:
        print(f"plumego: {exc}", file=sys.stderr)
        return 2
    config = app.config if isinstance(app, App) else AppConfig()
    if args.host:
        config = replace(config, host=args.host)
    if args.port is not None:
        config = replace(config, port=args.port)
    overrides: dict[str, Any] = {}
    if args.log_level:
        overrides["log_level"] = args.log_level
    if args.no_access_log:
        overrides["access_log"] = False
    if args.workers:
        overrides["workers"] = args.workers
    # uvicorn needs an import string to reload or to spawn workers.
    target: Any = args.target if (args.reload or args.workers) else app
    if args.reload:
        overrides["reload"] = True
    try:
        serve(target, config, **overrides)
    except (ConfigError, ServerUnavailable) as exc:
        print(f"plumego: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
