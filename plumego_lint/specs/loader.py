"""Load and validate the control plane of a repository into a ``SpecSet``.

Owns reading specs/*.yaml and every module.yaml, type checks with file:line (SpecError, fatal:
PLG902) and schema/consistency checks that become findings (SpecProblem: PLG401-PLG410).
Must not import rules, reporters or the CLI; it only reads files below the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from plumego_lint.specs.model import (
    STDLIB,
    DependencyRules,
    DeprecatedSymbol,
    Family,
    Layer,
    Manifest,
    ManifestSchema,
    MaturitySignal,
    ModuleRule,
    PatternEntry,
    RepoSpec,
    SpecSet,
    match_pattern,
)
from plumego_lint.specs.validate import validate_specs
from plumego_lint.listing import Listed, Listings, record_dir, record_names
from plumego_lint.specs.yamlsource import Location, LocatedDict, LocatedList, SpecError, load_yaml, probe

MANIFEST_NAME = "module.yaml"
# The repo-wide rules of dependency-rules.yaml `rules:` (each off unless written as true).
RULE_FLAGS = ("stable_must_not_depend_on_extension", "library_must_not_depend_on_reference", "root_facade_forbidden",
              "stable_third_party_must_be_approved")
_SKIP_DIRS = frozenset({"__pycache__", ".git", ".venv", "venv", "node_modules", ".mypy_cache", ".pytest_cache"})


class _Reader:
    """Typed accessors over one located YAML document that fail with file:line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def loc(self, node: Any, key: str | None = None) -> Location:
        if isinstance(node, LocatedDict) and key is not None:
            return Location(self.path, node.line_of(key))
        return Location(self.path, getattr(node, "line", 1))

    def mapping(self, node: Any, key: str, *, required: bool = True) -> LocatedDict:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            if required:
                raise SpecError(self.path, self.loc(node).line, f"missing required mapping {key!r}")
            empty = LocatedDict()
            empty.line = self.loc(node).line
            empty.key_lines = {}
            return empty
        if not isinstance(value, LocatedDict):
            raise SpecError(self.path, self.loc(node, key).line, f"{key!r} must be a mapping")
        return value

    def string(self, node: Any, key: str, *, required: bool = True, default: str = "") -> str:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            if required:
                raise SpecError(self.path, self.loc(node).line, f"missing required key {key!r}")
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise SpecError(self.path, self.loc(node, key).line, f"{key!r} must be a string")
        return str(value)

    def strings(self, node: Any, key: str) -> tuple[str, ...]:
        return tuple(e.pattern for e in self.entries(node, key))

    def entries(self, node: Any, key: str) -> tuple[PatternEntry, ...]:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            return ()
        if not isinstance(value, LocatedList):
            raise SpecError(self.path, self.loc(node, key).line, f"{key!r} must be a list of strings")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise SpecError(self.path, value.line_of(i), f"entries of {key!r} must be strings, got {item!r}")
            out.append(PatternEntry(item.strip(), Location(self.path, value.line_of(i))))
        return tuple(out)

    def boolean(self, node: Any, key: str) -> bool:
        value = node.get(key)
        if not isinstance(value, bool):
            raise SpecError(self.path, self.loc(node, key).line, f"{key!r} must be true or false")
        return value


def _require_mapping_doc(doc: Any, path: str) -> LocatedDict:
    if not isinstance(doc, LocatedDict):
        raise SpecError(path, getattr(doc, "line", 1), "the document must be a mapping")
    return doc


def _check_rel_path(value: str, path: str, line: int, what: str) -> None:
    if value.startswith("/") or "\\" in value or ".." in value.split("/") or value.endswith("/"):
        raise SpecError(path, line, f"{what} {value!r} must be a slash path relative to the package, like 'x/tenant'")


