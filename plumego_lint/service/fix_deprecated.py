"""``plumego-lint fix`` for PLG305: move uses of deprecated plumego symbols to their declared replacement.

A plumego ``module.yaml`` lists ``deprecated_symbols`` with a ``replacement``. When the replacement is a
symbol (``plumego.core.App``, or a bare name in the same module), this codemod rewrites, with libcst:

- ``from M import old as x``  -> ``from M2 import new as x`` (the alias keeps the rest of the file unchanged);
- ``from M import old``       -> ``from M2 import new`` and every use of ``old`` bound by that import
  (libcst scope analysis) renamed to ``new``;
- ``M.old`` / ``alias.old``   -> ``M.new`` / ``alias.new`` when the replacement lives in the same module.

Everything else is left as written and reported with a reason: a replacement given as prose, a deprecated
module (not a symbol), a star import, an attribute use whose replacement lives in another module, a new
name already bound to something else in the file. Formatting, comments and line endings are preserved;
a second run changes nothing. Must not import the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import (
    Assignment,
    MetadataWrapper,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    ScopeProvider,
)

from plumego_lint.service.codemod import SmallResult, split_grown_line
from plumego_lint.service.context import Deprecation, ServiceContext
from plumego_lint.service.runner import check_file

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True)
class Target:
    """Where a deprecated symbol goes: ``module.name``."""

    module: str
    name: str


def replacement_target(dep: Deprecation) -> Target | None:
    """The replacement as a symbol, or None when it is prose, empty or not a plumego name."""
    text = dep.replacement.strip().removesuffix("()")
    if not _DOTTED.fullmatch(text):
        return None
    owner = dep.symbol.rpartition(".")[0]
    if "." not in text:
        return Target(owner, text)
    module, _, name = text.rpartition(".")
    if not (module == "plumego" or module.startswith("plumego.")):
        return None
    return Target(module, name)


@dataclass
class FileFix:
    """The rewritten source of one file and the PLG305 lines the rewrite could not handle."""

    after: str
    fixed_lines: set[int] = field(default_factory=set)
    skipped: dict[int, str] = field(default_factory=dict)


def _dotted(node: cst.BaseExpression) -> str:
    return cst.helpers.get_full_name_for_node(node) or ""


def _qualified_names(value: object) -> Collection[QualifiedName]:
    """QualifiedNameProvider's value for a node; libcst may hand it back as a LazyValue to call."""
    if callable(value):
        value = value()
    return value if isinstance(value, (set, frozenset)) else ()


def _import_binding(assignment: object) -> str:
    """The dotted name an absolute import binds (``from M import a as b`` binds ``b`` to ``M.a``), else ""."""
    if not isinstance(assignment, Assignment):
        return ""
    node = assignment.node
    if isinstance(node, cst.ImportFrom) and not node.relative and not isinstance(node.names, cst.ImportStar):
        base = _dotted(node.module) if node.module is not None else ""
        for alias in node.names:
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) \
                else _dotted(alias.name)
            if bound == assignment.name:
                return f"{base}.{_dotted(alias.name)}"
    if isinstance(node, cst.Import):
        for alias in node.names:
            if alias.asname and isinstance(alias.asname.name, cst.Name) and alias.asname.name.value == assignment.name:
                return _dotted(alias.name)
    return ""


