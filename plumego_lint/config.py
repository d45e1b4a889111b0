"""Configuration discovery: ``[tool.plumego-lint]`` in pyproject.toml (or ``--config FILE``).

Owns finding the project root, reading and type-checking the config table (errors are SpecError
with file:line: PLG902, exit 2; rule codes must exist), the defaults, and ``per-file-ignores`` matching.
Must not import rules, reporters or the engine.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from plumego_lint.codes import unknown_codes
from plumego_lint.spec_error import SpecError

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

TABLE = "plumego-lint"
TYPING_ONLY_MODES = ("report", "ignore")

_LIST_KEYS = ("source_roots", "exclude", "select", "ignore", "ignore_typing_only", "stable_paths", "adapter_paths",
              "discouraged_roots", "entrypoints")
_STR_KEYS = ("specs", "typing_only", "cache_dir", "baseline", "importlinter")
_INT_KEYS = ("jobs",)


@dataclass(frozen=True)
class Config:
    """The resolved configuration of one project."""

    root: Path
    file: str | None = None                 # repo-relative config file, when there is one
    source_roots: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    specs: str | None = None                # folder with repo.yaml + dependency-rules.yaml, relative to root
    typing_only: str = "report"             # report | ignore: imports under `if TYPE_CHECKING:`
    ignore_typing_only: tuple[str, ...] = ()  # rule codes that ignore typing-only imports
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    cache_dir: str = ".plumego-lint-cache"
    baseline: str | None = None
    jobs: int | None = None
    importlinter: str | None = None         # path of the generated import-linter config ("" disables)
    # Service-repo keys (read by the maturity rules; dotted module patterns).
    stable_paths: tuple[str, ...] = ()
    adapter_paths: tuple[str, ...] = ()
    discouraged_roots: tuple[str, ...] = ()
    entrypoints: tuple[str, ...] = ()        # composition-root modules exempt from PLG602 (dotted patterns)
    # (path pattern, code prefixes) pairs: findings in matching files with those codes are dropped (flake8's key)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def location(self, key: str) -> str:
        return f"{self.file or 'pyproject.toml'}:{self.key_lines.get(key, 1)}"

    def ignored_for(self, path: str, code: str) -> bool:
        """Whether ``per-file-ignores`` drops ``code`` in the repo-relative ``path``. A pattern matches as a glob
        (``*`` crosses ``/``, as in flake8), or as a folder/file path and everything below it."""
        for pattern, codes in self.per_file_ignores:
            if any(code.startswith(c) for c in codes) and _path_matches(pattern, path):
                return True
        return False

    def fingerprint(self) -> str:
        """A hash of everything that could change findings (part of the cache key)."""
        payload = repr([(f.name, getattr(self, f.name)) for f in fields(self) if f.name not in {"key_lines", "root"}])
        return blake2b(payload.encode(), digest_size=8).hexdigest()


def _path_matches(pattern: str, path: str) -> bool:
    p = pattern.strip().removeprefix("./").rstrip("/")
    return path == p or path.startswith(p + "/") or fnmatch.fnmatchcase(path, p)


def _per_file_ignores(value: Any, display: str, line: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{"tests/*" = ["PLG6"], "app/legacy.py" = "PLG107,PLG301"}`` (a table; lists or flake8's comma strings)."""
    if not isinstance(value, dict):
        raise SpecError(display, line, "'per-file-ignores' must be a table of path pattern = [codes]")
    out: list[tuple[str, tuple[str, ...]]] = []
    for pattern, codes in value.items():
        if isinstance(codes, str):
            codes = [c for c in re.split(r"[,\s]+", codes) if c]
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            raise SpecError(display, line, f"per-file-ignores {pattern!r} must list codes, e.g. [\"PLG601\"]")
        unknown = unknown_codes(codes)
        if unknown:
            raise SpecError(display, line, f"per-file-ignores {pattern!r}: unknown rule code {unknown[0]!r} "
                            "(see `plumego-lint explain`)")
        out.append((pattern, tuple(c.strip().upper() for c in codes)))
    return tuple(out)


def _has_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return False
    return f"[tool.{TABLE}" in text or f'[tool."{TABLE}"' in text


