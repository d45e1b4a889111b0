"""``plumego-lint init``: inspect a service repo and write its ``[tool.plumego-lint]`` section.

Owns the inspection (source roots: src/, lib/ or flat; first-party packages, existing adapter packages, test
and migration folders), the TOML text it appends to pyproject.toml and the summary of what it chose. Never
writes a config that guards nothing: ``stable_paths`` stays unset (every first-party package, now and later).
Must not import the CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from plumego_lint.service.config import DEFAULT_ADAPTER_PATHS, _default_source_roots, discover_first_party

ADAPTER_NAMES = ("adapters", "adapter", "ports", "integrations")
EXCLUDE_CANDIDATES = ("tests", "test", "migrations", "scripts", "docs", "examples")


@dataclass(frozen=True)
class Proposal:
    """What ``init`` found and proposes. ``stable_paths`` is never written: unset, every first-party package
    is stable, including the ones added after ``init`` (an empty list would guard nothing)."""

    source_roots: tuple[str, ...]
    packages: tuple[str, ...]           # first-party packages and modules found now
    adapter_paths: tuple[str, ...]
    exclude: tuple[str, ...]

    @property
    def layout(self) -> str:
        roots = ", ".join(f"{r}/" for r in self.source_roots if r != ".")
        return f"{roots} layout" if roots else "flat layout (packages at the repo root)"

    def toml(self) -> str:
        def arr(values: tuple[str, ...]) -> str:
            return "[" + ", ".join(f'"{v}"' for v in values) + "]"
        found = ", ".join(self.packages) if self.packages else "none yet"
        return (
            "[tool.plumego-lint]\n"
            "# Written by `plumego-lint init`; see docs/service-repos.md. Dotted patterns: `a.b` is a.b and\n"
            "# everything below it, `*` one segment, `**` any depth.\n"
            f"source_roots = {arr(self.source_roots)}\n"
            "# Code that must survive plumego upgrades: only ga/beta plumego APIs there (PLG301). stable_paths is\n"
            f"# not set, so every first-party package is stable, also ones added later (found now: {found}).\n"
            "# To narrow it, list dotted patterns, e.g. stable_paths = [\"app.domain\", \"app.services\"].\n"
            "# The only modules that may import experimental plumego APIs, behind a Protocol (PLG302/PLG303).\n"
            f"adapter_paths = {arr(self.adapter_paths)}\n"
            "# Names added to the built-in list of vague package names (PLG201).\n"
            "discouraged_roots = []\n"
            "# report: imports under `if TYPE_CHECKING:` count; ignore: they do not.\n"
            'typing_only = "report"\n'
            f"exclude = {arr(self.exclude)}\n"
        )

    def summary(self) -> list[str]:
        """What ``init`` chose, one line each (the CLI prints them on stderr)."""
        packages = ", ".join(self.packages) if self.packages else "none yet"
        return [
            f"layout: {self.layout}: source_roots = {json.dumps(list(self.source_roots))}",
            f"first-party packages: {packages}",
            "stable: every first-party package, including ones added later (stable_paths not set)",
            f"adapters: {', '.join(self.adapter_paths)}",
            *([f"excluded: {', '.join(self.exclude)}"] if self.exclude else []),
        ]


def inspect_repo(root: Path) -> Proposal:
    root = root.resolve()
    source_roots = _default_source_roots(root)
    packages = discover_first_party(source_roots)
    adapters: list[str] = []
    for source_root in source_roots:
        for package in packages:
            base = source_root / package
            if not base.is_dir():
                continue
            for candidate in sorted(base.rglob("__init__.py")):
                if candidate.parent.name in ADAPTER_NAMES:
                    dotted = ".".join(candidate.parent.relative_to(source_root).parts)
                    adapters.append(dotted)
    # none found: the default pattern, which also covers the packages added later
    adapter_paths = tuple(adapters) or DEFAULT_ADAPTER_PATHS
    exclude = tuple(name for name in EXCLUDE_CANDIDATES if (root / name).is_dir())
    return Proposal(
        source_roots=tuple(r.relative_to(root).as_posix() or "." for r in source_roots),
        packages=packages,
        adapter_paths=adapter_paths,
        exclude=exclude,
    )


def write_section(root: Path, proposal: Proposal) -> Path:
    """Append the section to pyproject.toml (created if missing); refuses when one already exists."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    if "[tool.plumego-lint]" in text or '[tool."plumego-lint"]' in text:
        raise FileExistsError(f"{pyproject} already has a [tool.plumego-lint] section")
    separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    pyproject.write_text(text + separator + proposal.toml(), encoding="utf-8")
    return pyproject