def rewrite_deprecated(source: str, deprecations: Mapping[str, Deprecation]) -> FileFix:
    """Rewrite every use of a deprecated symbol in ``source`` that can be rewritten safely."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    qualified = wrapper.resolve(QualifiedNameProvider)
    scopes = wrapper.resolve(ScopeProvider)
    result = FileFix(source)

    def line_of(node: cst.CSTNode) -> int:
        return positions[node].start.line

    bound_names: dict[str, set[str]] = {}     # name -> what it is bound to anywhere in the file ("" = not an import)
    for scope in set(scopes.values()):
        if scope is None:
            continue
        for assignment in scope.assignments:
            bound_names.setdefault(assignment.name, set()).add(_import_binding(assignment))

    # from-imports of deprecated symbols: what to import instead, and which uses to rename
    alias_plans: dict[int, tuple[Deprecation, Target]] = {}      # id(ImportAlias) -> plan
    renames: dict[int, str] = {}                                 # id(Name use) -> new name
    star_lines: set[int] = set()
    for node in (n for n in positions if isinstance(n, cst.ImportFrom)):
        base = "." * len(node.relative) + (_dotted(node.module) if node.module is not None else "")
        if node.relative:
            continue
        if isinstance(node.names, cst.ImportStar):
            if any(sym.rpartition(".")[0] == base for sym in deprecations):
                star_lines.add(line_of(node))
            continue
        for alias in node.names:
            symbol = f"{base}.{_dotted(alias.name)}"
            dep = deprecations.get(symbol)
            if dep is None:
                continue
            line = line_of(node)
            target = replacement_target(dep)
            if target is None:
                result.skipped[line] = f"{symbol}: replacement {dep.replacement!r} is not a symbol to import"
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            if local is None and target.name != _dotted(alias.name):
                taken = bound_names.get(target.name, set()) - {f"{target.module}.{target.name}"}
                if taken:
                    result.skipped[line] = (f"{symbol}: {target.name} is already bound to something else in this "
                                            f"file; rename by hand")
                    continue
                for scope in set(scopes.values()):
                    if scope is None:
                        continue
                    for assignment in scope.assignments:
                        if isinstance(assignment, Assignment) and assignment.node is node \
                                and assignment.name == _dotted(alias.name):
                            renames.update((id(ref.node), target.name) for ref in assignment.references)
            alias_plans[id(alias)] = (dep, target)
            result.fixed_lines.add(line)

    # attribute uses: plumego.core.OldApp, pc.OldApp
    attr_renames: dict[int, str] = {}
    for attr in (n for n in positions if isinstance(n, cst.Attribute)):
        names = {q.name for q in _qualified_names(qualified.get(attr))}
        for symbol in names & deprecations.keys():
            dep = deprecations[symbol]
            line = line_of(attr)
            target = replacement_target(dep)
            if target is None:
                result.skipped.setdefault(line, f"{symbol}: replacement {dep.replacement!r} is not a symbol")
            elif target.module != symbol.rpartition(".")[0]:
                result.skipped.setdefault(line, f"{symbol}: its replacement {target.module}.{target.name} lives in "
                                                f"another module; change this use and its import by hand")
            else:
                attr_renames[id(attr)] = target.name
                result.fixed_lines.add(line)
    for line in star_lines:
        result.skipped.setdefault(line, "star import of a module with deprecated symbols; import names explicitly")

    if not alias_plans and not renames and not attr_renames:
        return result

    class Rewriter(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            new = renames.get(id(original))
            return updated.with_changes(value=new) if new else updated

        def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
            new = attr_renames.get(id(original))
            return updated.with_changes(attr=cst.Name(new)) if new else updated

        def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom,
                             ) -> SmallResult:
            if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
                return updated
            plans = [(a, alias_plans[id(a)]) for a in original.names if id(a) in alias_plans]
            if not plans:
                return updated
            base = _dotted(original.module) if original.module is not None else ""
            kept: list[cst.ImportAlias] = []
            moved: list[cst.BaseSmallStatement] = []
            have = {_dotted(a.name) for a in original.names}
            for old_alias, new_alias in zip(original.names, updated.names):
                plan = alias_plans.get(id(old_alias))
                if plan is None:
                    kept.append(new_alias)
                    continue
                _, target = plan
                asname = new_alias.asname
                if target.module == base:
                    if asname is None and target.name in have:
                        continue        # `from M import old, new`: uses now say `new`, already imported
                    kept.append(new_alias.with_changes(name=cst.Name(target.name)))
                    have.add(target.name)
                    continue
                text = f"from {target.module} import {target.name}"
                if asname is not None and isinstance(asname.name, cst.Name):
                    text += f" as {asname.name.value}"
                statement = cst.parse_statement(text)
                assert isinstance(statement, cst.SimpleStatementLine)
                moved.append(statement.body[0])
            if kept:
                if updated.rpar is None:
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                elif kept[-1] is not updated.names[-1]:
                    # inside parentheses the last name inherits the removed last name's comma and line break
                    kept[-1] = kept[-1].with_changes(comma=updated.names[-1].comma)
                rest = updated.with_changes(names=kept)
                if not moved:
                    return rest
                return cst.FlattenSentinel([rest, *moved])
            if not moved:
                return cst.RemoveFromParent()
            return cst.FlattenSentinel(moved)

        def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine,
                                      ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
            # a moved import gets its own line rather than a `;` after the one it came from
            return split_grown_line(original, updated)

    result.after = wrapper.visit(Rewriter()).code
    return result


@dataclass
class DeprecationFixes:
    sources: dict[Path, tuple[str, str]]   # path -> (before, after), only files that change
    skipped: list[str]                      # "rel:line: reason"


def plan_deprecation_fixes(ctx: ServiceContext, paths: Sequence[Path] = ()) -> DeprecationFixes:
    """Compute (without writing) the PLG305 rewrites for every file under ``paths`` (default: source roots)."""
    out = DeprecationFixes({}, [])
    if not ctx.deprecations:
        return out
    root = ctx.config.root
    for path in ctx.config.iter_files(paths):
        lines = sorted({f.line for f in check_file(path, ctx) if f.code == "PLG305"})
        if not lines:
            continue
        rel = path.relative_to(root).as_posix()
        try:
            source = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            out.skipped.append(f"{rel}:{lines[0]}: not UTF-8; the codemods rewrite UTF-8 only")
            continue
        fix = rewrite_deprecated(source, ctx.deprecations)
        for line in lines:
            if line in fix.skipped:
                out.skipped.append(f"{rel}:{line}: {fix.skipped[line]}")
            elif line not in fix.fixed_lines:
                out.skipped.append(f"{rel}:{line}: this use of a deprecated symbol needs a manual change")
        if fix.after != source:
            out.sources[path] = (source, fix.after)
    return out
