"""The maturity tier of any ``plumego.*`` module, read from plumego's own manifests.

Owns ``TierIndex``: built from the module.yaml files of an installed plumego (package data, found
without importing it) or of a source tree, it answers ``tier_of("plumego.x.ai.provider.openai")``.
Must not import the plumego runtime; manifests are read as data.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from plumego_lint.specs.loader import iter_manifest_files, read_manifest
from plumego_lint.specs.model import Manifest
from plumego_lint.specs.yamlsource import Location, SpecError

PLUMEGO = "plumego"


@dataclass(frozen=True)
class TierEntry:
    """The tier that applies to a module path, and the manifest line that says so."""

    module: str  # dotted, e.g. plumego.x.ai.provider
    tier: str
    source: Location
    deprecated: tuple[str, ...] = ()


class TierIndex:
    """Longest-prefix lookup of tiers by dotted module name.

    A subpackage's own manifest wins; otherwise an entry in its family's ``stability_tiers``;
    otherwise the family's ``status``. Modules outside every manifest have no tier (None).
    """

    def __init__(self, entries: Mapping[str, TierEntry], manifests: Mapping[str, Manifest] | None = None) -> None:
        self._entries = dict(entries)
        self.manifests: Mapping[str, Manifest] = dict(manifests or {})

    @classmethod
    def from_manifests(cls, manifests: Mapping[str, Manifest], package: str = PLUMEGO) -> TierIndex:
        entries: dict[str, TierEntry] = {}
        for directory, manifest in manifests.items():
            dotted = package if not directory else f"{package}.{directory.replace('/', '.')}"
            deprecated = tuple(f"{dotted}.{d.symbol}" if not d.symbol.startswith(package + ".") else d.symbol
                               for d in manifest.deprecated_symbols)
            if manifest.status:
                entries[dotted] = TierEntry(dotted, manifest.status, manifest.location("status"), deprecated)
            for tier, subs in manifest.stability_tiers.items():
                for sub in subs:
                    sub_dotted = f"{dotted}.{sub.replace('/', '.')}"
                    # A subpackage's own manifest (assigned above, in any order) wins over this entry.
                    entries.setdefault(sub_dotted, TierEntry(sub_dotted, tier, manifest.location("stability_tiers")))
        return cls(entries, manifests)

    @classmethod
    def from_package_dir(cls, package_dir: Path, package: str = PLUMEGO, display_root: Path | None = None) -> TierIndex:
        manifests: dict[str, Manifest] = {}
        base = display_root or package_dir.parent
        for file in iter_manifest_files(package_dir):
            directory = file.parent.relative_to(package_dir).as_posix()
            directory = "" if directory == "." else directory
            try:
                display = file.relative_to(base).as_posix()
            except ValueError:
                display = file.as_posix()
            manifest, _ = read_manifest(file, display, directory)
            manifests[directory] = manifest
        return cls.from_manifests(manifests, package)

    @classmethod
    def installed(cls) -> TierIndex:
        """Tiers of the plumego that ``import plumego`` would load, read without importing it."""
        package_dir = installed_package_dir(PLUMEGO)
        if package_dir is None:
            raise SpecError("plumego", 1, "plumego is not installed: cannot read its module tiers")
        return cls.from_package_dir(package_dir)

    def lookup(self, dotted: str) -> TierEntry | None:
        name = dotted
        while name:
            found = self._entries.get(name)
            if found is not None:
                return found
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]
        return None

    def tier_of(self, dotted: str) -> str | None:
        entry = self.lookup(dotted)
        return entry.tier if entry else None

    def __iter__(self) -> Iterator[TierEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.module))

    def __len__(self) -> int:
        return len(self._entries)


def installed_package_dir(name: str) -> Path | None:
    """Directory of an importable top-level package, found without executing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location)
        if path.is_dir():
            return path
    return None
