"""The reference app's import rules: stable roots only (never plumego.x or the plumego facade), and
handlers never import app or config (main -> config -> app -> handlers -> domain)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reference_app"
STABLE_ROOTS = {"contract", "router", "core", "middleware", "security", "store", "health", "log", "metrics"}


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            if node.module == "plumego":
                names += [f"plumego.{alias.name}" for alias in node.names]
    return names


def test_only_stable_roots_are_imported() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10
    for path in files:
        for name in _imports(path):
            if name == "plumego" or name.startswith("plumego."):
                parts = name.split(".")
                assert len(parts) >= 2 and parts[1] in STABLE_ROOTS, f"{path.name} imports {name}"


def test_handlers_and_domain_never_import_app_or_config() -> None:
    for folder, banned in (("handlers", ("reference_app.app", "reference_app.config", "reference_app.__main__")),
                           ("domain", ("reference_app.app", "reference_app.config", "reference_app.handlers"))):
        for path in (PACKAGE / folder).rglob("*.py"):
            for name in _imports(path):
                assert not name.startswith(banned), f"{folder}/{path.name} imports {name}"
