"""File discovery: which Python files belong to the project and which module each one is.

Owns walking the source roots (never following directory symlinks, so loops cannot hang it),
skipping excludes, caches, virtualenvs and nested projects (a directory with its own
pyproject.toml/setup.py/setup.cfg), naming modules, and marking test files.
Must not read file contents or import rules.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

from plumego_lint.config import Config
from plumego_lint.facts import SourceFile

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "dist", "build", "venv", ".venv", "env"})


def is_test_path(rel: str) -> bool:
    """Tests are excluded from library rules (upstream excludes _test.go the same way)."""
    parts = rel.split("/")
    name = parts[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(p in {"tests", "test", "testing"} for p in parts[:-1])


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        p = pattern.strip("/")
        if rel == p or rel.startswith(p + "/") or fnmatch.fnmatchcase(rel, p):
            return True
    return False


def module_name(rel_to_source_root: str) -> tuple[str, bool]:
    """``plumego/core/app.py`` -> (``plumego.core.app``, False); ``a/__init__.py`` -> (``a``, True)."""
    parts = rel_to_source_root[:-3].split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    if not all(p.isidentifier() for p in parts):
        return "", is_package
    return ".".join(parts), is_package


def _walk(root: Path, directory: Path, config: Config) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    if directory != root and any(e.name in PROJECT_FILES for e in entries):
        return
    if any(e.name == "pyvenv.cfg" for e in entries):
        return
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                path = Path(entry.path)
                rel = path.relative_to(config.root).as_posix()
                if _excluded(rel, config.exclude):
                    continue
                yield from _walk(root, path, config)
            elif name.endswith(".py"):
                path = Path(entry.path)
                if entry.is_symlink() and not path.exists():
                    continue
                rel = path.relative_to(config.root).as_posix()
                if not _excluded(rel, config.exclude):
                    yield path
        except OSError:
            continue


def discover(config: Config) -> list[SourceFile]:
    """Every Python file under the configured source roots, sorted by path, each named as a module."""
    out: dict[str, SourceFile] = {}
    for source_root in config.source_roots:
        base = (config.root / source_root).resolve()
        for path in _walk(base if source_root != "." else config.root, base, config):
            rel = path.relative_to(config.root).as_posix()
            if rel in out:
                continue
            module, is_package = module_name(path.relative_to(base).as_posix())
            out[rel] = SourceFile(path=path, rel=rel, module=module, is_package=is_package, is_test=is_test_path(rel))
    return [out[k] for k in sorted(out)]
