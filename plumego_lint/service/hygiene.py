"""Service hygiene rules PLG601-PLG603, the precise Python form of the Go CLI's ``plumego lint``.

A module is *handler* code when a segment of its dotted name is ``handler``/``handlers``, and
*middleware* code when a segment starts with ``middleware`` (upstream classifies by directory name).
Pure functions of (one module's facts, the service context) -> findings; no file access, no CLI.
"""

from __future__ import annotations

from collections.abc import Iterator

from plumego_lint.service.context import Finding, ServiceContext
from plumego_lint.service.facts import ModuleFacts

HANDLER_SEGMENTS = frozenset({"handler", "handlers"})
SERVICE_SEGMENTS = {
    "service": "middleware must be transport-only; move business logic to a domain service",
    "services": "middleware must be transport-only; move business logic to a domain service",
    "svc": "middleware must be transport-only; move business logic to a domain service",
    "domain": "middleware must be transport-only; domain types belong in the service layer",
    "biz": "middleware must be transport-only; domain types belong in the service layer",
    "business": "middleware must be transport-only; domain types belong in the service layer",
    "dto": "middleware must not assemble DTOs; delegate to handlers",
    "dtos": "middleware must not assemble DTOs; delegate to handlers",
}
STORAGE_SEGMENTS = frozenset({"store", "stores", "storage", "repository", "repositories", "repo", "repos"})


def role_of(module: str) -> str | None:
    """``"middleware"``, ``"handler"`` or None, from the module's dotted segments."""
    segments = module.split(".")
    if any(s.startswith("middleware") for s in segments):
        return "middleware"
    if any(s in HANDLER_SEGMENTS for s in segments):
        return "handler"
    return None


def check_mutable_state(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG601: mutable module-level state in handler or middleware code."""
    role = role_of(facts.module)
    if role is None or not ctx.config.is_first_party(facts.module):
        return
    for state in facts.state:
        yield Finding(state.line, state.column, "PLG601",
                      f"mutable module-level state {state.name!r} ({state.reason}) in {role} module "
                      f"{facts.module}; pass it in explicitly (app state, a constructor, or a closure)")


def check_import_side_effects(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG602: statements that register or mutate things when the module is imported."""
    if not facts.effects or not ctx.config.is_first_party(facts.module) or ctx.config.is_entrypoint(facts.module):
        return
    for effect in facts.effects:
        yield Finding(effect.line, effect.column, "PLG602",
                      f"import-time side effect in {facts.module}: {effect.description}; wire it explicitly "
                      f"from the composition root (e.g. main.py / create_app())")


def check_layer_reach(facts: ModuleFacts, ctx: ServiceContext) -> Iterator[Finding]:
    """PLG603: middleware importing service/domain/DTO code, or a handler importing storage directly."""
    role = role_of(facts.module)
    if role is None or not ctx.config.is_first_party(facts.module):
        return
    for fact in facts.imports:
        if fact.typing_only:
            continue  # a type annotation is not a runtime dependency on the layer
        if not (ctx.config.is_first_party(fact.module) or fact.module.startswith("plumego.")):
            continue
        segments = fact.target.split(".")
        if role == "middleware":
            hit = next((s for s in segments if s in SERVICE_SEGMENTS), None)
            if hit is not None:
                yield Finding(fact.line, fact.column, "PLG603",
                              f"middleware module {facts.module} imports {fact.target!r}: {SERVICE_SEGMENTS[hit]}",
                              end_line=fact.end_line)
        elif any(s in STORAGE_SEGMENTS for s in segments):
            yield Finding(fact.line, fact.column, "PLG603",
                          f"handler module {facts.module} imports {fact.target!r}: a handler should depend on a "
                          f"service interface, not on storage directly", end_line=fact.end_line)


HYGIENE_CHECKS = (check_mutable_state, check_import_side_effects, check_layer_reach)
