"""Service-repo configuration: the ``[tool.plumego-lint]`` keys a service sets in its pyproject.toml.

Owns the dotted module patterns (``a.b`` = a.b and below, ``*`` one segment, ``**`` any depth), the
defaults used when a key is absent, and first-party package discovery. Reads its keys through the engine's
``plumego_lint.config`` (one reader of pyproject.toml); must not import rules, reporters or the CLI.
"""

from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from plumego_lint.config import Config, load_config

TypingOnly = Literal["report", "ignore"]

# Vague top-level names no service should have, with where their code usually belongs.
BUILTIN_DISCOURAGED: Mapping[str, str] = {
    "utils": "move each helper next to the code that uses it, or into a package named for what it holds",
    "util": "move each helper next to the code that uses it, or into a package named for what it holds",
    "common": "split it by concept: a package named for what it holds (e.g. money, clock, ids)",
    "helpers": "move each helper next to its caller, or name the package for what it does",
    "misc": "find each module a home named for what it does",
    "ai": "name it for the feature (e.g. chat, summarise) and reach plumego.x.ai through an adapter package",
    "tenant": "use plumego.x.tenant through an adapter, and keep your tenancy rules in a domain package",
    "rest": "name the package for the resources it serves (e.g. orders_api)",
    "pubsub": "use plumego.x.messaging.pubsub through an adapter; name your package for the events it carries",
    "net": "name the package for the protocol or service it talks to",
    "validator": "keep validation next to the type it validates, or use plumego.x.validate through an adapter",
    "frontend": "name the package for the UI it serves, or use plumego.x.frontend",
}

DEFAULT_ADAPTER_PATHS: tuple[str, ...] = ("*.adapters",)
DEFAULT_ENTRYPOINTS: tuple[str, ...] = ("**.__main__", "**.main", "**.asgi", "**.wsgi", "**.cli")
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git", ".venv", "venv", ".tox", "build", "dist", "node_modules", "__pycache__",
    "tests", "test", "conftest.py", "test_*.py", "*_test.py",
)


@lru_cache(maxsize=4096)
def match_dotted(pattern: str, module: str) -> bool:
    """Whether ``module`` is covered by a dotted pattern.

    ``a.b`` covers a.b and every module below it; ``*`` matches exactly one segment and ``**`` any
    number of segments (zero included). A pattern always covers the subtree of what it matches.
    """
    return _match_prefix(pattern.split("."), module.split("."))


def _match_prefix(pat: Sequence[str], mod: Sequence[str]) -> bool:
    if not pat:
        return True  # pattern used up: module is the matched node or below it
    head, rest = pat[0], pat[1:]
    if head == "**":
        return any(_match_prefix(rest, mod[i:]) for i in range(len(mod) + 1))
    if not mod:
        return False
    if head == "*" or fnmatch.fnmatchcase(mod[0], head):
        return _match_prefix(rest, mod[1:])
    return False


