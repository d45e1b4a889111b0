"""``plumego-lint fix`` for PLG305: move uses of deprecated plumego symbols to their declared replacement.

A plumego ``module.yaml`` lists ``deprecated_symbols`` with a ``replacement``. When the replacement is a
symbol (``plumego.core.App``, or a bare name in the same module), this codemod rewrites, with libcst:

- ``from M import old as x``  -> ``from M2 import new as x`` (the alias keeps the rest of the file unchanged);
- ``from M import old``       -> ``from M2 import new`` and every use of ``old`` bound by that import
  (libcst scope analysis, string annotations included) renamed to ``new``;
- ``M.old`` / ``alias.old``   -> ``M.new`` / ``alias.new`` when the replacement lives in the same module, else
  ``new`` plus ``from M2 import new`` after the top-level import the use goes through.

A replacement that is itself deprecated is followed to the end of the chain; a deprecated import whose new
name an earlier top-level import already binds the same way is removed rather than repeated. Only the lines
``check`` reports are rewritten (``# noqa: PLG305`` holds). Everything else is left as written and reported
with a reason: a replacement given as prose or looping, a deprecated module (not a symbol), a star import, a
new name already bound or used in the file, an old name re-bound or listed in ``__all__``, an attribute that
is assigned or deleted. Formatting, comments and line endings are preserved; a second run changes nothing.
Must not import the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import (
    Assignment,
    ExpressionContext,
    ExpressionContextProvider,
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    Scope,
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


def final_target(symbol: str, deprecations: Mapping[str, Deprecation]) -> Target | None:
    """Where ``symbol`` ends up when its replacement is itself deprecated (``A -> B``, ``B -> C`` gives ``C``).

    One run then reaches a name ``check`` accepts. The chain stops at the last symbol before a prose
    replacement; None when the first replacement is not a symbol or the chain comes back to a name in it."""
    target = replacement_target(deprecations[symbol])
    seen = {symbol}
    while target is not None:
        name = f"{target.module}.{target.name}"
        if name in seen:
            return None
        dep = deprecations.get(name)
        following = replacement_target(dep) if dep is not None else None
        if following is None:
            return target
        seen.add(name)
        target = following
    return None


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


def _exported_names(module: cst.Module) -> set[str]:
    """The string items of a module-level ``__all__ = [...]`` / ``(...)`` (and ``+=``), if any."""
    out: set[str] = set()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets: list[cst.BaseExpression] = []
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Assign):
                targets, value = [t.target for t in small.targets], small.value
            elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
                targets, value = [small.target], small.value
            if value is None or not any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
                continue
            if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
                for element in value.elements:
                    if isinstance(element.value, cst.SimpleString):
                        text = element.value.evaluated_value
                        if isinstance(text, str):
                            out.add(text)
    return out


def _in_string(text: str, old: str, new: str) -> str:
    """``old`` renamed to ``new`` inside a string annotation (whole names only, not ``x.old``)."""
    return re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, text)


def rewrite_deprecated(source: str, deprecations: Mapping[str, Deprecation],
                       is_module: Callable[[str], bool] | None = None, lines: Collection[int] | None = None,
                       ) -> FileFix:
    """Rewrite every use of a deprecated symbol in ``source`` that can be rewritten safely.

    ``is_module`` tells a deprecated module from a deprecated symbol (a whole module is never rewritten) and
    checks that a replacement's owner is a module one can import from; without it, neither is checked.
    ``lines`` limits the rewrite to imports and attribute uses starting on those lines (the lines ``check``
    reports: a ``# noqa: PLG305`` or a typing-only import it ignores stays as written); None means all."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    qualified = wrapper.resolve(QualifiedNameProvider)
    scopes = wrapper.resolve(ScopeProvider)
    contexts = wrapper.resolve(ExpressionContextProvider)
    all_scopes = [scope for scope in set(scopes.values()) if scope is not None]
    exported = _exported_names(wrapper.module)
    result = FileFix(source)

    def line_of(node: cst.CSTNode) -> int:
        return positions[node].start.line

    deprecated_modules = {sym: dep for sym, dep in deprecations.items() if is_module is not None and is_module(sym)}

    def target_of(symbol: str, dep: Deprecation) -> Target | str:
        """Where ``symbol`` goes, or why it cannot go there automatically."""
        target = final_target(symbol, deprecations)
        if target is None and replacement_target(dep) is not None:
            return f"{symbol}: its replacements loop back to a deprecated name ({dep.replacement}); change it by hand"
        if target is None:
            return f"{symbol}: replacement {dep.replacement!r} is not a symbol to import"
        if is_module is not None and not is_module(target.module):
            return (f"{symbol}: replacement {target.module}.{target.name} is not a name in a module "
                    f"({target.module} is not a module)")
        return target

    def module_reason(dotted: str) -> str | None:
        for sym, dep in deprecated_modules.items():
            if dotted == sym or dotted.startswith(sym + "."):
                instead = f"; move to {dep.replacement} by hand" if dep.replacement.strip() else ""
                return f"{sym} is deprecated as a whole module, not one symbol{instead}"
        return None

    bound_names: dict[str, set[str]] = {}     # name -> what it is bound to anywhere in the file ("" = not an import)
    for scope in all_scopes:
        for assignment in scope.assignments:
            bound_names.setdefault(assignment.name, set()).add(_import_binding(assignment))

    planned: dict[str, str] = {}              # name -> what a rewrite already planned binds it to

    def conflict(name: str, binding: str) -> str | None:
        """Why binding ``name`` to ``binding`` could change what some other code in the file means, else None."""
        if bound_names.get(name, set()) - {binding}:
            return f"{name} is already bound to something else in this file"
        if planned.get(name, binding) != binding:
            return f"{name} is also the new name of {planned[name]} in this file"
        for scope in all_scopes:
            for access in scope.accesses[name]:
                if not any(_import_binding(ref) == binding for ref in access.referents):
                    return f"{name} is already used in this file for something else (a builtin or undefined name)"
        return None

    # from-imports of deprecated symbols: what to import instead, and which uses to rename
    alias_plans: dict[int, tuple[Deprecation, Target]] = {}      # id(ImportAlias) -> plan
    renames: dict[int, str] = {}                                 # id(Name use) -> new name
    string_renames: dict[int, tuple[str, str]] = {}              # id(string annotation) -> (old, new)
    star_lines: set[int] = set()
    dropped: set[int] = set()                   # id(ImportAlias) whose new name an earlier top-level import binds
    top_level = {id(small): stmt for stmt in wrapper.module.body if isinstance(stmt, cst.SimpleStatementLine)
                 for small in stmt.body}
    top_bound: dict[str, str] = {}              # name -> binding, from top-level imports seen so far (unaliased)
    top_bound_by_fix: set[str] = set()          # ... where that first import is one this rewrite makes

    def reported(line: int) -> bool:
        return lines is None or line in lines

    imports = sorted((n for n in positions if isinstance(n, (cst.Import, cst.ImportFrom))),
                     key=lambda n: (positions[n].start.line, positions[n].start.column))
    for node in imports:
        if isinstance(node, cst.ImportFrom) and id(node) in top_level and not node.relative \
                and not isinstance(node.names, cst.ImportStar):
            _note_plain_imports(node, deprecations, top_bound, top_bound_by_fix, dropped,
                                _droppable(top_level[id(node)]))
        if not reported(line_of(node)):
            continue
        if isinstance(node, cst.Import):
            for import_alias in node.names:
                reason = module_reason(_dotted(import_alias.name))
                if reason:
                    result.skipped.setdefault(line_of(node), reason)
            continue
        if node.relative:
            continue
        base = _dotted(node.module) if node.module is not None else ""
        if isinstance(node.names, cst.ImportStar):
            if any(sym.rpartition(".")[0] == base for sym in deprecations):
                star_lines.add(line_of(node))
            continue
        for alias in node.names:
            old = _dotted(alias.name)
            symbol = f"{base}.{old}"
            line = line_of(node)
            reason = module_reason(symbol)
            if reason:
                result.skipped[line] = reason
                continue
            dep = deprecations.get(symbol)
            if dep is None:
                continue
            target = target_of(symbol, dep)
            if isinstance(target, str):
                result.skipped[line] = target
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            if local is None and target.name != old:
                why = _rename_blocker(node, old, symbol, scopes, exported) or conflict(
                    target.name, f"{target.module}.{target.name}")
                uses: dict[int, str] = {}
                strings: dict[int, tuple[str, str]] = {}
                for scope in all_scopes:
                    for assignment in scope.assignments[old]:
                        if not (isinstance(assignment, Assignment) and assignment.node is node):
                            continue
                        for ref in assignment.references:
                            if isinstance(ref.node, cst.Name):
                                uses[id(ref.node)] = target.name
                            elif isinstance(ref.node, cst.SimpleString):
                                strings[id(ref.node)] = (old, target.name)
                            else:
                                why = why or (f"{old} is used where the codemod cannot rename it "
                                              f"(line {line_of(ref.node)})")
                if why:
                    result.skipped[line] = f"{symbol}: {why}; rename by hand"
                    continue
                renames.update(uses)
                string_renames.update(strings)
            if local is None:
                binding = f"{target.module}.{target.name}"
                planned[target.name] = binding
                if id(node) in top_level:
                    # the name is bound to the same thing by an earlier top-level import (conflict() made sure
                    # nothing binds it to anything else): a second import would only be a redefinition
                    if top_bound.get(target.name) == binding and _droppable(top_level[id(node)]):
                        dropped.add(id(alias))
                    elif target.name not in top_bound:
                        top_bound[target.name] = binding
                        top_bound_by_fix.add(target.name)
            alias_plans[id(alias)] = (dep, target)
            result.fixed_lines.add(line)

    # attribute uses: plumego.core.OldApp, pc.OldApp
    attr_renames: dict[int, tuple[bool, str]] = {}      # id(Attribute) -> (keep its base, new name)
    inserts: dict[int, list[str]] = {}            # id(top-level statement) -> import lines to add after it
    for attr in (n for n in positions if isinstance(n, cst.Attribute)):
        if not reported(line_of(attr)):
            continue
        names = {q.name for q in _qualified_names(qualified.get(attr))}
        for symbol in sorted(names & deprecations.keys()):
            dep = deprecations[symbol]
            line = line_of(attr)
            target = target_of(symbol, dep)
            reason = module_reason(symbol)
            if reason:
                result.skipped.setdefault(line, reason)
            elif contexts.get(attr, ExpressionContext.LOAD) is not ExpressionContext.LOAD:
                result.skipped.setdefault(line, f"{symbol} is assigned or deleted here, not read; change it by hand")
            elif isinstance(target, str):
                result.skipped.setdefault(line, target)
            elif target.module == symbol.rpartition(".")[0]:
                attr_renames[id(attr)] = (True, target.name)
                result.fixed_lines.add(line)
            else:
                # another module: `from target.module import name` after the import that made this use possible
                binding = f"{target.module}.{target.name}"
                why = conflict(target.name, binding)
                anchor = _binding_statement(attr, scopes, top_level)
                if why is None and anchor is None:
                    why = "the module it is reached through is not imported at the top of the file"
                if why is not None:
                    result.skipped.setdefault(line, f"{symbol}: its replacement {binding} lives in another module "
                                                    f"and {why}; change this use by hand")
                    continue
                assert anchor is not None
                attr_renames[id(attr)] = (False, target.name)
                have_global = top_bound.get(target.name) == binding or any(
                    _import_binding(a) == binding for scope in all_scopes
                    if isinstance(scope, GlobalScope) for a in scope.assignments[target.name])
                text = f"from {target.module} import {target.name}"
                pending = inserts.setdefault(id(anchor), [])
                if not have_global and not any(text in added for added in inserts.values()):
                    pending.append(text)
                planned[target.name] = binding
                result.fixed_lines.add(line)
    for line in star_lines:
        result.skipped.setdefault(line, "star import of a module with deprecated symbols; import names explicitly")

    if not alias_plans and not renames and not attr_renames:
        return result

    class Rewriter(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            new = renames.get(id(original))
            return updated.with_changes(value=new) if new else updated

        def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
            plan = string_renames.get(id(original))
            return updated.with_changes(value=_in_string(updated.value, *plan)) if plan else updated

        def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
            plan = attr_renames.get(id(original))
            if plan is None:
                return updated
            keep_base, new = plan
            if keep_base:
                return updated.with_changes(attr=cst.Name(new))
            return cst.Name(new, lpar=updated.lpar, rpar=updated.rpar)

        def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom,
                             ) -> SmallResult:
            if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
                return updated
            if not any(id(a) in alias_plans or id(a) in dropped for a in original.names):
                return updated
            base = _dotted(original.module) if original.module is not None else ""
            kept: list[cst.ImportAlias] = []
            moved: list[cst.BaseSmallStatement] = []
            have = {_dotted(a.name) for a in original.names if a.asname is None}    # names this line binds
            for old_alias, new_alias in zip(original.names, updated.names):
                if id(old_alias) in dropped:
                    continue
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
                    kept[-1] = kept[-1].with_changes(comma=_closing_comma(kept[-1].comma, updated.names[-1].comma))
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
            lines = split_grown_line(original, updated)
            added = inserts.get(id(original))
            if not added:
                return lines
            out = list(lines) if isinstance(lines, cst.FlattenSentinel) else [lines]
            return cst.FlattenSentinel([*out, *(cst.parse_statement(text) for text in added)])

    result.after = wrapper.visit(Rewriter()).code
    return result


def _closing_comma(own: cst.Comma | cst.MaybeSentinel, last: cst.Comma | cst.MaybeSentinel,
                   ) -> cst.Comma | cst.MaybeSentinel:
    """The comma of a name that becomes the last inside ``( ... )`` when the names after it move away.

    It keeps its own comment (``App,  # why``) but takes the removed last name's closing line break and
    indentation, so ``)`` stays where it was."""
    if not isinstance(last, cst.Comma):
        return last
    if isinstance(own, cst.Comma) and isinstance(own.whitespace_after, cst.ParenthesizedWhitespace) \
            and isinstance(last.whitespace_after, cst.ParenthesizedWhitespace):
        return own.with_changes(whitespace_after=own.whitespace_after.with_changes(
            last_line=last.whitespace_after.last_line))
    return last


def _note_plain_imports(node: cst.ImportFrom, deprecations: Mapping[str, Deprecation], top_bound: dict[str, str],
                        by_fix: set[str], dropped: set[int], droppable: bool) -> None:
    """Record the names a top-level ``from M import a, b`` binds (not the deprecated ones: the caller plans
    those); one that only repeats an import this rewrite puts earlier in the file is dropped."""
    assert not isinstance(node.names, cst.ImportStar)
    base = _dotted(node.module) if node.module is not None else ""
    for alias in node.names:
        name, symbol = _dotted(alias.name), f"{base}.{_dotted(alias.name)}"
        if alias.asname is not None or symbol in deprecations:
            continue
        if name not in top_bound:
            top_bound[name] = symbol
        elif top_bound[name] == symbol and name in by_fix and droppable:
            dropped.add(id(alias))


def _droppable(line: cst.SimpleStatementLine) -> bool:
    """Whether an import on ``line`` may lose a name, perhaps the whole line: no comment on it would go too.

    (``#`` cannot appear in an import statement other than in a comment.)"""
    return "#" not in cst.Module([]).code_for_node(line)


def _rename_blocker(node: cst.ImportFrom, old: str, symbol: str, scopes: Mapping[cst.CSTNode, Scope | None],
                    exported: set[str]) -> str | None:
    """Why renaming the name ``node`` binds to ``old`` is unsafe (it is re-bound, or exported), else None."""
    scope = scopes.get(node)
    if scope is None:
        return None
    for assignment in scope.assignments[old]:
        if _import_binding(assignment) != symbol:
            where = ""
            if isinstance(assignment, Assignment):
                where = " (it is assigned again)"
            return f"{old} is re-bound in this file{where}"
    if isinstance(scope, GlobalScope) and old in exported:
        return f"{old} is listed in __all__, so renaming would change this module's exports"
    return None


def _binding_statement(attr: cst.Attribute, scopes: Mapping[cst.CSTNode, Scope | None],
                       top_level: Mapping[int, cst.SimpleStatementLine]) -> cst.SimpleStatementLine | None:
    """The top-level import line binding what ``attr`` is reached through (``plumego.core`` in ``plumego.core.x``)."""
    node: cst.BaseExpression = attr.value
    while True:
        scope = scopes.get(node)
        for access in scope.accesses[_dotted(node)] if scope is not None else ():
            if access.node is not node:
                continue
            for ref in access.referents:
                if isinstance(ref, Assignment) and isinstance(ref.node, (cst.Import, cst.ImportFrom)):
                    statement = top_level.get(id(ref.node))
                    if statement is not None:
                        return statement
        if not isinstance(node, cst.Attribute):
            return None
        node = node.value


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
        fix = rewrite_deprecated(source, ctx.deprecations, ctx.is_module, lines)
        for line in lines:
            if line in fix.skipped:
                out.skipped.append(f"{rel}:{line}: {fix.skipped[line]}")
            elif line not in fix.fixed_lines:
                out.skipped.append(f"{rel}:{line}: this use of a deprecated symbol needs a manual change")
        if fix.after != source:
            out.sources[path] = (source, fix.after)
    return out
