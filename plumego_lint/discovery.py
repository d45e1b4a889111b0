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
from plumego_lint.listing import Listed, Listings, record_dir, record_names

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "dist", "build", "venv", ".venv", "env"})
_TEST_DIRS = frozenset({"tests", "test", "testing"})


def is_test_path(rel: str) -> bool:
    """Tests are excluded from library rules (upstream excludes _test.go the same way)."""
    parts = rel.split("/")
    name = parts[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(p in _TEST_DIRS for p in parts[:-1])


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


def _walk(source_root: str, config: Config, root_prefix: int, dirs: Listed | None = None,
          listings: Listings | None = None) -> Iterator[SourceFile]:
    """Every Python file below ``source_root`` as a ``SourceFile`` (unsorted), one ``os.scandir`` per directory.

    Module prefix and test flag are computed once per directory, not per file. ``dirs`` receives the
    (ctime_ns, inode) of every directory listed, taken before it is listed (``treeindex`` watches them);
    ``listings`` each directory's entries, for the module.yaml walk over the same tree that follows."""
    exclude = config.exclude
    root_test = not _TEST_DIRS.isdisjoint(source_root[root_prefix:].replace(os.sep, "/").split("/"))
    # (directory, its dotted module prefix or None when a part is no identifier, is a test directory)
    stack: list[tuple[str, str | None, bool]] = [(source_root, "", root_test)]
    while stack:
        directory, prefix, dir_test = stack.pop()
        if dirs is not None:
            record_dir(dirs, directory)
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError:
            continue
        if listings is not None:
            listings[directory] = entries
        names = {e.name for e in entries}
        if dirs is not None:
            record_names(dirs, directory, names)
        if directory != source_root and not names.isdisjoint(PROJECT_FILES):
            continue
        if "pyvenv.cfg" in names:
            continue
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name.startswith(".") or name in SKIP_DIRS:
                        continue
                    if exclude and _excluded(entry.path[root_prefix:].replace(os.sep, "/"), exclude):
                        continue
                    sub = f"{prefix}.{name}" if prefix else name
                    stack.append((entry.path, sub if prefix is not None and name.isidentifier() else None,
                                  dir_test or name in _TEST_DIRS))
                elif name.endswith(".py"):
                    if entry.is_symlink() and not os.path.exists(entry.path):
                        if dirs is not None:
                            dirs[entry.path] = (-1, -1, "")    # a dangling link: its target appearing counts
                        continue
                    path = entry.path
                    rel = path[root_prefix:].replace(os.sep, "/")
                    if exclude and _excluded(rel, exclude):
                        continue
                    stem = name[:-3]
                    is_package = stem == "__init__"
                    if prefix is None:
                        module = ""
                    elif is_package:
                        module = prefix
                    elif stem.isidentifier():
                        module = f"{prefix}.{stem}" if prefix else stem
                    else:
                        module = ""
                    is_test = dir_test or name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")
                    yield SourceFile.make(path, rel, module, is_package, is_test)
            except OSError:
                continue


def discover(config: Config, dirs: Listed | None = None, listings: Listings | None = None) -> list[SourceFile]:
    """Every Python file under the configured source roots, sorted by path, each named as a module.

    ``dirs``, when given, receives the stat of every directory the walk listed, ``listings`` its entries
    (see ``_walk``)."""
    out: dict[str, SourceFile] = {}
    root = str(config.root)
    root_prefix = len(root.rstrip(os.sep)) + 1
    for source_root in config.source_roots:
        base = os.path.normpath(os.path.join(root, source_root))
        if not base.startswith(root):
            continue
        for file in _walk(base, config, root_prefix, dirs, listings):
            if file.rel not in out:
                out[file.rel] = file
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
            # walked from the named folder itself (_hidden checked the folders above it, itself included)
            found.update(f.rel for f in _walk(target, config, root_prefix, None))
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
