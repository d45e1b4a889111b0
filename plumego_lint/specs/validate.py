"""Schema and cross-spec consistency checks over a loaded control plane (PLG401-PLG410).

Owns the manifest schema rules (required keys, enums, limits, name/path/layer, doc paths), the
taxonomy rules and the agreements between dependency rules, manifests and maturity signals.
Pure over the loaded specs plus existence checks below the repository root; never parses Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plumego_lint.specs.model import STDLIB, ManifestSchema, SpecProblem, SpecSet, match_pattern
from plumego_lint.specs.yamlsource import LocatedDict, Location, probe

MISSING_MANIFEST = "PLG401"
MISSING_KEY = "PLG402"
BAD_ENUM = "PLG403"
BAD_LIST = "PLG404"
PATH_MISMATCH = "PLG405"
MISSING_DOC = "PLG406"
# PLG407 (public entrypoint not in code) needs parsed code; the engine's manifest rules own it.
TAXONOMY = "PLG408"
INCONSISTENT = "PLG409"
UNKNOWN_KEY = "PLG410"

_LIST_KEYS = frozenset({
    "responsibilities", "non_goals", "allowed_imports", "forbidden_imports", "test_commands", "doc_paths",
    "public_entrypoints", "subordinate_families", "deprecated_symbols", "review_checklist", "agent_hints",
})
_ENUM_FOR_KEY = {"layer": "layer", "status": "status", "risk": "risk"}


def _problem(code: str, message: str, file: str, line: int) -> SpecProblem:
    return SpecProblem(code, message, Location(file, line))


def validate_manifest_schema(doc: LocatedDict, file: str, schema: ManifestSchema) -> list[SpecProblem]:
    out: list[SpecProblem] = []
    known = set(schema.required) | set(schema.optional) | set(schema.stable_required)
    for key in schema.required:
        if key not in doc:
            out.append(_problem(MISSING_KEY, f"missing required key {key!r}", file, doc.line))
    for key, value in doc.items():
        line = doc.line_of(key)
        if key not in known:
            out.append(_problem(UNKNOWN_KEY, f"unknown key {key!r} (not in {schema.location.path})", file, line))
            continue
        if key in _LIST_KEYS:
            if not isinstance(value, list):
                out.append(_problem(BAD_LIST, f"{key!r} must be a list", file, line))
                continue
            if not value and key in schema.required and key not in schema.may_be_empty:
                out.append(_problem(BAD_LIST, f"required list {key!r} must not be empty", file, line))
            limit = schema.limits.get(key)
            if limit is not None and len(value) > limit:
                message = f"list {key!r} has {len(value)} entries; the limit is {limit}"
                out.append(_problem(BAD_LIST, message, file, line))
        elif key in _ENUM_FOR_KEY:
            allowed = schema.enums.get(_ENUM_FOR_KEY[key], ())
            if allowed and value not in allowed:
                out.append(_problem(BAD_ENUM, f"invalid {key} {value!r}; allowed: {', '.join(allowed)}", file, line))
        elif key == "stability_tiers":
            allowed = schema.enums.get("stability_tier", ())
            if isinstance(value, LocatedDict):
                for tier in value:
                    if allowed and tier not in allowed:
                        out.append(_problem(BAD_ENUM, f"invalid stability tier {tier!r}; allowed: {', '.join(allowed)}",
                                            file, value.line_of(tier)))
        elif key in schema.required and (value is None or (isinstance(value, str) and not value.strip())):
            out.append(_problem(MISSING_KEY, f"required scalar {key!r} must not be empty", file, line))
    return out


def _expected_layer(specs: SpecSet, directory: str) -> str | None:
    if directory in specs.repo.layer_paths("stable"):
        return "stable"
    if directory == "x" or directory.startswith("x/"):
        return "extension"
    for name, layer in specs.repo.layers.items():
        if any(match_pattern(p, directory) for p in layer.paths):
            return name
    return None


def validate_specs(specs: SpecSet, raw: Mapping[str, LocatedDict]) -> list[SpecProblem]:
    """Every PLG4xx problem the loaded specs show, in a stable order."""
    out: list[SpecProblem] = []
    repo_file = specs.spec_file("repo.yaml")
    # A repo that uses no manifests at all (a service repo with only repo.yaml + dependency-rules.yaml)
    # is not asked for them; once one module.yaml exists, every declared root needs one.
    declared = list(specs.repo.layer_paths("stable")) + list(specs.repo.layer_paths("extension"))
    for rel in declared if specs.manifests else []:
        if rel not in specs.manifests:
            layer = specs.repo.layers["stable" if rel in specs.repo.layer_paths("stable") else "extension"]
            out.append(_problem(MISSING_MANIFEST, f"missing module.yaml for {rel}", repo_file, layer.location.line))

    for directory, manifest in sorted(specs.manifests.items()):
        doc = raw[directory]
        file = manifest.file
        if specs.schema is not None:
            out.extend(validate_manifest_schema(doc, file, specs.schema))
            if _expected_layer(specs, directory) == "stable":
                for key in specs.schema.stable_required:
                    if not str(doc.get(key) or "").strip():
                        out.append(_problem(MISSING_KEY, f"stable root is missing {key!r}", file, doc.line))
        if manifest.path and manifest.path != directory:
            out.append(_problem(PATH_MISMATCH, f"path {manifest.path!r} does not match directory {directory!r}",
                                file, doc.line_of("path")))
        if manifest.name and manifest.name != directory:
            out.append(_problem(PATH_MISMATCH, f"name {manifest.name!r} should match module path {directory!r}",
                                file, doc.line_of("name")))
        expected = _expected_layer(specs, directory)
        if expected and manifest.layer and manifest.layer != expected:
            out.append(_problem(PATH_MISMATCH, f"{directory} must declare layer {expected!r}, not {manifest.layer!r}",
                                file, doc.line_of("layer")))
        if expected == "stable" and manifest.status and manifest.status != "ga":
            out.append(_problem(INCONSISTENT, f"stable root {directory} must be status 'ga'", file,
                                doc.line_of("status")))
        for i, doc_path in enumerate(manifest.doc_paths):
            if not probe(specs.root / doc_path, "exists"):
                node: Any = doc.get("doc_paths")
                line = node.line_of(i) if hasattr(node, "line_of") else doc.line
                out.append(_problem(MISSING_DOC, f"doc_paths target {doc_path!r} does not exist", file, line))
        out.extend(_tier_consistency(specs, directory))
        out.extend(_rule_consistency(specs, directory))
    out.extend(_taxonomy(specs))
    out.extend(_maturity(specs))
    return out


def _tier_consistency(specs: SpecSet, directory: str) -> list[SpecProblem]:
    out: list[SpecProblem] = []
    manifest = specs.manifests[directory]
    for tier, subs in manifest.stability_tiers.items():
        for sub in subs:
            child = specs.manifests.get(f"{directory}/{sub}")
            if not probe(specs.package_dir / directory / sub, "dir"):
                out.append(_problem(INCONSISTENT, f"stability_tiers lists {sub!r} but {directory}/{sub} does not exist",
                                    manifest.file, manifest.key_lines.get("stability_tiers", 1)))
            elif child is not None and child.status != tier:
                out.append(_problem(INCONSISTENT,
                                    f"stability_tiers puts {sub!r} in {tier!r} but {child.file} says {child.status!r}",
                                    manifest.file, manifest.key_lines.get("stability_tiers", 1)))
    return out


def _rule_consistency(specs: SpecSet, directory: str) -> list[SpecProblem]:
    """Upstream PLG-DEP-010/011: a manifest and its dependency rule must not contradict each other."""
    out: list[SpecProblem] = []
    manifest = specs.manifests[directory]
    rule = next((r for r in specs.rules.modules.values() if r.path == directory), None)
    if rule is None:
        return out
    for entry in manifest.allowed_imports:
        if entry == STDLIB:
            continue
        denied = next((d for d in rule.deny if d.matches(entry.removesuffix("/**"))), None)
        if denied is not None:
            out.append(_problem(INCONSISTENT, f"allowed_imports entry {entry!r} is denied by {denied.location} "
                                f"(module {rule.name})", manifest.file, manifest.key_lines.get("allowed_imports", 1)))
    for allow in rule.allow:
        if allow.pattern == STDLIB:
            continue
        if any(match_pattern(f, allow.pattern.removesuffix("/**")) for f in manifest.forbidden_imports):
            out.append(SpecProblem(INCONSISTENT, f"module {rule.name} allows {allow.pattern!r} but {manifest.file} "
                                   "forbids it", allow.location))
    return out


def _taxonomy(specs: SpecSet) -> list[SpecProblem]:
    if not specs.families:
        return []
    out: list[SpecProblem] = []
    tax_file = specs.spec_file("extension-taxonomy.yaml")
    covered = {root for fam in specs.families.values() for root in fam.roots}
    for rel in specs.repo.layer_paths("extension"):
        if rel not in covered:
            out.append(_problem(TAXONOMY, f"extension root {rel} is not declared in {tax_file}",
                                specs.spec_file("repo.yaml"),
                                specs.repo.layers["extension"].location.line))
    for fam in specs.families.values():
        for root in fam.roots:
            if not probe(specs.package_dir / root, "dir"):
                out.append(SpecProblem(TAXONOMY, f"family {fam.name}: root {root} does not exist", fam.location))
        canonical = specs.manifests.get(fam.canonical_root)
        subordinates = [r for r in fam.roots if r != fam.canonical_root]
        if canonical is None:
            continue
        if not canonical.doc_paths:
            out.append(_problem(TAXONOMY, f"canonical root {fam.canonical_root} declares no doc_paths",
                                canonical.file, 1))
        for sub in subordinates:
            if sub not in canonical.subordinate_families:
                out.append(_problem(TAXONOMY, f"{fam.canonical_root} must list {sub} in subordinate_families",
                                    canonical.file, canonical.key_lines.get("subordinate_families", 1)))
            child = specs.manifests.get(sub)
            if child is not None and child.parent_family != fam.canonical_root:
                out.append(_problem(TAXONOMY, f"{sub} must declare parent_family {fam.canonical_root!r}",
                                    child.file, child.key_lines.get("parent_family", 1)))
        for listed in canonical.subordinate_families:
            if listed not in fam.roots:
                out.append(_problem(TAXONOMY,
                                    f"subordinate family {listed} is not a root of family {fam.name} in {tax_file}",
                                    canonical.file, canonical.key_lines.get("subordinate_families", 1)))
    return out


def _maturity(specs: SpecSet) -> list[SpecProblem]:
    out: list[SpecProblem] = []
    by_module = {s.module: s for s in specs.maturity}
    if not specs.maturity:
        return out
    for directory, manifest in specs.manifests.items():
        if manifest.layer == "extension" and directory not in by_module:
            out.append(_problem(INCONSISTENT,
                                f"{directory} has no signal in {specs.spec_file('extension-maturity.yaml')}",
                                manifest.file, 1))
    for signal in specs.maturity:
        target = specs.manifests.get(signal.module)
        if target is None:
            out.append(SpecProblem(INCONSISTENT, f"maturity signal for unknown module {signal.module}",
                                   signal.location))
        elif signal.status and signal.status != target.status:
            out.append(SpecProblem(INCONSISTENT, f"maturity signal says {signal.status!r} but {target.file} says "
                                   f"{target.status!r}", signal.location))
    return out