def load_repo_spec(root: Path, specs_dir: str) -> RepoSpec:
    path = f"{specs_dir}/repo.yaml"
    doc = _require_mapping_doc(load_yaml(root / path, path), path)
    r = _Reader(path)
    repo = r.mapping(doc, "repo")
    module = r.string(repo, "module")
    if not all(part.isidentifier() for part in module.split(".")):
        raise SpecError(path, repo.line_of("module"), f"repo.module {module!r} must be an importable package name")
    layers: dict[str, Layer] = {}
    for name, body in r.mapping(doc, "layers", required=False).items():
        if not isinstance(body, LocatedDict):
            raise SpecError(path, doc["layers"].line_of(name), f"layer {name!r} must be a mapping")
        paths = r.entries(body, "paths")
        for e in paths:
            _check_rel_path(e.pattern, path, e.location.line, "layer path")
        layers[name] = Layer(name, r.string(body, "description", required=False), tuple(e.pattern for e in paths),
                             r.strings(body, "packages"), r.loc(doc["layers"], name), r.entries(body, "stable_only"))
    top = r.mapping(doc, "top_level_rules", required=False)
    return RepoSpec(
        name=r.string(repo, "name", required=False, default=module),
        module=module,
        layers=layers,
        allowed_library_roots=r.strings(top, "allowed_library_roots"),
        discouraged_roots=r.strings(top, "discouraged_roots"),
        location=r.loc(doc, "repo"),
        module_location=r.loc(repo, "module"),
        discouraged_location=r.loc(top, "discouraged_roots"),
        allowed_location=r.loc(top, "allowed_library_roots"),
    )


def load_dependency_rules(root: Path, specs_dir: str) -> DependencyRules:
    path = f"{specs_dir}/dependency-rules.yaml"
    doc = _require_mapping_doc(load_yaml(root / path, path), path)
    r = _Reader(path)
    flags_node = r.mapping(doc, "rules", required=False)
    flags = {k: r.boolean(flags_node, k) for k in flags_node}
    for k in flags:
        if k not in RULE_FLAGS:     # an unwritten flag is off: a misspelt one would silently guard nothing
            raise SpecError(path, flags_node.line_of(k), f"unknown rule {k!r} under 'rules' "
                            f"(known: {', '.join(RULE_FLAGS)})")
    modules: dict[str, ModuleRule] = {}
    mods_node = r.mapping(doc, "modules")
    seen_paths: dict[str, str] = {}
    for name, body in mods_node.items():
        if not isinstance(body, LocatedDict):
            raise SpecError(path, mods_node.line_of(name), f"module {name!r} must be a mapping")
        rel = r.string(body, "path")
        _check_rel_path(rel, path, body.line_of("path"), "module path")
        if rel in seen_paths:
            raise SpecError(path, body.line_of("path"), f"path {rel!r} is already ruled by module {seen_paths[rel]!r}")
        seen_paths[rel] = name
        modules[name] = ModuleRule(
            name=name, path=rel, layer=r.string(body, "layer", required=False, default="stable"),
            allow=r.entries(body, "allow"), deny=r.entries(body, "deny"),
            declared_callers=r.entries(body, "declared_callers"), third_party=r.entries(body, "third_party"),
            location=r.loc(mods_node, name), restricts=_has_list(r, body, "allow"),
        )
    special = r.mapping(doc, "special_rules", required=False)
    return DependencyRules(
        flags=flags, modules=modules, forbidden_import_patterns=r.entries(special, "forbidden_import_patterns"),
        location=Location(path, 1), flag_locations={k: r.loc(flags_node, k) for k in flags_node},
    )


def _has_list(r: _Reader, body: LocatedDict, key: str) -> bool:
    """Whether ``key`` is given: absent means "no restriction", ``[]`` means "nothing"; a bare ``key:`` (null)
    is ambiguous between the two, so it is an error rather than a guess."""
    if key not in body:
        return False
    if body[key] is None:
        raise SpecError(r.path, body.line_of(key), f"{key!r} is empty: write `{key}: []` to allow nothing outside "
                        f"the module's own path, or leave the key out for no {key} restriction")
    return True


