"""``plumego-lint report``: the CI architecture report of a service repo (Markdown, JSON, DOT).

Owns the architecture model (first-party components, their edges to each other and to plumego
modules coloured by tier, plumego APIs used, findings by rule), its rendering, and the delta against
a baseline report or another git revision (checked out with ``git worktree``). Findings come from
the engine's run, passed in; must not import the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from plumego_lint.service.context import ServiceContext

TIER_COLOURS = {"ga": "#d4edda", "beta": "#fff3cd", "experimental": "#f8d7da"}
KIND_COLOURS = {"stable": "#dbe9ff", "adapter": "#e8dcff", "other": "#eeeeee"}
Progress = Callable[[int, int], None]


@dataclass
class ReportFinding:
    code: str
    severity: str
    path: str
    line: int
    message: str


@dataclass
class ArchModel:
    """What a service is made of and what it depends on; JSON-serialisable for baselines."""

    root: str
    components: dict[str, str] = field(default_factory=dict)  # component -> stable|adapter|other
    edges: set[tuple[str, str]] = field(default_factory=set)  # (component, component or plumego module)
    plumego: dict[str, str] = field(default_factory=dict)  # plumego module (tier granularity) -> tier
    users: dict[str, set[str]] = field(default_factory=dict)  # plumego module -> first-party modules using it
    findings: list[ReportFinding] = field(default_factory=list)

    @property
    def experimental_uses(self) -> set[tuple[str, str]]:
        return {(src, dst) for src, dst in self.edges if self.plumego.get(dst) == "experimental"}

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1, "root": self.root,
            "components": dict(sorted(self.components.items())),
            "edges": sorted([list(e) for e in self.edges]),
            "plumego": [{"module": m, "tier": t, "used_by": sorted(self.users.get(m, ()))}
                        for m, t in sorted(self.plumego.items())],
            "findings_by_rule": dict(sorted(Counter(f.code for f in self.findings).items())),
            "findings": [f.__dict__ for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: object) -> ArchModel:
        """The model a ``report --format json`` wrote; ``ReportInputError`` when ``data`` is not one."""
        try:
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            model = cls(root=str(data.get("root", "")))
            components = data.get("components", {})
            model.components = {str(k): str(v) for k, v in dict(components).items()}
            model.edges = {(str(a), str(b)) for a, b in data.get("edges", [])}
            for entry in data.get("plumego", []):
                model.plumego[str(entry["module"])] = str(entry["tier"])
                model.users[str(entry["module"])] = {str(u) for u in entry.get("used_by", [])}
            model.findings = [ReportFinding(**f) for f in data.get("findings", [])]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ReportInputError(f"not an architecture report written by `plumego-lint report --format json` "
                                   f"({type(exc).__name__}: {exc})") from exc
        return model


@dataclass
class Delta:
    base: str
    added_edges: list[tuple[str, str]]
    removed_edges: list[tuple[str, str]]
    new_experimental: list[tuple[str, str]]
    findings_before: int
    findings_after: int


def component_of(module: str, depth: int = 2) -> str:
    return ".".join(module.split(".")[:depth])


def build_model(ctx: ServiceContext, findings: Sequence[ReportFinding], progress: Progress | None = None,
                depth: int = 2) -> ArchModel:
    """The architecture model of the service at ``ctx.config.root``."""
    config = ctx.config
    model = ArchModel(root=config.root.name, findings=list(findings))
    files = config.iter_files()
    for index, path in enumerate(files, 1):
        if progress is not None:
            progress(index, len(files))
        module = config.module_name(path)
        if module is None:
            continue
        try:
            facts = ctx.facts_of_file(path, module)
        except (SyntaxError, ValueError, OSError):
            continue
        source = component_of(module, depth)
        model.components[source] = ("adapter" if config.is_adapter(module)
                                    else "stable" if config.is_stable(module) else "other")
        for fact in facts.imports:
            target = fact.target
            if target == "plumego" or target.startswith("plumego."):
                entry = ctx.tiers.lookup(target)
                if entry is None:
                    continue
                model.plumego[entry.module] = entry.tier
                model.users.setdefault(entry.module, set()).add(module)
                model.edges.add((source, entry.module))
            elif config.is_first_party(target):
                dest = component_of(target, depth)
                if dest != source:
                    model.edges.add((source, dest))
                    model.components.setdefault(dest, "adapter" if config.is_adapter(target)
                                                else "stable" if config.is_stable(target) else "other")
    return model


def diff_models(base: ArchModel, head: ArchModel, label: str) -> Delta:
    return Delta(
        base=label,
        added_edges=sorted(head.edges - base.edges),
        removed_edges=sorted(base.edges - head.edges),
        new_experimental=sorted(head.experimental_uses - base.experimental_uses),
        findings_before=len(base.findings),
        findings_after=len(head.findings),
    )


class ReportInputError(Exception):
    """A ``--base`` revision or ``--baseline`` file the report cannot use (the CLI exits 2 with the message)."""


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True)
    except OSError as exc:
        raise ReportInputError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        raise ReportInputError(f"git {args[2] if len(args) > 2 else ''} failed: "
                               f"{done.stderr.strip() or f'exit status {done.returncode}'}")
    return done.stdout


def model_at_revision(root: Path, rev: str, build: Callable[[Path], ArchModel]) -> ArchModel:
    """Build the model of the same project at git revision ``rev`` in a temporary worktree."""
    top = _git("-C", str(root), "rev-parse", "--show-toplevel").strip()
    try:
        _git("-C", top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except ReportInputError:
        raise ReportInputError(f"--base {rev!r} is not a commit of the repository at {top}") from None
    rel = root.resolve().relative_to(Path(top).resolve())
    with tempfile.TemporaryDirectory(prefix="plumego-lint-base-") as tmp:
        checkout = Path(tmp) / "tree"
        _git("-C", top, "worktree", "add", "--detach", "--quiet", str(checkout), rev)
        try:
            return build(checkout / rel)
        finally:
            subprocess.run(["git", "-C", top, "worktree", "remove", "--force", str(checkout)], capture_output=True)


def _node_id(name: str) -> str:
    return "n_" + name.replace(".", "_")


def render_mermaid(model: ArchModel) -> str:
    lines = ["```mermaid", "graph LR"]
    for name, kind in sorted(model.components.items()):
        lines.append(f'  {_node_id(name)}["{name}"]:::{kind}')
    for name, tier in sorted(model.plumego.items()):
        lines.append(f'  {_node_id(name)}(["{name} ({tier})"]):::{tier}')
    for src, dst in sorted(model.edges):
        arrow = "-. experimental .->" if model.plumego.get(dst) == "experimental" else "-->"
        lines.append(f"  {_node_id(src)} {arrow} {_node_id(dst)}")
    for name, colour in {**KIND_COLOURS, **TIER_COLOURS}.items():
        lines.append(f"  classDef {name} fill:{colour},stroke:#555")
    lines.append("```")
    return "\n".join(lines)


def render_markdown(model: ArchModel, delta: Delta | None = None) -> str:
    out = [f"## plumego-lint architecture report: {model.root}", ""]
    errors = sum(1 for f in model.findings if f.severity == "error")
    out.append(f"{len(model.components)} components, {len(model.plumego)} plumego modules used, "
               f"{errors} error(s), {len(model.findings) - errors} other finding(s).")
    out += ["", "### Module graph", "", render_mermaid(model), "", "### Plumego APIs in use", ""]
    if model.plumego:
        out += ["| plumego module | tier | used by |", "|---|---|---|"]
        for name, tier in sorted(model.plumego.items(), key=lambda kv: (("experimental", "beta", "ga").index(kv[1])
                                                                        if kv[1] in TIER_COLOURS else 3, kv[0])):
            users = ", ".join(f"`{u}`" for u in sorted(model.users.get(name, ())))
            out.append(f"| `{name}` | {tier} | {users} |")
    else:
        out.append("None.")
    out += ["", "### Findings by rule", ""]
    by_rule = Counter(f.code for f in model.findings)
    if by_rule:
        out += ["| rule | count |", "|---|---|"] + [f"| {code} | {n} |" for code, n in sorted(by_rule.items())]
    else:
        out.append("No findings.")
    if delta is not None:
        out += ["", f"### Change against {delta.base}", "",
                f"Findings: {delta.findings_before} -> {delta.findings_after}.", ""]
        for title, rows in (("New cross-layer edges", delta.added_edges), ("Removed edges", delta.removed_edges),
                            ("New experimental uses", delta.new_experimental)):
            out.append(f"**{title}** ({len(rows)})")
            out += [f"- `{a}` -> `{b}`" for a, b in rows] or ["- none"]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_dot(model: ArchModel) -> str:
    lines = ["digraph plumego {", "  rankdir=LR;", "  node [style=filled, fontname=Helvetica];"]
    for name, kind in sorted(model.components.items()):
        lines.append(f'  "{name}" [shape=box, fillcolor="{KIND_COLOURS.get(kind, "#eeeeee")}"];')
    for name, tier in sorted(model.plumego.items()):
        lines.append(f'  "{name}" [shape=ellipse, fillcolor="{TIER_COLOURS.get(tier, "#eeeeee")}", '
                     f'label="{name}\\n{tier}"];')
    for src, dst in sorted(model.edges):
        style = ' [style=dashed, color="#c00"]' if model.plumego.get(dst) == "experimental" else ""
        lines.append(f'  "{src}" -> "{dst}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_json(model: ArchModel, delta: Delta | None = None) -> str:
    data = model.to_json()
    if delta is not None:
        data["delta"] = {"base": delta.base, "added_edges": [list(e) for e in delta.added_edges],
                         "removed_edges": [list(e) for e in delta.removed_edges],
                         "new_experimental": [list(e) for e in delta.new_experimental],
                         "findings_before": delta.findings_before, "findings_after": delta.findings_after}
    return json.dumps(data, indent=2) + "\n"


def tty_progress(stream: TextIO | None = None) -> Progress | None:
    """A progress line on stderr when it is a terminal and the run is long; None otherwise."""
    err = sys.stderr if stream is None else stream
    if not err.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total < 200:
            return
        if done == total or done % 50 == 0:
            err.write(f"\rplumego-lint report: {done}/{total} files")
            if done == total:
                err.write("\n")
            err.flush()
    return show
