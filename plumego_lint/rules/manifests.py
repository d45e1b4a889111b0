"""Manifest, schema and taxonomy rules PLG401-PLG411 over specs/*.yaml and every module.yaml.

Turns the problems ``plumego_lint.specs.validate`` finds into findings, and owns the two checks that
compare specs with the code: PLG407 (every public entrypoint a manifest lists exists in the module's code,
from parsed definitions) and PLG411 (every path a dependency rule names matches a module of the tree).
Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from plumego_lint.facts import FileFacts, ImportFact, SourceFile
from plumego_lint.rules.base import Analysis, Finding, Project, Rule, RuleFamily
from plumego_lint.specs import dotted_to_rel
from plumego_lint.specs.model import STDLIB

RULES = (
    Rule("PLG401", "missing-manifest", "error", "a stable root or x/* family has no module.yaml",
         "Every stable root and every declared x/* family carries a module.yaml: it is where tiers, owners, allowed "
         "imports and public entrypoints are declared.", "repo.yaml layers.*.paths"),
    Rule("PLG402", "manifest-missing-key", "error", "a required module.yaml key is missing or empty",
         "module-manifest.schema.yaml `required` (and `stable_required` for stable roots) lists the keys every "
         "manifest must fill in.", "module-manifest.schema.yaml required"),
    Rule("PLG403", "manifest-bad-enum", "error", "a module.yaml value is not in its enum",
         "layer, status, risk and stability tiers take the values module-manifest.schema.yaml `enums` lists.",
         "module-manifest.schema.yaml enums"),
    Rule("PLG404", "manifest-bad-list", "error", "a module.yaml list is empty or over its limit",
         "Required lists must not be empty (except those in `may_be_empty`) and must stay within `limits`, "
         "so that manifests stay short enough to read.", "module-manifest.schema.yaml limits"),
    Rule("PLG405", "manifest-path-mismatch", "error", "module.yaml name/path/layer does not match its directory",
         "A manifest's `name` and `path` equal its directory relative to the package; x/* manifests declare "
         "layer extension, stable roots layer stable.", "module.yaml name, path, layer"),
    Rule("PLG406", "manifest-missing-doc", "error", "a module.yaml doc_paths target does not exist",
         "Each `doc_paths` entry must name an existing file (the module's primer).", "module.yaml doc_paths"),
    Rule("PLG407", "missing-public-entrypoint", "error", "a public entrypoint listed in module.yaml is not in the code",
         "Each `public_entrypoints` entry (`Name`, `Class.member`, or Go-style `(*T).M`) must exist in the module's "
         "source: a module-level name of any file below the module directory (definitions, assignments and "
         "re-exports), or a member of a class with that name. Entries containing `*` are skipped.",
         "module.yaml public_entrypoints"),
    Rule("PLG408", "taxonomy-mismatch", "error", "extension taxonomy and manifests disagree",
         "Declared x/* roots are covered by specs/extension-taxonomy.yaml, every taxonomy root exists, canonical "
         "roots list their subordinate families and subordinates name their parent_family.",
         "extension-taxonomy.yaml families"),
    Rule("PLG409", "spec-inconsistency", "error", "two specs contradict each other",
         "Dependency rules vs manifests (an allowed_imports entry that a rule denies, a rule allow the manifest "
         "forbids), stability_tiers vs subpackage manifests, maturity signals vs statuses, stable roots not ga.",
         "dependency-rules.yaml, module.yaml, extension-maturity.yaml"),
    Rule("PLG410", "manifest-unknown-key", "error", "a module.yaml key that the schema does not know",
         "Unknown keys are usually typos of real ones; add them to module-manifest.schema.yaml `optional` if they "
         "are meant.", "module-manifest.schema.yaml required/optional"),
    Rule("PLG411", "rule-path-matches-nothing", "warning", "a dependency rule names a path no module of the tree is at",
         "A `modules` entry whose `path`, or an `allow`/`deny`/`declared_callers` pattern, matches no module or "
         "package under repo.module is usually a typo or a module that moved: the rule then guards nothing and "
         "every import passes. Fix the path, or delete the entry. (`stdlib` and `**` are not paths.)",
         "dependency-rules.yaml modules.*.path / allow / deny / declared_callers"),
)


def _tree_paths(project: Project, package: str) -> tuple[set[str], set[str]]:
    """(every module path and its ancestors, the paths that have something below them), relative to ``package``."""
    paths: set[str] = {""}
    parents: set[str] = set()
    for file in project.files:
        if not project.is_library(file):
            continue
        rel = dotted_to_rel(package, file.module) or ""
        while rel and rel not in paths:
            paths.add(rel)
            rel = rel.rpartition("/")[0]
            parents.add(rel)
    return paths, parents


def _matches_something(pattern: str, paths: set[str], parents: set[str]) -> bool:
    """``match_pattern(pattern, rel)`` for some ``rel`` of the tree, without trying every one."""
    if pattern in ("**", STDLIB):
        return True
    if pattern.endswith("/**"):
        return pattern[:-3] in paths
    if pattern.endswith("/*"):
        return pattern[:-2] in parents
    return pattern in paths


def dead_rule_paths(project: Project) -> list[Finding]:
    """PLG411 findings for the dependency rules' paths and patterns that match no module of the tree."""
    specs = project.specs
    if specs is None:
        return []
    paths, parents = _tree_paths(project, specs.package)
    out: list[Finding] = []
    for rule in specs.rules.modules.values():
        if not _matches_something(rule.path, paths, parents):
            out.append(Finding("PLG411", "warning", rule.location.path, rule.location.line, 1,
                               f"module rule {rule.name!r}: path {rule.path!r} matches no module under "
                               f"{specs.package}; the rule guards nothing", str(rule.location),
                               importer=rule.name, subject=rule.path))
        for key, entries in (("allow", rule.allow), ("deny", rule.deny), ("declared_callers", rule.declared_callers)):
            for entry in entries:
                if not _matches_something(entry.pattern, paths, parents):
                    out.append(Finding("PLG411", "warning", entry.location.path, entry.location.line, 1,
                                       f"module rule {rule.name!r}: {key} entry {entry.pattern!r} matches no module "
                                       f"under {specs.package}", str(entry.location),
                                       importer=rule.name, subject=f"{key}:{entry.pattern}"))
    return out


