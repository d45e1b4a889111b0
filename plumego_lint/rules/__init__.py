"""The rule registry: every rule family, and every rule code with its metadata.

Families register here in a fixed order (their modules load on first use); ``RULES`` maps each code to its
``Rule`` (used by explain, SARIF rule metadata and severity lookups). New families (service-repo maturity
PLG3xx, PLG6xx) plug in by appending to ``default_families``. Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plumego_lint.rules.base import Analysis, Finding, Project, Rule, RuleFamily, Severity, TreeExtractor

if TYPE_CHECKING:
    from plumego_lint.rules.boundaries import BoundaryFamily, BoundaryModel
    from plumego_lint.rules.docs_sync import DocsSyncFamily
    from plumego_lint.rules.errors import ParseErrorFamily
    from plumego_lint.rules.layout import LayoutFamily
    from plumego_lint.rules.manifests import ManifestFamily
    from plumego_lint.rules.service import ServiceFamily

    RULES: dict[str, Rule]

# The family modules load on first use (PEP 562): the flake8 plugin imports only the families whose codes a
# file check can report (``per_file_families``), not the project-wide ones (docs sync pulls in the generator).
_LAZY = {"BoundaryFamily": "boundaries", "BoundaryModel": "boundaries", "DocsSyncFamily": "docs_sync",
         "ParseErrorFamily": "errors", "LayoutFamily": "layout", "ManifestFamily": "manifests",
         "ServiceFamily": "service"}


def __getattr__(name: str) -> Any:
    if name == "RULES":
        rules = all_rules()
        globals()["RULES"] = rules
        return rules
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def default_families() -> list[RuleFamily]:
    """Fresh instances of every family, in evaluation order."""
    from plumego_lint.rules.boundaries import BoundaryFamily
    from plumego_lint.rules.docs_sync import DocsSyncFamily
    from plumego_lint.rules.errors import ParseErrorFamily
    from plumego_lint.rules.layout import LayoutFamily
    from plumego_lint.rules.manifests import ManifestFamily
    from plumego_lint.rules.service import ServiceFamily

    return [ParseErrorFamily(), BoundaryFamily(), LayoutFamily(), ManifestFamily(), DocsSyncFamily(), ServiceFamily()]


def per_file_families() -> list[RuleFamily]:
    """The families whose ``check_file`` can report (in ``default_families`` order): all the flake8 plugin runs.
    The others (layout, manifests, docs sync) only have whole-project rules."""
    from plumego_lint.rules.boundaries import BoundaryFamily
    from plumego_lint.rules.errors import ParseErrorFamily
    from plumego_lint.rules.service import ServiceFamily

    return [ParseErrorFamily(), BoundaryFamily(), ServiceFamily()]


def all_rules(families: list[RuleFamily] | None = None) -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for family in families or default_families():
        for rule in family.rules:
            out[rule.code] = rule
    return dict(sorted(out.items()))


__all__ = ["Analysis", "BoundaryFamily", "BoundaryModel", "DocsSyncFamily", "Finding", "LayoutFamily",
           "ManifestFamily", "ParseErrorFamily", "Project", "RULES", "Rule", "RuleFamily", "ServiceFamily",
           "Severity", "TreeExtractor", "all_rules", "default_families", "per_file_families"]
