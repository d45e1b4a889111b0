"""flake8 plugin (entry point ``flake8.extension``, code prefix ``PLG``): the per-file rules inside flake8.

Reuses the ``ast`` tree flake8 has already parsed (no second parse of the file), and reports the same
per-file findings, codes and lines as ``plumego-lint check`` for that file; flake8 applies ``# noqa``.
Info-level findings (PLG304) are not reported unless ``--plumego-info`` is given, because every code
flake8 prints fails the run. A thin adapter: must hold no rule logic.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from plumego_lint import __version__
from plumego_lint.service import ServiceConfigError, ServiceContext, check_tree, is_plumego_repo, load_service_config
from plumego_lint.service.config import find_project_root
from plumego_lint.specs import SpecError


@lru_cache(maxsize=8)
def _service_context(root: Path) -> ServiceContext | None:
    """One context per project root per flake8 worker process (flake8 builds a plugin per file)."""
    if is_plumego_repo(root):
        return None
    try:
        return ServiceContext.create(load_service_config(root))
    except (ServiceConfigError, SpecError):
        return None


class PlumegoFlake8Plugin:
    """AST plugin: ``tree`` and ``filename`` are injected by flake8 by parameter name."""

    name = "plumego-lint"
    version = __version__
    include_info = False

    def __init__(self, tree: ast.Module, filename: str) -> None:
        self.tree = tree
        self.filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option("--plumego-info", action="store_true", default=False, parse_from_config=True,
                          help="also report information-level plumego-lint findings (PLG304 beta API in use)")

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.include_info = bool(getattr(options, "plumego_info", False))

    def run(self) -> Iterator[tuple[int, int, str, type[PlumegoFlake8Plugin]]]:
        if self.filename in ("stdin", "-", ""):
            return
        path = Path(self.filename).resolve()
        ctx = _service_context(find_project_root(path))
        if ctx is None:
            return
        for finding in check_tree(self.tree, path, ctx):
            if finding.severity == "info" and not self.include_info:
                continue
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