def _normalise(entry: str) -> str:
    e = entry.strip()
    if e.startswith("(") and ")." in e:
        e = e[1:].replace(").", ".", 1).lstrip("*")
    return e


def _entrypoints(project: Project) -> list[tuple[str, int, str]]:
    """(manifest directory, index, normalised entry) of every ``public_entrypoints`` entry PLG407 checks."""
    specs = project.specs
    out: list[tuple[str, int, str]] = []
    if specs is None:
        return out
    for directory, manifest in sorted(specs.manifests.items()):
        for i, raw in enumerate(manifest.public_entrypoints):
            entry = _normalise(raw)
            if "*" in entry or " " in entry or not entry:
                continue
            out.append((directory, i, entry))
    return out


class ManifestFamily(RuleFamily):
    name = "manifests"
    rules = RULES
    project_findings_in_sources = False     # spec and module.yaml lines only

    def __init__(self) -> None:
        self._entries: tuple[int, list[tuple[str, int, str]]] | None = None

    def _entrypoints(self, project: Project) -> list[tuple[str, int, str]]:
        if self._entries is None or self._entries[0] != id(project):
            self._entries = (id(project), _entrypoints(project))
        return self._entries[1]

    def check_project(self, project: Project, analysis: Analysis) -> Iterable[Finding]:
        specs = project.specs
        if specs is None:
            return []
        out = [Finding(p.code, "error", p.location.path, p.location.line, 1, p.message, str(p.location),
                       importer=p.location.path, subject=p.message) for p in specs.problems]
        if project.enabled("PLG411"):
            out += dead_rule_paths(project)
        return out

    def summarize(self, project: Project, file: SourceFile, facts: FileFacts,
                  imports: list[ImportFact]) -> tuple[object, ...] | None:
        """For PLG407: the (manifest directory, entry index) pairs whose entry this library file defines.

        An entry ``name`` is found when the file defines it (or a class member of that name), ``Class.member``
        when the file has that class with that member; a manifest's entries count in every file below it."""
        specs = project.specs
        if specs is None or not project.enabled("PLG407") or not project.is_library(file):
            return None
        entries = self._entrypoints(project)
        if not entries:
            return None
        rel = dotted_to_rel(specs.package, file.module) or ""
        directory = rel if file.is_package else rel.rpartition("/")[0]
        names = set(facts.names)
        members = {m for mem in facts.classes.values() for m in mem}
        found: list[tuple[str, int]] = []
        for scope, i, entry in entries:
            if scope and not (directory == scope or directory.startswith(scope + "/")):
                continue
            if "." in entry:
                cls, _, member = entry.partition(".")
                ok = member in facts.classes.get(cls, ())
            else:
                ok = entry in names or entry in members
            if ok:
                found.append((scope, i))
        return tuple(found) if found else None

    def check_summaries(self, project: Project, summaries: Mapping[str, tuple[object, ...]]) -> Iterable[Finding]:
        specs = project.specs
        if specs is None or not project.enabled("PLG407"):
            return []
        found = {pair for summary in summaries.values() for pair in summary}
        out: list[Finding] = []
        for directory, i, _ in self._entrypoints(project):
            if (directory, i) in found:
                continue
            manifest = specs.manifests[directory]
            raw = manifest.public_entrypoints[i]
            where = manifest.item_location("public_entrypoints", i)
            out.append(Finding("PLG407", "error", where.path, where.line, 1,
                               f"public_entrypoints entry {raw!r} not found in the source of "
                               f"{specs.package}{'.' + directory.replace('/', '.') if directory else ''}",
                               str(where), importer=manifest.file, subject=raw))
        return out