def find_root(start: Path) -> Path:
    """The nearest ancestor with a ``[tool.plumego-lint]`` table or a ``specs/repo.yaml``; else the nearest
    ancestor with a pyproject.toml; else ``start``."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    fallback: Path | None = None
    for directory in (start, *start.parents):
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return directory
        if (directory / "specs" / "repo.yaml").is_file():
            return directory
        if fallback is None and pyproject.is_file():
            fallback = directory
    return fallback or start


def _key_lines(text: str, keys: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = TABLE in stripped
            if in_table:
                out.setdefault("__table__", number)
                sub = re.match(rf'^\[\s*tool\.("?){re.escape(TABLE)}\1\.\s*"?([\w-]+)"?\s*\]', stripped)
                if sub:     # [tool.plumego-lint.per-file-ignores]: the sub-table's own header line
                    out.setdefault(sub.group(2), number)
            continue
        if in_table:
            for key in keys:
                if re.match(rf'^"?{re.escape(key)}"?\s*=', stripped):
                    out.setdefault(key, number)
    return out


def load_config(root: Path, config_file: Path | None = None) -> Config:
    """Read the config for ``root`` (or from ``config_file``, whose directory becomes the root)."""
    if config_file is not None:
        config_file = config_file.resolve()
        root = config_file.parent
        display = config_file.name
        if not config_file.is_file():
            raise SpecError(str(config_file), 1, "config file not found")
    else:
        root = root.resolve()
        config_file = root / "pyproject.toml"
        display = "pyproject.toml"
    table: dict[str, Any] = {}
    text = ""
    if config_file.is_file():
        try:
            text = config_file.read_text(encoding="utf-8")
            doc = tomllib.loads(text)
        except UnicodeError as exc:
            raise SpecError(display, 1, f"cannot read config: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise SpecError(display, int(m.group(1)) if m else 1, f"invalid TOML: {exc}") from None
        tool = doc.get("tool", {})
        found = tool.get(TABLE) if isinstance(tool, dict) else None
        if found is None and TABLE in doc:      # a standalone plumego-lint.toml may put keys at the top
            found = doc[TABLE]
        if found is not None:
            if not isinstance(found, dict):
                raise SpecError(display, 1, f"[tool.{TABLE}] must be a table")
            table = found
    lines = _key_lines(text, list(table))
    values: dict[str, Any] = {}
    for key, value in table.items():
        line = lines.get(key, lines.get("__table__", 1))
        attr = key.replace("-", "_")
        if attr in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SpecError(display, line, f"{key!r} must be a list of strings")
            values[attr] = tuple(value)
        elif attr in _STR_KEYS:
            if not isinstance(value, str):
                raise SpecError(display, line, f"{key!r} must be a string")
            values[attr] = value
        elif attr == "per_file_ignores":
            values[attr] = _per_file_ignores(value, display, line)
        elif attr in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(display, line, f"{key!r} must be a positive integer")
            values[attr] = value
        else:
            known = ", ".join(sorted((*_LIST_KEYS, *_STR_KEYS, *_INT_KEYS, "per-file-ignores")))
            raise SpecError(display, line, f"unknown key {key!r} in [tool.{TABLE}] (known: {known})")
    for key in ("select", "ignore", "ignore_typing_only"):
        unknown = unknown_codes(values.get(key, ()))
        if unknown:     # a typo would select nothing (every run clean) or ignore nothing
            raise SpecError(display, lines.get(key, lines.get("__table__", 1)),
                            f"{key!r}: unknown rule code {unknown[0]!r} (see `plumego-lint explain`)")
    if values.get("typing_only", "report") not in TYPING_ONLY_MODES:
        raise SpecError(display, lines.get("typing_only", 1), f"'typing_only' must be one of {TYPING_ONLY_MODES}")
    specs = values.get("specs")
    if specs is None and (root / "specs" / "repo.yaml").is_file():
        specs = "specs"
    if specs is not None:
        specs = specs.strip("/") or "."
        if not (root / specs / "repo.yaml").is_file():
            raise SpecError(display, lines.get("specs", 1), f"specs folder {specs!r} has no repo.yaml")
    values["specs"] = specs
    for key in ("source_roots",):
        for entry in values.get(key, ()):
            if not (root / entry).is_dir():
                raise SpecError(display, lines.get(key, 1), f"source root {entry!r} is not a directory")
    return Config(root=root, file=display if table else None, key_lines=lines, **values)
