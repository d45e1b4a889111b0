"""``plumego openapi module:app``: print or write the OpenAPI document of an app, as JSON or YAML.

Plugged into the ``plumego`` command through the ``plumego.cli`` entry point (core never imports x/*): ``register``
adds the subcommand. The target is imported like ``plumego serve`` does; it may be an App, a Router, or a
zero-argument factory returning one. Imports the standard library and this package.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from ._generate import generate
from ._serve import to_json, to_yaml

__all__ = ["register", "run"]


def _load(target: str) -> Any:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'module:app', got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        # The user names the app on the command line, so this import is dynamic by design.
        obj: Any = importlib.import_module(module_name)  # noqa: PLG110
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not hasattr(obj, "router") and not hasattr(obj, "endpoints") and callable(obj):
        obj = obj()  # a factory such as build_app
    return obj


def run(args: argparse.Namespace) -> int:
    try:
        app = _load(args.target)
        document = generate(app, title=args.title, version=args.api_version, exclude=tuple(args.exclude or ()))
    except (ValueError, TypeError) as exc:
        print(f"plumego openapi: {exc}", file=sys.stderr)
        return 2
    text = to_yaml(document) if args.format == "yaml" else to_json(document)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(commands: Any) -> None:
    """Add ``openapi`` to the ``plumego`` command's subparsers."""
    parser = commands.add_parser("openapi", help="print the OpenAPI 3.1 document of an app (x/openapi)")
    parser.add_argument("target", help="the app, as module:attribute (an App, a Router or a factory)")
    parser.add_argument("--format", choices=("json", "yaml"), default="json")
    parser.add_argument("--output", "-o", help="write to this file instead of standard output")
    parser.add_argument("--title", default="Plumego API")
    parser.add_argument("--api-version", default="0.0.0", help="info.version of the document")
    parser.add_argument("--exclude", action="append", help="leave out routes under this path prefix")
    parser.set_defaults(func=run)
