"""The rule registry: every rule family, and every rule code with its metadata.

Families register here in a fixed order; ``RULES`` maps each code to its ``Rule`` (used by explain,
SARIF rule metadata and severity lookups). New families (service-repo maturity PLG3xx, PLG6xx)
plug in by appending to ``default_families``. Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

from plumego_lint.rules.base import Analysis, Finding, Project, Rule, RuleFamily, Severity, TreeExtractor
from plumego_lint.rules.boundaries import BoundaryFamily, BoundaryModel
from plumego_lint.rules.docs_sync import DocsSyncFamily
from plumego_lint.rules.errors import ParseErrorFamily
from plumego_lint.rules.layout import LayoutFamily
from plumego_lint.rules.manifests import ManifestFamily
from plumego_lint.rules.service import ServiceFamily


def default_families() -> list[RuleFamily]:
    """Fresh instances of every family, in evaluation order."""
    return [ParseErrorFamily(), BoundaryFamily(), LayoutFamily(), ManifestFamily(), DocsSyncFamily(), ServiceFamily()]


def all_rules(families: list[RuleFamily] | None = None) -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for family in families or default_families():
        for rule in family.rules:
            out[rule.code] = rule
    return dict(sorted(out.items()))


RULES = all_rules()

__all__ = ["Analysis", "BoundaryModel", "Finding", "Project", "RULES", "Rule", "RuleFamily", "Severity",
           "TreeExtractor", "all_rules", "default_families"]
