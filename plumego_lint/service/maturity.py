"""Maturity rules for service code: PLG301-PLG305 and the service form of PLG201.

Pure functions of (one module's facts, the service context) -> findings. Tiers come from the
installed plumego's manifests through ``TierIndex``, down to subpackage tiers.
Must not read files itself (the context does), and must not import reporters or the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator

from plumego_lint.service.context import Finding, ServiceContext
from plumego_lint.service.facts import ImportFact, ModuleFacts


def _adapter_hint(ctx: ServiceContext, module: str) -> str:
    top = module.split(".", 1)[0]
    for pattern in ctx.config.adapter_paths:
        concrete = pattern.replace("**.", f"{top}.").replace("*", top, 1).replace("*", "x")
        return concrete
    return f"{top}.adapters"


def _counts(ctx: ServiceContext, fact: ImportFact, code: str) -> bool:
    """Typing-only imports count unless ``typing_only = "ignore"`` or the code is in ``ignore_typing_only``."""
    return not fact.typing_only or ctx.config.counts_typing_only(code)


def plumego_imports(facts: ModuleFacts) -> Iterator[ImportFact]:
    for fact in facts.imports:
        if fact.module == "plumego" or fact.module.startswith("plumego."):
            yield fact


def check_experimental_in_stable(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG301: an experimental plumego API imported in a stable path outside an adapter path."""
    if not ctx.config.is_stable(facts.module) or ctx.config.is_adapter(facts.module):
        return
    for fact in plumego_imports(facts):
        if ctx.tier_of(fact.target) != "experimental" or not _counts(ctx, fact, "PLG301"):
            continue
        yield Finding(
            fact.line, fact.column, "PLG301",
            f"experimental plumego API {fact.target} imported in stable path {facts.module}; wrap it behind an "
            f"app-local Protocol in an adapter module (e.g. {_adapter_hint(ctx, facts.module)}) and import that",
            source=ctx.tier_source(fact.target), end_line=fact.end_line,
        )


def _experimental_names(facts: ModuleFacts, ctx: ServiceContext) -> dict[str, str]:
    """Module-level names of an adapter that are bound to an experimental plumego object."""
    found: dict[str, str] = {}
    for name, fact in facts.import_bindings().items():
        if fact.module.startswith("plumego.") and ctx.tier_of(fact.target) == "experimental":
            found[name] = fact.target
    for alias in facts.aliases:
        target = facts.binding_target(alias.name)
        if target and target.startswith("plumego.") and ctx.tier_of(target) == "experimental":
            found[alias.name] = target
    return found


