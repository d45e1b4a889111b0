"""The control plane as typed objects: loading, validation and tier lookup.

Public: ``load_specs``, ``SpecSet`` and its parts, ``SpecError``, ``TierIndex``, ``match_pattern``.
Must not import rules, reporters or the CLI.
"""

from plumego_lint.specs.loader import load_specs, read_manifest
from plumego_lint.specs.model import (
    DependencyRules,
    Family,
    Manifest,
    ModuleRule,
    PatternEntry,
    RepoSpec,
    SpecProblem,
    SpecSet,
    dotted_to_rel,
    match_pattern,
    rel_to_dotted,
)
from plumego_lint.specs.tiers import TierEntry, TierIndex, installed_package_dir
from plumego_lint.specs.yamlsource import Location, SpecError

__all__ = [
    "DependencyRules", "Family", "Location", "Manifest", "ModuleRule", "PatternEntry", "RepoSpec", "SpecError",
    "SpecProblem", "SpecSet", "TierEntry", "TierIndex", "dotted_to_rel", "installed_package_dir", "load_specs",
    "match_pattern", "read_manifest", "rel_to_dotted",
]
