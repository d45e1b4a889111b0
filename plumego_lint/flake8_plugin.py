"""flake8 plugin (entry point ``flake8.extension``, code prefix ``PLG``): the per-file rules inside flake8.

Reuses the ``ast`` tree flake8 has already parsed (no second parse of the file) and runs every rule
family's per-file entry point on the same project model as ``plumego-lint check``, so it reports the
same per-file findings, codes and lines; flake8 applies ``# noqa``. A configuration or spec error (the CLI's
exit 2) is PLG902 on line 1 of each file, since a flake8 plugin cannot fail the run any other way. Information-level findings (PLG304)
are left out unless ``--plumego-info`` is given, because every code flake8 prints fails its run.
Project-wide rules (layout, manifests, docs sync) stay in the CLI. A thin adapter: no rule logic here.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumego_lint import __version__

if TYPE_CHECKING:
    from plumego_lint.rules import Finding, Project, RuleFamily
    from plumego_lint.specs import SpecError

# Every code a PLG rule could have: flake8 is asked which of them it would report (``_selected_codes``).
_CANDIDATES = tuple(f"PLG{n}" for n in range(100, 1000))


def _selected_codes(options: argparse.Namespace) -> frozenset[str] | None:
    """The PLG codes flake8 would report with these options (select, ignore, extend-*, defaults), decided
    by flake8's own ``DecisionEngine``; None when this flake8 has no such engine (then every rule runs
    and flake8 filters). Empty for ``--select E999`` and the like: the plugin then does nothing at all."""
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        chosen = tuple(engine.selected)
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    if chosen and not any(s.startswith("PLG") or "PLG".startswith(s) for s in chosen):
        return frozenset()     # no select entry can match a PLG code: none is reported, skip the loop below
    return frozenset(code for code in _CANDIDATES if engine.decision_for(code) is Decision.Selected)


@lru_cache(maxsize=8)
def _project(root: Path) -> tuple[Project, list[RuleFamily]] | SpecError:
    """One project model per root per flake8 worker process (flake8 builds a plugin object per file).

    Through the tree index (``treeindex``) and the spec cache (``speccache``): while no directory and no spec
    file changed, no walk of the tree and no YAML."""
    from plumego_lint.engine import build_project
    from plumego_lint.rules import per_file_families
    from plumego_lint.specs import SpecError

    try:   # only the families with per-file rules: the project-wide ones (and their imports) stay in the CLI
        return build_project(root, use_cache=True), per_file_families()
    except SpecError as exc:
        return exc   # reported on line 1 of every file checked, so an editor shows it instead of silence


@lru_cache(maxsize=256)
def _root_of(directory: Path) -> Path:
    from plumego_lint.config import find_root

    return find_root(directory)


class PlumegoFlake8Plugin:
    """AST plugin: ``tree``, ``filename`` and ``lines`` are injected by flake8 by parameter name."""

    name = "plumego-lint"
    version = __version__
    include_info = False
    disable_noqa = False
    # the PLG codes flake8 reports in this run (``parse_options``); None: not known, run every rule
    selected: frozenset[str] | None = None

    def __init__(self, tree: ast.Module, filename: str, lines: Sequence[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option("--plumego-info", action="store_true", default=False, parse_from_config=True,
                          help="also report information-level plumego-lint findings (PLG304 beta API in use)")

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.include_info = bool(getattr(options, "plumego_info", False))
        cls.disable_noqa = bool(getattr(options, "disable_noqa", False))
        cls.selected = _selected_codes(options)

    def findings(self) -> list[Finding]:
        if self.filename in ("stdin", "-", "") or self.selected is not None and not self.selected:
            return []
        from plumego_lint.facts import facts_from_tree
        from plumego_lint.rules import Finding
        from plumego_lint.rules.service import ServiceFamily
        from plumego_lint.specs import SpecError

        path = Path(self.filename).resolve()
        root = _root_of(path.parent)
        loaded = _project(root)
        if isinstance(loaded, SpecError):
            where = loaded.path if Path(loaded.path).is_absolute() else str(root / loaded.path)
            return [Finding("PLG902", "error", self.filename, 1, 1,
                            f"plumego-lint cannot run: {where}:{loaded.line}: {loaded.message}")]
        project, families = loaded
        selected = self.selected
        # a family none of whose codes the config enables and flake8 reports is not run
        families = [f for f in families if not f.rules or any(
            project.enabled(r.code) and (selected is None or r.code in selected) for r in f.rules)]
        try:
            rel = path.relative_to(project.root).as_posix()
        except ValueError:
            return []
        file = project.by_rel.get(rel)
        if file is None:
            return []  # excluded, a nested project, or outside the source roots: the CLI skips it too
        data = "".join(self.lines).encode("utf-8", "surrogateescape")
        out: list[Finding] = []
        for family in families:
            if isinstance(family, ServiceFamily):
                out.extend(family.check_tree(project, file, self.tree, data))
        # The other per-file families read spec rules; without specs (a plain service repo) they have
        # nothing to check, and a parse error cannot happen on a tree flake8 built, so skip their facts.
        if project.specs is not None:
            facts = facts_from_tree(self.tree, data)
            imports = project.imports_of(file, facts)
            for family in families:
                if not isinstance(family, ServiceFamily):
                    out.extend(family.check_file(project, file, facts, imports))
        return sorted((f for f in out if project.enabled(f.code)), key=Finding.sort_key)

    def run(self) -> Iterator[tuple[int, int, str, type[PlumegoFlake8Plugin]]]:
        from plumego_lint.facts import noqa_suppresses, scan_noqa

        noqa: dict[int, tuple[str, ...]] | None = None
        for finding in self.findings():
            if finding.severity == "info" and not self.include_info:
                continue
            first, last = finding.noqa_lines
            if last > max(first, finding.line) and not self.disable_noqa:
                # flake8 reads `# noqa` on the reported line only; the CLI accepts any line of a multi-line
                # import (the closing parenthesis is where people put it), so the plugin applies the others
                if noqa is None:
                    noqa = scan_noqa("".join(self.lines).encode("utf-8", "surrogateescape"))
                if noqa_suppresses(noqa, finding.code, range(first, last + 1)):
                    continue
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
