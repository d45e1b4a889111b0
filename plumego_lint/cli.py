"""Command-line interface: ``plumego-lint <command>``; a thin adapter over the engine.

Owns argument parsing, exit codes (0 clean, 1 violations, 2 usage or config error) and output
streams. Must hold no rule logic: every command calls into the specs/engine packages.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from plumego_lint import __version__
from plumego_lint.specs import SpecError, TierIndex

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2


def _cmd_tiers(args: argparse.Namespace) -> int:
    index = TierIndex.installed()
    rows = [entry for entry in index if not args.prefix or entry.module.startswith(args.prefix)]
    if args.format == "json":
        payload = [{"module": e.module, "tier": e.tier, "source": str(e.source)} for e in rows]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        width = max((len(e.module) for e in rows), default=0)
        for e in rows:
            sys.stdout.write(f"{e.module:<{width}}  {e.tier:<12}  {e.source}\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plumego-lint", description="Boundary and architecture linter for Plumego.")
    parser.add_argument("--version", action="version", version=f"plumego-lint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    tiers = sub.add_parser("tiers", help="list every plumego module with its maturity tier (from installed package data)")
    tiers.add_argument("--format", choices=("text", "json"), default="text")
    tiers.add_argument("--prefix", default="", help="only modules whose dotted name starts with this")
    tiers.set_defaults(handler=_cmd_tiers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.handler(args)
    except SpecError as exc:
        sys.stderr.write(f"{exc.path}:{exc.line}:1: PLG902 {exc.message}\n")
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