def load_schema(root: Path, specs_dir: str) -> ManifestSchema | None:
    path = f"{specs_dir}/module-manifest.schema.yaml"
    if not probe(root / path, "file"):
        return None
    doc = _require_mapping_doc(load_yaml(root / path, path), path)
    r = _Reader(path)
    enums_node = r.mapping(doc, "enums", required=False)
    limits_node = r.mapping(doc, "limits", required=False)
    limits: dict[str, int] = {}
    for k, v in limits_node.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise SpecError(path, limits_node.line_of(k), f"limit {k!r} must be a positive integer")
        limits[k.removesuffix("_max")] = v
    return ManifestSchema(
        required=r.strings(doc, "required"), optional=r.strings(doc, "optional"),
        enums={k: r.strings(enums_node, k) for k in enums_node}, limits=limits,
        may_be_empty=r.strings(doc, "may_be_empty"), stable_required=r.strings(doc, "stable_required"),
        location=Location(path, 1),
    )


def load_taxonomy(root: Path, specs_dir: str) -> dict[str, Family]:
    path = f"{specs_dir}/extension-taxonomy.yaml"
    if not probe(root / path, "file"):
        return {}
    doc = _require_mapping_doc(load_yaml(root / path, path), path)
    r = _Reader(path)
    fams = r.mapping(doc, "families")
    out: dict[str, Family] = {}
    for name, body in fams.items():
        if not isinstance(body, LocatedDict):
            raise SpecError(path, fams.line_of(name), f"family {name!r} must be a mapping")
        canonical = r.string(body, "canonical_root")
        roots = r.strings(body, "roots") or (canonical,)
        if canonical not in roots:
            raise SpecError(path, body.line_of("roots"),
                            f"family {name!r}: roots must include canonical_root {canonical!r}")
        out[name] = Family(name, canonical, roots, r.loc(fams, name))
    return out


def load_maturity(root: Path, specs_dir: str) -> tuple[MaturitySignal, ...]:
    path = f"{specs_dir}/extension-maturity.yaml"
    if not probe(root / path, "file"):
        return ()
    doc = _require_mapping_doc(load_yaml(root / path, path), path)
    r = _Reader(path)
    signals = doc.get("signals") or []
    if not isinstance(signals, LocatedList):
        raise SpecError(path, doc.line_of("signals"), "'signals' must be a list")
    out = []
    for i, item in enumerate(signals):
        if not isinstance(item, LocatedDict):
            raise SpecError(path, signals.line_of(i), "each signal must be a mapping")
        out.append(MaturitySignal(
            module=r.string(item, "module"), status=r.string(item, "status", required=False) or None,
            recommended_entrypoint=r.string(item, "recommended_entrypoint", required=False),
            docs_signal=r.string(item, "docs_signal", required=False),
            coverage_signal=r.string(item, "coverage_signal", required=False),
            location=Location(path, signals.line_of(i)),
        ))
    return tuple(out)


def iter_manifest_files(package_dir: Path, dirs: Listed | None = None,
                        listings: Listings | None = None) -> Iterable[Path]:
    """Every module.yaml below ``package_dir``, sorted, skipping caches and virtualenvs.

    ``dirs`` receives the stat of every directory listed, taken before it is listed (``treeindex``);
    ``listings`` holds entries a walk of this process listed already (discovery's), reused as they are."""
    found: list[Path] = []
    stack = [str(package_dir)]
    while stack:      # os.scandir, not Path.iterdir: one syscall per directory (this walk is on every run)
        current = stack.pop()
        if dirs is not None:
            record_dir(dirs, current)
        known = listings.get(current) if listings is not None else None
        if known is not None:
            entries = known
        else:
            try:
                with os.scandir(current) as it:
                    entries = list(it)
            except OSError:
                continue
        if dirs is not None:
            record_names(dirs, current, (e.name for e in entries))
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in _SKIP_DIRS and not entry.name.startswith("."):
                        stack.append(entry.path)
                elif entry.name == MANIFEST_NAME and entry.is_file():
                    found.append(Path(entry.path))
            except OSError:
                continue
    return sorted(found)


