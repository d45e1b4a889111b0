"""``explain --import IMPORTER TARGET`` in a service repo: the service rules' verdict on one import, and why.

The verdict is the one ``check`` gives for that import: the facts of a one-statement module (``import TARGET``,
or ``from PARENT import NAME`` when TARGET is not a module; inside a function or under ``TYPE_CHECKING`` when
asked) named IMPORTER go through the same per-import checks (PLG301, PLG302 through an adapter, PLG304, PLG305,
PLG603). Checks about a module as a whole (PLG303, PLG601, PLG602, PLG201) are not about one edge and do not run.
Must not import the CLI, the engine or reporters.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from plumego_lint.service.config import match_dotted
from plumego_lint.service.context import Finding, ServiceContext
from plumego_lint.service.facts import extract_facts
from plumego_lint.service.hygiene import check_layer_reach, role_of
from plumego_lint.service.maturity import (check_adapter_reexport, check_beta_use, check_deprecated,
                                           check_experimental_in_stable)
from plumego_lint.service.runner import Check, check_facts

EDGE_CHECKS: tuple[Check, ...] = (check_experimental_in_stable, check_adapter_reexport, check_beta_use,
                                  check_deprecated, check_layer_reach)


@dataclass(frozen=True)
class EdgeVerdict:
    trace: list[str]            # the reasons, in the order the rules consult them
    findings: list[Finding]     # what `check` would report on that import (empty: allowed)


def _statement(ctx: ServiceContext, target: str, typing_only: bool, function_level: bool) -> str:
    parent, _, name = target.rpartition(".")
    stmt = f"import {target}" if not parent or ctx.is_module(target) else f"from {parent} import {name}"
    if function_level:
        stmt = "def _explained():\n    " + stmt
    if typing_only:
        stmt = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    " + stmt.replace("\n", "\n    ")
    return stmt + "\n"


def explain_edge(ctx: ServiceContext, importer: str, target: str, *, typing_only: bool = False,
                 function_level: bool = False, where: Callable[[str], str] = lambda key: key) -> EdgeVerdict:
    """``where(key)`` names the config line of a ``[tool.plumego-lint]`` key (``pyproject.toml:7``)."""
    config = ctx.config
    trace: list[str] = []
    if not config.is_first_party(importer):
        first = ", ".join(config.first_party) or "none"
        trace.append(f"{importer} is not first-party code of this repo (first-party packages: {first}); the "
                     "service rules do not apply to it")
        return EdgeVerdict(trace, [])
    stable = next((p for p in config.stable_paths if match_dotted(p, importer)), None)
    adapter = next((p for p in config.adapter_paths if match_dotted(p, importer)), None)
    if adapter is not None:
        trace.append(f"{importer} is adapter code (adapter_paths {adapter!r}, {where('adapter_paths')}): it may "
                     "import experimental plumego APIs, behind a Protocol")
    elif stable is not None:
        trace.append(f"{importer} is in a stable path (stable_paths {stable!r}, {where('stable_paths')}): only "
                     "ga and beta plumego APIs, experimental ones through an adapter")
    else:
        trace.append(f"{importer} is in no stable path ({where('stable_paths')}): experimental plumego APIs are "
                     "not restricted there")
    role = role_of(importer)
    if role is not None:
        trace.append(f"{importer} is {role} code: PLG603 checks what it may reach")
    if target == "plumego" or target.startswith("plumego."):
        tier = ctx.tier_of(target)
        source = ctx.tier_source(target)
        trace.append(f"{target} is a plumego API of tier {tier or 'unknown'}" + (f" ({source})" if source else ""))
    elif config.is_first_party(target):
        trace.append(f"{target} is first-party code" + (" (an adapter)" if config.is_adapter(target) else ""))
    else:
        trace.append(f"{target} is neither plumego nor first-party: the service rules do not restrict it")
    source = _statement(ctx, target, typing_only, function_level)
    path = config.module_path(importer)
    facts = extract_facts(ast.parse(source), importer, path is not None and path.name == "__init__.py",
                          ctx.is_module, source=source, track=ctx.tracks)
    return EdgeVerdict(trace, check_facts(facts, ctx, EDGE_CHECKS))
