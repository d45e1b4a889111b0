"""File discovery: which Python files belong to the project and which module each one is.

Owns walking the source roots (never following directory symlinks, so loops cannot hang it),
skipping excludes, caches, virtualenvs and nested projects (a directory with its own
pyproject.toml/setup.py/setup.cfg), naming modules, and marking test files.
Must not read file contents or import rules.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
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


def _walk(source_root: str, directory: str, config: Config, root_prefix: int) -> Iterator[tuple[str, str]]:
    """(absolute path, repo-relative path) of every Python file below ``directory``; strings, not Paths (speed)."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    names = {e.name for e in entries}
    if directory != source_root and any(n in names for n in PROJECT_FILES):
        return
    if "pyvenv.cfg" in names:
        return
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                rel = entry.path[root_prefix:].replace(os.sep, "/")
                if config.exclude and _excluded(rel, config.exclude):
                    continue
                yield from _walk(source_root, entry.path, config, root_prefix)
            elif name.endswith(".py"):
                if entry.is_symlink() and not os.path.exists(entry.path):
                    continue
                rel = entry.path[root_prefix:].replace(os.sep, "/")
                if not (config.exclude and _excluded(rel, config.exclude)):
                    yield entry.path, rel
        except OSError:
            continue


def discover(config: Config) -> list[SourceFile]:
    """Every Python file under the configured source roots, sorted by path, each named as a module."""
    out: dict[str, SourceFile] = {}
    root = str(config.root)
    root_prefix = len(root.rstrip(os.sep)) + 1
    for source_root in config.source_roots:
        base = os.path.normpath(os.path.join(root, source_root))
        base_prefix = len(base.rstrip(os.sep)) + 1
        if not base.startswith(root):
            continue
        for abspath, rel in _walk(base, base, config, root_prefix):
            if rel in out:
                continue
            module, is_package = module_name(abspath[base_prefix:].replace(os.sep, "/"))
            out[rel] = SourceFile(abspath=abspath, rel=rel, module=module, is_package=is_package,
                                  is_test=is_test_path(rel))
    return [out[k] for k in sorted(out)]


def files_under(config: Config, paths: Iterable[Path]) -> list[str]:
    """Repo-relative paths of the project's Python files at or below ``paths``: what ``check PATH...`` checks.

    Walks only the named paths (never the whole tree), with ``discover``'s rules: a path outside the source roots,
    or inside a skipped, excluded, hidden or nested-project folder, holds none."""
    root = str(config.root)
    root_prefix = len(root.rstrip(os.sep)) + 1
    bases = sorted((os.path.normpath(os.path.join(root, s)) for s in config.source_roots), key=len, reverse=True)
    found: set[str] = set()
    for path in paths:
        target = str(path.resolve())
        base = next((b for b in bases if target == b or target.startswith(b.rstrip(os.sep) + os.sep)), None)
        if base is None or not base.startswith(root) or _hidden(base, target, config, root_prefix):
            continue
        if os.path.isdir(target):
            found.update(rel for _, rel in _walk(base, target, config, root_prefix))
        elif target.endswith(".py") and os.path.isfile(target):
            rel = target[root_prefix:].replace(os.sep, "/")
            if not (config.exclude and _excluded(rel, config.exclude)):
                found.add(rel)
    return sorted(found)


def _hidden(base: str, target: str, config: Config, root_prefix: int) -> bool:
    """Whether a folder between the source root ``base`` and ``target`` keeps ``discover`` out of it."""
    directory = os.path.dirname(target) if not os.path.isdir(target) else target
    while len(directory) > len(base):
        name = os.path.basename(directory)
        rel = directory[root_prefix:].replace(os.sep, "/")
        if (name.startswith(".") or name in SKIP_DIRS or (config.exclude and _excluded(rel, config.exclude))
                or os.path.isfile(os.path.join(directory, "pyvenv.cfg"))
                or any(os.path.isfile(os.path.join(directory, n)) for n in PROJECT_FILES)):
            return True
        directory = os.path.dirname(directory)
    return False