def read_manifest(file: Path, display: str, directory: str) -> tuple[Manifest, LocatedDict]:
    """Parse one module.yaml; type errors are fatal, schema problems are checked separately."""
    doc = _require_mapping_doc(load_yaml(file, display), display)
    r = _Reader(display)
    tiers_node = doc.get("stability_tiers") or {}
    if not isinstance(tiers_node, dict):
        raise SpecError(display, doc.line_of("stability_tiers"), "'stability_tiers' must map a tier to subpackages")
    tiers = {str(k): r.strings(tiers_node, k) for k in tiers_node}
    deprecated = []
    dep_node = doc.get("deprecated_symbols") or []
    if not isinstance(dep_node, list):
        raise SpecError(display, doc.line_of("deprecated_symbols"), "'deprecated_symbols' must be a list")
    for i, item in enumerate(dep_node):
        line = dep_node.line_of(i) if isinstance(dep_node, LocatedList) else 1
        if isinstance(item, str):
            deprecated.append(DeprecatedSymbol(item, "", "", Location(display, line)))
        elif isinstance(item, dict):
            deprecated.append(DeprecatedSymbol(r.string(item, "symbol"), r.string(item, "replacement", required=False),
                                               r.string(item, "since", required=False), Location(display, line)))
        else:
            raise SpecError(display, line, "deprecated_symbols entries are names or {symbol, replacement, since}")
    return Manifest(
        file=display, directory=directory,
        name=r.string(doc, "name", required=False), path=r.string(doc, "path", required=False),
        layer=r.string(doc, "layer", required=False), status=r.string(doc, "status", required=False),
        owner=r.string(doc, "owner", required=False), summary=r.string(doc, "summary", required=False),
        stability_tiers=tiers, public_entrypoints=r.strings(doc, "public_entrypoints"),
        allowed_imports=r.strings(doc, "allowed_imports"), forbidden_imports=r.strings(doc, "forbidden_imports"),
        doc_paths=r.strings(doc, "doc_paths"), parent_family=r.string(doc, "parent_family", required=False) or None,
        subordinate_families=r.strings(doc, "subordinate_families"), deprecated_symbols=tuple(deprecated),
        key_lines=dict(doc.key_lines),
        item_lines={k: tuple(v.item_lines) for k, v in doc.items() if isinstance(v, LocatedList)},
    ), doc


def _load_manifests(root: Path, package_dir: Path, files: Iterable[Path] | None = None,
                    ) -> tuple[dict[str, Manifest], dict[str, LocatedDict]]:
    manifests: dict[str, Manifest] = {}
    raw: dict[str, LocatedDict] = {}
    for file in iter_manifest_files(package_dir) if files is None else files:
        directory = file.parent.relative_to(package_dir).as_posix()
        directory = "" if directory == "." else directory
        display = file.relative_to(root).as_posix()
        manifest, doc = read_manifest(file, display, directory)
        manifests[directory] = manifest
        raw[directory] = doc
    return manifests, raw


def load_specs(root: Path, specs_dir: str = "specs", *, with_manifests: bool = True,
               list_manifests: Callable[[Path], Iterable[Path]] | None = None) -> SpecSet:
    """Read the whole control plane below ``root``; raise SpecError when it cannot be used.

    ``list_manifests(package_dir)`` stands in for ``iter_manifest_files`` (``treeindex`` keeps its
    answer while no directory changed, so the walk is skipped)."""
    root = root.resolve()
    specs_dir = specs_dir.strip("/")
    repo = load_repo_spec(root, specs_dir)
    rules = load_dependency_rules(root, specs_dir)
    specs = SpecSet(
        root=root, specs_dir=specs_dir, repo=repo, rules=rules, schema=load_schema(root, specs_dir),
        families=load_taxonomy(root, specs_dir), maturity=load_maturity(root, specs_dir), manifests={}, problems=[],
    )
    if with_manifests and probe(specs.package_dir, "dir"):
        files = list_manifests(specs.package_dir) if list_manifests is not None else None
        manifests, raw = _load_manifests(root, specs.package_dir, files)
        specs.manifests = manifests
        specs.problems.extend(validate_specs(specs, raw))
    return specs


__all__ = ["MANIFEST_NAME", "STDLIB", "iter_manifest_files", "load_specs", "match_pattern", "read_manifest"]
