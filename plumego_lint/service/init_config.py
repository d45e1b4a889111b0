"""``plumego-lint init``: inspect a service repo and write its ``[tool.plumego-lint]`` section.

Owns the inspection (source roots, first-party packages, existing adapter packages, test and
migration folders) and the TOML text it appends to pyproject.toml. Must not import the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plumego_lint.service.config import _default_source_roots, discover_first_party

ADAPTER_NAMES = ("adapters", "adapter", "ports", "integrations")
EXCLUDE_CANDIDATES = ("tests", "test", "migrations", "scripts", "docs", "examples")


@dataclass(frozen=True)
class Proposal:
    source_roots: tuple[str, ...]
    stable_paths: tuple[str, ...]
    adapter_paths: tuple[str, ...]
    exclude: tuple[str, ...]

    def toml(self) -> str:
        def arr(values: tuple[str, ...]) -> str:
            return "[" + ", ".join(f'"{v}"' for v in values) + "]"
        return (
            "[tool.plumego-lint]\n"
            "# Written by `plumego-lint init`; see docs/service-repos.md. Dotted patterns: `a.b` is a.b and\n"
            "# everything below it, `*` one segment, `**` any depth.\n"
            f"source_roots = {arr(self.source_roots)}\n"
            "# Code that must survive plumego upgrades: only ga/beta plumego APIs here (PLG301).\n"
            f"stable_paths = {arr(self.stable_paths)}\n"
            "# The only modules that may import experimental plumego APIs, behind a Protocol (PLG302/PLG303).\n"
            f"adapter_paths = {arr(self.adapter_paths)}\n"
            "# Names added to the built-in list of vague package names (PLG201).\n"
            "discouraged_roots = []\n"
            "# report: imports under `if TYPE_CHECKING:` count; ignore: they do not.\n"
            'typing_only = "report"\n'
            f"exclude = {arr(self.exclude)}\n"
        )


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
    packaged = [p for p in packages if any((r / p).is_dir() for r in source_roots)]
    adapter_paths = tuple(adapters) or tuple(f"{p}.adapters" for p in packaged) or ("*.adapters",)
    exclude = tuple(name for name in EXCLUDE_CANDIDATES if (root / name).is_dir())
    return Proposal(
        source_roots=tuple(r.relative_to(root).as_posix() or "." for r in source_roots),
        stable_paths=tuple(packaged) or packages,
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