def check_adapter_reexport(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG302: an adapter re-exports an experimental symbol, or stable code imports one through it."""
    if ctx.config.is_adapter(facts.module):
        leaked = _experimental_names(facts, ctx)
        for name, line, column in facts.dunder_all or ():
            if name in leaked:
                yield Finding(line, column, "PLG302",
                              f"adapter {facts.module} re-exports experimental {leaked[name]} as {name!r} in "
                              f"__all__; export an app-local Protocol and an implementation instead",
                              source=ctx.tier_source(leaked[name]))
        bindings = facts.import_bindings()
        for alias in facts.aliases:
            if alias.name in leaked and alias.value.split(".", 1)[0] in bindings and not alias.name.startswith("_"):
                yield Finding(alias.line, alias.column, "PLG302",
                              f"adapter {facts.module} re-exports experimental {leaked[alias.name]} through the "
                              f"plain alias {alias.name} = {alias.value}; wrap it in an app-local class instead",
                              source=ctx.tier_source(leaked[alias.name]))
        for fact in facts.imports:
            # `from plumego.x.ai import Client as Client` is the explicit re-export idiom (PEP 484).
            if (fact.kind == "from" and fact.symbol and fact.bound == fact.symbol and fact.module_level
                    and fact.aliased and fact.module.startswith("plumego.")
                    and ctx.tier_of(fact.target) == "experimental"):
                yield Finding(fact.line, fact.column, "PLG302",
                              f"adapter {facts.module} re-exports experimental {fact.target} with "
                              f"`import {fact.symbol} as {fact.symbol}`", source=ctx.tier_source(fact.target),
                              end_line=fact.end_line)
    if ctx.config.is_stable(facts.module) and not ctx.config.is_adapter(facts.module):
        for fact in facts.imports:
            if not ctx.config.is_adapter(fact.module) or not _counts(ctx, fact, "PLG302"):
                continue
            adapter = ctx.facts_of(fact.module)
            if adapter is None or adapter.module == facts.module:
                continue
            leaked = _experimental_names(adapter, ctx)
            names: list[str] = []
            if fact.kind == "from" and fact.symbol in leaked:
                names = [fact.symbol]
            elif fact.kind == "star":
                exported = [n for n, _, _ in adapter.dunder_all] if adapter.dunder_all is not None else [
                    n for n in leaked if not n.startswith("_")]
                names = [n for n in exported if n in leaked]
            for name in names:
                yield Finding(fact.line, fact.column, "PLG302",
                              f"{facts.module} imports {name} from adapter {fact.module}, but it is the "
                              f"experimental {leaked[name]} itself; depend on the adapter's Protocol instead",
                              source=ctx.tier_source(leaked[name]), end_line=fact.end_line)
            for use in facts.attribute_uses:
                head = use.dotted[len(fact.module) + 1:].split(".", 1)[0] if use.dotted.startswith(
                    fact.module + ".") else ""
                if fact.kind in ("import", "from") and fact.symbol is None and head in leaked:
                    yield Finding(use.line, use.column, "PLG302",
                                  f"{facts.module} uses {fact.module}.{head}, which is the experimental "
                                  f"{leaked[head]} itself; depend on the adapter's Protocol instead",
                                  source=ctx.tier_source(leaked[head]))


def check_adapter_interface(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG303: an adapter module imports experimental API but offers no app-local Protocol/ABC."""
    if not ctx.config.is_adapter(facts.module):
        return
    runtime = [f for f in plumego_imports(facts) if not f.typing_only and ctx.tier_of(f.target) == "experimental"]
    if not runtime:
        return
    if any(c.is_interface for c in facts.classes):
        return
    # The interface may live in another first-party module (a ports module) that the adapter implements.
    for name, fact in facts.import_bindings().items():
        if not ctx.config.is_first_party(fact.module):
            continue
        other = ctx.facts_of(fact.module) if fact.symbol else None
        if other is not None and any(c.name == fact.symbol and c.is_interface for c in other.classes):
            return
    first = runtime[0]
    yield Finding(first.line, first.column, "PLG303",
                  f"adapter {facts.module} imports experimental {first.target} but defines no app-local "
                  f"interface; add a typing.Protocol (or ABC) for what stable code needs and implement it here",
                  source=ctx.tier_source(first.target))


def check_beta_use(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG304 (info): beta plumego API in use; check its release notes before upgrading."""
    for fact in plumego_imports(facts):
        if ctx.tier_of(fact.target) == "beta":
            entry = ctx.tiers.lookup(fact.target)
            where = f" ({entry.source})" if entry else ""
            yield Finding(fact.line, fact.column, "PLG304",
                          f"beta plumego API {fact.target} in use; read its release notes before upgrading{where}",
                          "info", str(entry.source) if entry else None, end_line=fact.end_line)


def check_deprecated(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG305: use of a symbol the installed plumego lists as deprecated."""
    candidates = [(f.target, f.line, f.column, f.end_line) for f in plumego_imports(facts)
                  if _counts(ctx, f, "PLG305")]
    candidates += [(u.dotted, u.line, u.column, u.line) for u in facts.attribute_uses
                   if u.dotted.startswith("plumego.")]
    if not candidates or not ctx.deprecations:     # (a file without plumego never loads the manifests)
        return
    seen: set[tuple[int, str]] = set()

    def match(dotted: str) -> str | None:
        name = dotted
        while name.startswith("plumego."):
            if name in ctx.deprecations:
                return name
            name = name.rsplit(".", 1)[0]
        return None

    for dotted, line, column, end_line in candidates:
        symbol = match(dotted)
        if symbol is None or (line, symbol) in seen:
            continue
        seen.add((line, symbol))
        dep = ctx.deprecations[symbol]
        replacement = dep.replacement.strip()
        # a symbol reads "use plumego.core.App"; prose ("delete the call") is quoted as written
        hint = "" if not replacement else f"; {replacement}" if " " in replacement else f"; use {replacement}"
        since = f" since {dep.since}" if dep.since else ""
        yield Finding(line, column, "PLG305", f"{symbol} is deprecated{since}{hint}", source=dep.source or None,
                      end_line=end_line)


def check_vague_package(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG201 (service form): a vague top-level package name, reported once on its ``__init__``/module."""
    if ctx.config.specs is not None:
        return  # a repo with its own specs: the layout rule reports PLG201 from its repo.yaml
    parts = facts.module.split(".")
    if not ctx.config.is_first_party(facts.module) or len(parts) > 2:
        return  # the service's packages and their direct children; deeper names are local detail
    if len(parts) == 2 and not facts.is_package:
        return  # a module file (requests/utils.py) is one name of its package's API, not a package to split up
    name = parts[-1]
    advice = ctx.config.discouraged_roots.get(name)
    if advice is None:
        return
    yield Finding(1, 1, "PLG201",
                  f"vague package name {facts.module!r}: {advice}")


MATURITY_CHECKS = (
    check_experimental_in_stable,
    check_adapter_reexport,
    check_adapter_interface,
    check_beta_use,
    check_deprecated,
    check_vague_package,
)
