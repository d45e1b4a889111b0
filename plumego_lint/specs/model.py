"""Typed value objects for the control plane: repo layout, dependency rules, manifests, taxonomy.

Owns the shapes every rule reads and the one definition of spec path patterns.
Pure data and pure functions: no file access, no YAML, no imports from the rest of plumego_lint
except ``yamlsource.Location``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from plumego_lint.specs.yamlsource import Location

Tier = Literal["ga", "beta", "experimental"]
TIERS: tuple[Tier, ...] = ("ga", "beta", "experimental")
STDLIB = "stdlib"


def match_pattern(pattern: str, rel: str) -> bool:
    """Whether slash path ``rel`` matches a spec pattern.

    ``a`` and ``a/**`` mean ``a`` itself or anything below it; ``a/*`` means exactly one level
    below ``a``; ``**`` alone matches everything. (Upstream Go uses two different semantics in
    two checks; here there is one, documented in specs/dependency-rules.yaml.)
    """
    if pattern == "**":
        return True
    if pattern.endswith("/**"):
        base = pattern[:-3]
        return rel == base or rel.startswith(base + "/")
    if pattern.endswith("/*"):
        base = pattern[:-2]
        if not rel.startswith(base + "/"):
            return False
        return "/" not in rel[len(base) + 1 :]
    return rel == pattern or rel.startswith(pattern + "/")


def rel_to_dotted(package: str, rel: str) -> str:
    """``x/ai`` relative to ``plumego`` is ``plumego.x.ai``; the empty path is the package."""
    return package if not rel else f"{package}.{rel.replace('/', '.')}"


def dotted_to_rel(package: str, dotted: str) -> str | None:
    """Inverse of rel_to_dotted; None when ``dotted`` is outside ``package``."""
    if dotted == package:
        return ""
    if dotted.startswith(package + "."):
        return dotted[len(package) + 1 :].replace(".", "/")
    return None


@dataclass(frozen=True)
class PatternEntry:
    """One pattern of an allow/deny list, with the spec line it came from."""

    pattern: str
    location: Location

    def matches(self, rel: str) -> bool:
        return match_pattern(self.pattern, rel)


@dataclass(frozen=True)
class Layer:
    name: str
    description: str
    paths: tuple[str, ...]
    packages: tuple[str, ...]
    location: Location
    # Packages of this layer that may import only the stable layer (the canonical reference app).
    stable_only: tuple[PatternEntry, ...] = ()


@dataclass(frozen=True)
class RepoSpec:
    """specs/repo.yaml."""

    name: str
    module: str
    layers: Mapping[str, Layer]
    allowed_library_roots: tuple[str, ...]
    discouraged_roots: tuple[str, ...]
    location: Location
    discouraged_location: Location
    allowed_location: Location | None = None
    module_location: Location | None = None     # the `repo.module` line

    def layer_paths(self, layer: str) -> tuple[str, ...]:
        found = self.layers.get(layer)
        return found.paths if found else ()

    def layer_packages(self, *layers: str) -> tuple[str, ...]:
        return tuple(p for name in layers if name in self.layers for p in self.layers[name].packages)


@dataclass(frozen=True)
class ModuleRule:
    """One entry of specs/dependency-rules.yaml ``modules``.

    ``restricts`` says whether the entry has an ``allow`` key at all: a rule without one restricts nothing
    by itself (only its ``deny`` applies, as in an import-linter forbidden contract), while ``allow: []``
    allows nothing outside the rule's own path."""

    name: str
    path: str
    layer: str
    allow: tuple[PatternEntry, ...]
    deny: tuple[PatternEntry, ...]
    declared_callers: tuple[PatternEntry, ...]
    third_party: tuple[PatternEntry, ...]
    location: Location
    restricts: bool = True

    @property
    def allows_stdlib(self) -> bool:
        return not self.restricts or any(e.pattern == STDLIB for e in self.allow)

    def contains(self, rel: str) -> bool:
        return match_pattern(self.path, rel)


@dataclass(frozen=True)
class DependencyRules:
    """specs/dependency-rules.yaml."""

    flags: Mapping[str, bool]
    modules: Mapping[str, ModuleRule]
    forbidden_import_patterns: tuple[PatternEntry, ...]
    location: Location
    flag_locations: Mapping[str, Location] = field(default_factory=dict)

    def flag(self, name: str, default: bool = False) -> bool:
        """A repo-wide rule of the ``rules:`` mapping; one that is not written is off (absent restricts nothing)."""
        return self.flags.get(name, default)

    def rules_containing(self, rel: str) -> list[ModuleRule]:
        """Every rule whose path contains ``rel``, most specific last."""
        found = [r for r in self.modules.values() if r.contains(rel)]
        return sorted(found, key=lambda r: r.path.count("/") + (1 if r.path else 0))

    def most_specific(self, rel: str) -> ModuleRule | None:
        found = self.rules_containing(rel)
        return found[-1] if found else None

    def allow_rule(self, rel: str) -> ModuleRule | None:
        """The rule whose ``allow`` list applies to ``rel``: the most specific containing rule that has an
        ``allow`` key (a nested deny-only rule keeps its parent's allow list); None: imports are unrestricted."""
        return next((r for r in reversed(self.rules_containing(rel)) if r.restricts), None)


@dataclass(frozen=True)
class DeprecatedSymbol:
    symbol: str
    replacement: str
    since: str
    location: Location


@dataclass(frozen=True)
class Manifest:
    """One module.yaml; ``file`` is repo-relative with ``/``; ``key_lines`` locate each key."""

    file: str
    directory: str
    name: str
    path: str
    layer: str
    status: str
    owner: str
    summary: str
    stability_tiers: Mapping[str, tuple[str, ...]]
    public_entrypoints: tuple[str, ...]
    allowed_imports: tuple[str, ...]
    forbidden_imports: tuple[str, ...]
    doc_paths: tuple[str, ...]
    parent_family: str | None
    subordinate_families: tuple[str, ...]
    deprecated_symbols: tuple[DeprecatedSymbol, ...]
    key_lines: Mapping[str, int]
    item_lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def location(self, key: str | None = None) -> Location:
        return Location(self.file, self.key_lines.get(key, 1) if key else 1)

    def item_location(self, key: str, index: int) -> Location:
        """The line of item ``index`` of list ``key`` (the key's line when unknown)."""
        lines = self.item_lines.get(key, ())
        return Location(self.file, lines[index]) if 0 <= index < len(lines) else self.location(key)


@dataclass(frozen=True)
class Family:
    name: str
    canonical_root: str
    roots: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class ManifestSchema:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    enums: Mapping[str, tuple[str, ...]]
    limits: Mapping[str, int]
    may_be_empty: tuple[str, ...]
    stable_required: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class MaturitySignal:
    module: str
    status: str | None
    recommended_entrypoint: str
    docs_signal: str
    coverage_signal: str
    location: Location


@dataclass(frozen=True)
class SpecProblem:
    """A schema or consistency problem found while loading (reported as a PLG4xx finding)."""

    code: str
    message: str
    location: Location


@dataclass
class SpecSet:
    """Everything the control plane says about one repository."""

    root: Path
    specs_dir: str
    repo: RepoSpec
    rules: DependencyRules
    schema: ManifestSchema | None
    families: Mapping[str, Family]
    maturity: tuple[MaturitySignal, ...]
    manifests: Mapping[str, Manifest]
    problems: list[SpecProblem]

    @property
    def package(self) -> str:
        return self.repo.module

    @property
    def package_dir(self) -> Path:
        return self.root / self.repo.module.replace(".", "/")

    def spec_file(self, name: str) -> str:
        return f"{self.specs_dir}/{name}" if self.specs_dir else name