@dataclass(frozen=True)
class ServiceConfig:
    """The resolved service configuration (defaults applied); paths are absolute."""

    root: Path
    source_roots: tuple[Path, ...]
    first_party: tuple[str, ...]
    stable_paths: tuple[str, ...]
    adapter_paths: tuple[str, ...]
    discouraged_roots: Mapping[str, str]
    typing_only: TypingOnly = "report"  # the engine's key: count imports under `if TYPE_CHECKING:` or not
    ignore_typing_only: tuple[str, ...] = ()  # rule codes that skip typing-only imports
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    entrypoints: tuple[str, ...] = DEFAULT_ENTRYPOINTS
    specs: str | None = None
    configured: bool = False  # True when pyproject.toml has a [tool.plumego-lint] table

    def counts_typing_only(self, code: str) -> bool:
        return self.typing_only == "report" and code not in self.ignore_typing_only

    def is_first_party(self, module: str) -> bool:
        return module.split(".", 1)[0] in self.first_party

    def is_stable(self, module: str) -> bool:
        return any(match_dotted(p, module) for p in self.stable_paths)

    def is_adapter(self, module: str) -> bool:
        return any(match_dotted(p, module) for p in self.adapter_paths)

    def is_entrypoint(self, module: str) -> bool:
        return any(_match_exact(p, module) for p in self.entrypoints)

    def is_excluded(self, path: Path) -> bool:
        try:
            rel = (path if path.is_absolute() else path.resolve()).relative_to(self.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        part_pattern, path_patterns = _exclude_patterns(self.exclude)
        for pattern in path_patterns:
            if fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern + "/"):
                return True
        return part_pattern is not None and any(part_pattern.match(part) for part in rel.split("/"))

    def name_and_exclusion(self, abspath: str) -> tuple[str | None, bool]:
        """``(module_name(p), is_excluded(p))`` of an absolute, normalised ``.py`` path, on strings (the
        engine asks it for every file before the parse: the ``Path`` versions cost about 25 us a file)."""
        sep = os.sep
        root = str(self.root)
        if not abspath.endswith(".py") or not abspath.startswith(root + sep) or root.endswith(sep):
            path = Path(abspath)
            return self.module_name(path), self.is_excluded(path)
        rel = abspath[len(root) + 1:].replace(sep, "/")
        part_pattern, path_patterns = _exclude_patterns(self.exclude)
        excluded = (any(fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern + "/") for pattern in path_patterns)
                    or (part_pattern is not None and any(part_pattern.match(part) for part in rel.split("/"))))
        for source_root in _roots_by_depth(self.source_roots):
            if not abspath.startswith(source_root + sep) or source_root.endswith(sep):
                continue
            parts = abspath[len(source_root) + 1:-3].split(sep)
            if parts and parts[-1] == "__init__":
                parts.pop()
            if parts and all(p.isidentifier() for p in parts):
                return ".".join(parts), excluded
        return None, excluded

    def module_name(self, path: Path) -> str | None:
        """Dotted module name of a file under one of the source roots (None outside them)."""
        resolved = path if path.is_absolute() else path.resolve()
        for source_root in sorted(self.source_roots, key=lambda p: len(p.parts), reverse=True):
            try:
                rel = resolved.relative_to(source_root)
            except ValueError:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts and parts[-1] == "__init__":
                parts.pop()
            if parts and all(p.isidentifier() for p in parts):
                return ".".join(parts)
        return None

    def module_path(self, module: str) -> Path | None:
        """The file that defines a first-party module, if it exists on disk."""
        rel = Path(*module.split("."))
        for source_root in self.source_roots:
            for candidate in (source_root / rel.with_suffix(".py"), source_root / rel / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def is_package(self, module: str) -> bool:
        """Whether ``module`` is a package or module file under a source root (asked once per imported name
        by the facts walk: plain ``os.path`` strings take less than half the time of ``Path`` objects)."""
        rel = os.path.join(*module.split("."))
        for root in self.source_roots:
            base = os.path.join(root, rel)
            if os.path.isdir(base) or os.path.isfile(base + ".py"):
                return True
        return False

    def iter_files(self, paths: Iterable[Path] = ()) -> list[Path]:
        """Python files under the given paths (default: the source roots), minus excluded ones."""
        starts = list(paths) or list(self.source_roots)
        found: set[Path] = set()
        for start in starts:
            start = start.resolve()
            if start.is_file():
                if start.suffix == ".py":
                    found.add(start)
                continue
            for file in start.rglob("*.py"):
                if not self.is_excluded(file) and self.module_name(file) is not None:
                    found.add(file)
        return sorted(found)


@lru_cache(maxsize=16)
def _roots_by_depth(roots: tuple[Path, ...]) -> tuple[str, ...]:
    return tuple(str(r) for r in sorted(roots, key=lambda p: len(p.parts), reverse=True))


@lru_cache(maxsize=64)
def _exclude_patterns(exclude: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """(one regex for the patterns matched against each path segment, the patterns with a "/").

    One compiled alternation instead of a fnmatch call per pattern and segment: a whole-tree check
    asks this for every file (Django: 48 ms -> a few)."""
    segment = [fnmatch.translate(p.rstrip("/")) for p in exclude if "/" not in p.rstrip("/")]
    paths = tuple(p.rstrip("/") for p in exclude if "/" in p.rstrip("/"))
    return (re.compile("|".join(segment)) if segment else None), paths


@lru_cache(maxsize=4096)
def _match_exact(pattern: str, module: str) -> bool:
    """Like match_dotted, but the whole module name must be consumed (for entrypoint names)."""
    pat, mod = pattern.split("."), module.split(".")

    def go(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(mod)
        if pat[i] == "**":
            return any(go(i + 1, k) for k in range(j, len(mod) + 1))
        return j < len(mod) and fnmatch.fnmatchcase(mod[j], pat[i]) and go(i + 1, j + 1)

    return go(0, 0)


def discover_first_party(source_roots: Iterable[Path]) -> tuple[str, ...]:
    """Top-level packages (dirs with ``__init__.py``) and modules directly under the source roots."""
    names: set[str] = set()
    for source_root in source_roots:
        if not source_root.is_dir():
            continue
        for child in source_root.iterdir():
            if child.name.startswith((".", "_")) or child.name in {"tests", "test", "docs", "build", "dist"}:
                continue
            if child.is_dir() and (child / "__init__.py").is_file() and child.name.isidentifier():
                names.add(child.name)
            elif (child.suffix == ".py" and child.stem.isidentifier()
                  and child.stem not in {"setup", "conftest", "noxfile"}):
                names.add(child.stem)
    return tuple(sorted(names))


# Top-level folders that hold packages but not the project's own code (for telling a lib/ layout from a flat one).
AUXILIARY_DIRS = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "example", "tools", "scripts",
                            "bench", "benchmarks", "build", "dist"})


def _holds_packages(directory: Path) -> bool:
    try:
        return any(c.is_dir() and c.name.isidentifier() and (c / "__init__.py").is_file() for c in directory.iterdir())
    except OSError:
        return False


def _default_source_roots(root: Path) -> tuple[Path, ...]:
    """``src/`` when it holds a package; else the root when it holds one of its own (not tests, docs,
    examples, tools...); else ``lib/`` when it holds one (SQLAlchemy's layout); else the root."""
    src = root / "src"
    if _holds_packages(src):
        return (src,)
    lib = root / "lib"
    if _holds_packages(lib) and not any(n not in AUXILIARY_DIRS for n in discover_first_party((root,))):
        return (lib,)
    return (root,)


def load_service_config(root: Path) -> ServiceConfig:
    """Resolve the service configuration of the project at ``root`` (SpecError: PLG902 on bad values)."""
    return service_config(load_config(root))


def service_config(config: Config) -> ServiceConfig:
    """The engine's ``Config`` seen as a service repo: defaults applied for every key it leaves unset."""
    root = config.root.resolve()
    given = config.key_lines
    source_roots = (tuple((root / r).resolve() for r in config.source_roots) if "source_roots" in given
                    else _default_source_roots(root))
    first_party = discover_first_party(source_roots)
    discouraged = dict(BUILTIN_DISCOURAGED)
    for name in config.discouraged_roots:
        discouraged.setdefault(name, "name the package for what it holds")
    return ServiceConfig(
        root=root,
        source_roots=source_roots,
        first_party=first_party,
        stable_paths=config.stable_paths if "stable_paths" in given else first_party,
        adapter_paths=config.adapter_paths if "adapter_paths" in given else DEFAULT_ADAPTER_PATHS,
        discouraged_roots=discouraged,
        typing_only="ignore" if config.typing_only == "ignore" else "report",
        ignore_typing_only=config.ignore_typing_only,
        exclude=DEFAULT_EXCLUDE + config.exclude,
        entrypoints=config.entrypoints if "entrypoints" in given else DEFAULT_ENTRYPOINTS,
        specs=config.specs,
        configured=config.file is not None,
    )
