"""Import boundary rules PLG101-PLG110, from specs/dependency-rules.yaml, repo.yaml and module.yaml.

Owns the verdict on one import edge (``BoundaryModel.violations``; ``explain --import`` prints its
trace) and the per-file and whole-project checks built on it. Precedence, written down once:
one finding per import, the first enabled rule of 104, 103, 102, 105, 101, 108, 107, 109;
deny beats allow; every rule containing the importer contributes its deny list; the allow list of the
most specific rule that has an ``allow`` key applies (no such rule: allow restricts nothing; ``allow: []``:
nothing outside the rule's own path); the importer's own rule path (and below) is always allowed, even
when a broad deny such as ``x/**`` covers it (so is the own directory of the nearest manifest for PLG108);
``stdlib`` admits ``sys.stdlib_module_names``. Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from plumego_lint.facts import FileFacts, ImportFact, SourceFile
from plumego_lint.rules.base import Finding, Project, Rule, RuleFamily, Severity, loc
from plumego_lint.specs import Location, Manifest, ModuleRule, SpecSet, dotted_to_rel, match_pattern

STDLIB_NAMES = frozenset(sys.stdlib_module_names) | {"_typeshed", "__main__"}

RULES = (
    Rule("PLG101", "denied-import", "error", "import matches the importing module's deny list",
         "Every rule in specs/dependency-rules.yaml whose path contains the importing module contributes its "
         "`deny` patterns (nested rules add up). An import of a module matching any of them is a violation, "
         "whatever the allow lists say: deny beats allow. Patterns are slash paths relative to the package: "
         "`a` and `a/**` mean a and everything below it, `a/*` exactly one level below.",
         "dependency-rules.yaml modules.<m>.deny"),
    Rule("PLG102", "stable-imports-extension", "error", "a stable root imports an x/* extension",
         "The stable kernel must never depend on optional extension families, so that x/* can change or be "
         "removed without touching the kernel. Move the code to the extension, inject it through a constructor, "
         "or extract the interface into `contract`.",
         "dependency-rules.yaml rules.stable_must_not_depend_on_extension"),
    Rule("PLG103", "library-imports-tooling", "error",
         "library code imports the reference app / tooling / application code",
         "Library code (the package named by repo.yaml `repo.module`) must not import the packages listed under "
         "repo.yaml `layers.tooling.packages` and `layers.reference.packages`, or any other first-party top-level "
         "package: the library ships alone, those do not.",
         "dependency-rules.yaml rules.library_must_not_depend_on_reference"),
    Rule("PLG104", "root-facade-import", "error", "library code imports the root facade",
         "`import plumego` or `from plumego import name` (a name that is not a submodule) inside the library "
         "creates import cycles through the facade and hides the real dependency. Import the specific module, "
         "e.g. `from plumego.core import App`.",
         "dependency-rules.yaml special_rules.forbidden_import_patterns / rules.root_facade_forbidden"),
    Rule("PLG105", "undeclared-internal-caller", "error", "internal package imported by an undeclared caller",
         "An `internal` package may be imported from outside its parent only by the callers its rule in "
         "dependency-rules.yaml lists in `declared_callers` (a caller is the importing package, matched as a "
         "pattern). An import with no covering rule, or from a rule without declared callers, is a violation too.",
         "dependency-rules.yaml modules.<internal>.declared_callers"),
    Rule("PLG106", "stale-internal-caller", "error", "a declared caller of an internal package no longer imports it",
         "Declared callers must stay truthful: a caller listed in `declared_callers` whose non-test code no longer "
         "imports the internal package should be removed from the list.",
         "dependency-rules.yaml modules.<internal>.declared_callers"),
    Rule("PLG107", "import-not-allowed", "error", "import of a plumego module outside the importer's allow list",
         "The most specific rule containing the importing module that has an `allow` key applies that list: an "
         "import of a module of the package must match one of its patterns, or lie in that rule's own path. "
         "`stdlib` in the list admits the standard library (sys.stdlib_module_names). A rule without an `allow` key "
         "restricts nothing by itself (only `deny` applies, like an import-linter forbidden contract; a nested "
         "deny-only rule keeps its parent's allow list); `allow: []` allows nothing outside the rule's own path. "
         "Upstream Go plumego documents but never enforces allow lists; this linter does.",
         "dependency-rules.yaml modules.<m>.allow"),
    Rule("PLG108", "manifest-forbidden-import", "error", "an x/* module imports something its module.yaml forbids",
         "An extension declares in its own module.yaml `forbidden_imports` what it must never import. The nearest "
         "module.yaml above the importing file applies (subpackage manifests override their family's).",
         "module.yaml forbidden_imports"),
    Rule("PLG109", "unapproved-third-party", "error", "third-party import in a stable root that is not approved",
         "Stable roots import only the standard library and their allowed roots. A third-party package must be "
         "listed in the rule's `third_party` list, and even then it must be imported lazily (inside a function or "
         "under TYPE_CHECKING) because it is an optional extra.",
         "dependency-rules.yaml modules.<m>.third_party"),
    Rule("PLG111", "reference-imports-extension", "error", "the canonical reference app imports an x/* extension",
         "The packages listed in repo.yaml `layers.reference.stable_only` (the canonical reference app) show the "
         "canonical service built on the stable roots alone, so none of their files may import an extension "
         "family. Example apps for extensions live in their own packages (e.g. examples/).",
         "repo.yaml layers.reference.stable_only"),
    Rule("PLG110", "unverifiable-dynamic-import", "warning",
         "dynamic import with a non-literal name in a guarded module",
         "`importlib.import_module(name)` or `__import__(name)` with a computed name cannot be checked against the "
         "boundary rules. In a module under an `allow` list (where every import must be accounted for) it is "
         "reported (as a warning) instead of passing silently; use a literal name, or mark the line "
         "`# noqa: PLG110` where loading arbitrary modules is the point (e.g. an app loader). Under deny lists "
         "alone it is not reported, as import-linter's forbidden contracts do not.",
         "dependency-rules.yaml modules.<m>"),
)
_IMPORTER = "\0importer\0"
PRECEDENCE = ("PLG104", "PLG103", "PLG102", "PLG105", "PLG101", "PLG108", "PLG107", "PLG109")


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    source: Location | None


def _depth(rule: ModuleRule) -> int:
    return rule.path.count("/") + (1 if rule.path else 0)


class BoundaryModel:
    """The import rules of one SpecSet, precomputed for fast per-edge verdicts."""

    def __init__(self, specs: SpecSet, first_party_tops: Iterable[str] = ()) -> None:
        self.specs = specs
        self.package = specs.package
        self.rules = specs.rules
        repo = specs.repo
        self.stable_paths = repo.layer_paths("stable")
        self.extension_roots = tuple(sorted({p.split("/")[0] for p in repo.layer_paths("extension")}))
        self.tooling: dict[str, Location] = {}
        for layer_name in ("tooling", "reference"):
            layer = repo.layers.get(layer_name)
            if layer is not None:
                for pkg in layer.packages:
                    self.tooling[pkg] = layer.location
        self.stable_only: dict[str, Location] = {}
        for layer in repo.layers.values():
            for entry in layer.stable_only:
                self.stable_only[entry.pattern] = entry.location
        top = self.package.split(".")[0]
        self.other_first_party = frozenset(t for t in first_party_tops if t != top)
        self.ext_manifests: dict[str, Manifest] = {
            d: m for d, m in specs.manifests.items()
            if m.forbidden_imports and any(match_pattern(r, d) for r in self.extension_roots)}
        self.internal_rules = [r for r in self.rules.modules.values() if "internal" in r.path.split("/")]
        self._rules_cache: dict[str, list[ModuleRule]] = {}
        self._stable_cache: dict[str, bool] = {}
        # rules_for index: a plain rule path contains exactly itself and what lies below it, so the rules
        # of a path are found by looking up its ancestors; wildcard paths are matched one by one.
        self._order = {r.name: i for i, r in enumerate(self.rules.modules.values())}
        self._by_path: dict[str, list[ModuleRule]] = {}
        self._wild: list[ModuleRule] = []
        for r in self.rules.modules.values():
            if "*" in r.path or not r.path:
                self._wild.append(r)
            else:
                self._by_path.setdefault(r.path.strip("/"), []).append(r)

    def flag(self, name: str) -> bool:
        return self.rules.flag(name)

    def flag_location(self, name: str) -> Location:
        return self.rules.flag_locations.get(name, self.rules.location)

    def rules_for(self, rel: str) -> list[ModuleRule]:
        """``rules.rules_containing(rel)`` (same rules, same order), by ancestor lookups."""
        found = self._rules_cache.get(rel)
        if found is None:
            hits = [r for r in self._wild if r.contains(rel)]
            by_path = self._by_path
            if by_path:
                prefix = ""
                for part in rel.split("/"):
                    prefix = f"{prefix}/{part}" if prefix else part
                    hits.extend(r for r in by_path.get(prefix, ()) if r.contains(rel))
            order = self._order
            found = self._rules_cache[rel] = sorted(hits, key=lambda r: (_depth(r), order[r.name]))
        return found

    def in_stable(self, rel: str) -> bool:
        known = self._stable_cache.get(rel)
        if known is None:
            known = self._stable_cache[rel] = any(match_pattern(p, rel) for p in self.stable_paths)
        return known

    def nearest_manifest(self, rel: str) -> Manifest | None:
        current = rel
        while True:
            if current in self.ext_manifests:
                return self.ext_manifests[current]
            if not current:
                return None
            current = current.rpartition("/")[0]

    def context_key(self, importer: str, is_package: bool) -> tuple[object, ...] | None:
        """Everything about an importer that its verdicts depend on: files sharing it share verdicts."""
        rel = dotted_to_rel(self.package, importer)
        if rel is None:
            return None
        caller = rel if is_package else rel.rpartition("/")[0]
        manifest = self.nearest_manifest(rel)
        return (tuple(r.name for r in self.rules_for(rel)), self.in_stable(rel), caller,
                manifest.directory if manifest else None)

    def shared_context_key(self, importer: str) -> tuple[object, ...] | None:
        """What every verdict except PLG105's depends on: the rules containing the importer, whether it
        is stable, and its nearest x/* manifest (PLG105 also depends on the importer's own path)."""
        rel = dotted_to_rel(self.package, importer)
        if rel is None:
            return None
        manifest = self.nearest_manifest(rel)
        return (tuple(r.name for r in self.rules_for(rel)), self.in_stable(rel),
                manifest.directory if manifest else None)

    def violations(self, importer: str, is_package: bool, target: str | None, *, typing_only: bool = False,
                   function_level: bool = False, trace: list[str] | None = None,
                   label: str | None = None) -> list[Violation]:
        """Every rule the edge importer -> target breaks, in precedence order (empty: allowed).

        ``label`` replaces the importer's name in messages (the per-file memo uses a placeholder)."""
        rel = dotted_to_rel(self.package, importer)
        if label is not None:
            importer = label
        if rel is None:
            if trace is not None:
                trace.append(f"{importer} is outside package {self.package}: library import rules do not apply")
            return []
        rules = self.rules_for(rel)
        most = rules[-1] if rules else None
        # the allow list that applies: the most specific rule with an `allow` key (None: allow restricts nothing)
        limiting = next((r for r in reversed(rules) if r.restricts), None)
        if trace is not None:
            if rules:
                trace.append(f"{importer} is ruled by: " + ", ".join(f"{r.name} ({r.location})" for r in rules)
                             + f"; the most specific is {most.name if most else '-'}")
            else:
                trace.append(f"no rule in {self.rules.location.path} contains {rel or self.package}")
        out: list[Violation] = []
        if target is None:
            # Only under an allow list, where every import must be accounted for; with deny lists alone (an
            # import-linter forbidden contract) the rest is open, as import-linter has it.
            if limiting is not None:
                out.append(Violation("PLG110", f"{importer} imports a module whose name is not a literal; the "
                                     "boundary rules cannot verify it", limiting.location))
            elif trace is not None and rules:
                trace.append("the module name is not a literal; no rule containing the importer has an allow list, "
                             "so it is not reported (PLG110 applies under an allow list)")
            return out
        caller = rel if is_package else rel.rpartition("/")[0]
        # PLG104: the root facade and forbidden import patterns
        for entry in self.rules.forbidden_import_patterns:
            pattern = entry.pattern
            if "/" in pattern or "*" in pattern:
                t_rel = dotted_to_rel(self.package, target)
                hit = t_rel is not None and match_pattern(pattern, t_rel)
            else:
                hit = target == pattern
            if hit:
                what = "the root facade" if target == self.package else f"{target}"
                out.append(Violation("PLG104", f"{importer} imports {what} (forbidden import pattern {pattern!r})",
                                     entry.location))
                if trace is not None:
                    trace.append(f"forbidden_import_patterns entry {pattern!r} ({entry.location}) matches {target}")
        if target == self.package and not out and self.flag("root_facade_forbidden"):
            out.append(Violation("PLG104", f"{importer} imports the root facade {self.package}; import the "
                                 "specific module instead", self.flag_location("root_facade_forbidden")))
        t_rel = dotted_to_rel(self.package, target)
        top = target.split(".")[0]
        if t_rel is None:
            if top in self.tooling or top in self.other_first_party:
                if self.flag("library_must_not_depend_on_reference"):
                    source = self.tooling.get(top, self.specs.repo.location)
                    out.append(Violation("PLG103", f"library module {importer} imports {target}, which is not part of "
                                         "the library (tooling, reference or application code)", source))
                    if trace is not None:
                        trace.append(f"{top} is a tooling/reference/application package ({source})")
            elif top in STDLIB_NAMES:
                if limiting is not None and not limiting.allows_stdlib:
                    out.append(Violation("PLG107", f"{importer} imports standard library module {target}, but rule "
                                         f"{limiting.name} does not allow 'stdlib'", limiting.location))
                if trace is not None:
                    trace.append(f"{target} is standard library; " + (
                        f"rule {limiting.name} {'allows' if limiting.allows_stdlib else 'does not allow'} 'stdlib'"
                        if limiting is not None else "no rule containing the importer has an allow list"))
            else:
                self._third_party(importer, rel, target, most, typing_only, function_level, out, trace)
            return out
        if t_rel == "":
            return out
        # PLG102: stable -> x/*
        if self.in_stable(rel) and any(match_pattern(r, t_rel) for r in self.extension_roots) \
                and self.flag("stable_must_not_depend_on_extension"):
            out.append(Violation("PLG102", f"stable module {importer} imports extension {target}",
                                 self.flag_location("stable_must_not_depend_on_extension")))
            if trace is not None:
                trace.append(f"{rel} is a stable root and {t_rel} is an extension "
                             f"({self.flag_location('stable_must_not_depend_on_extension')})")
        # PLG105: internal packages
        self._internal(importer, rel, caller, target, t_rel, out, trace)
        own = most is not None and match_pattern(most.path, t_rel)
        # PLG101: deny (every containing rule, most specific first); the importer's own rule path is exempt
        for rule in ([] if own else reversed(rules)):
            denied = next((d for d in rule.deny if d.matches(t_rel)), None)
            if denied is not None:
                out.append(Violation("PLG101", f"{importer} imports {target}, denied by module {rule.name} "
                                     f"(deny {denied.pattern!r})", denied.location))
                if trace is not None:
                    trace.append(f"deny {denied.pattern!r} of {rule.name} ({denied.location}) matches {t_rel}: denied "
                                 "(deny beats allow)")
                break
        # PLG108: the nearest x/* manifest's forbidden_imports
        manifest = self.nearest_manifest(rel)
        if manifest is not None and not match_pattern(manifest.directory, t_rel):
            index = next((i for i, p in enumerate(manifest.forbidden_imports)
                          if p != "stdlib" and match_pattern(p, t_rel)), None)
            if index is not None:
                forbidden = manifest.forbidden_imports[index]
                where = manifest.item_location("forbidden_imports", index)
                out.append(Violation("PLG108", f"{importer} imports {target}, forbidden by {manifest.file} "
                                     f"(forbidden_imports {forbidden!r})", where))
                if trace is not None:
                    trace.append(f"forbidden_imports {forbidden!r} ({where}) matches {t_rel}")
        # PLG107: the allow list of the most specific rule that has one (no `allow` key: no restriction)
        if most is not None:
            if own:
                if trace is not None:
                    trace.append(f"{t_rel} lies inside the importer's own rule path {most.path!r}: allowed")
            elif limiting is None:
                if trace is not None:
                    trace.append(f"no rule containing {rel or self.package} has an allow list: allow restricts "
                                 "nothing (only deny lists apply)")
            elif match_pattern(limiting.path, t_rel):
                if trace is not None:
                    trace.append(f"{t_rel} lies inside the path {limiting.path!r} of {limiting.name}, whose allow "
                                 "list applies: allowed")
            else:
                allowed = next((a for a in limiting.allow if a.pattern != "stdlib" and a.matches(t_rel)), None)
                if allowed is None:
                    out.append(Violation("PLG107", f"{importer} imports {target}, which is not in the allow list of "
                                         f"module {limiting.name}", limiting.location))
                    if trace is not None:
                        trace.append(f"no allow entry of {limiting.name} ({limiting.location}) matches {t_rel}")
                elif trace is not None:
                    trace.append(f"allow {allowed.pattern!r} of {limiting.name} ({allowed.location}) matches {t_rel}")
        return out

    def _third_party(self, importer: str, rel: str, target: str, most: ModuleRule | None, typing_only: bool,
                     function_level: bool, out: list[Violation], trace: list[str] | None) -> None:
        if not self.in_stable(rel) or most is None or not self.flag("stable_third_party_must_be_approved"):
            if trace is not None:
                trace.append(f"{target} is third-party; only stable roots restrict third-party imports")
            return
        approved = next((e for e in most.third_party
                         if target == e.pattern or target.startswith(e.pattern + ".")), None)
        if approved is None:
            out.append(Violation("PLG109", f"stable module {importer} imports third-party {target}, which module "
                                 f"{most.name} does not list in third_party", most.location))
            if trace is not None:
                trace.append(f"{target} is third-party and not in third_party of {most.name} ({most.location})")
        elif not (function_level or typing_only):
            out.append(Violation("PLG109", f"stable module {importer} imports approved third-party {target} at module "
                                 "level; import it lazily inside the function that needs it", approved.location))
            if trace is not None:
                trace.append(f"{target} is approved ({approved.location}) but only as a lazy import")
        elif trace is not None:
            trace.append(f"{target} is approved third-party ({approved.location}) and imported lazily")

    def _internal(self, importer: str, rel: str, caller: str, target: str, t_rel: str, out: list[Violation],
                  trace: list[str] | None) -> None:
        segs = t_rel.split("/")
        if "internal" not in segs:
            return
        i = segs.index("internal")
        parent, internal_root = "/".join(segs[:i]), "/".join(segs[: i + 1])
        if match_pattern(internal_root, rel) or (parent and match_pattern(parent, rel)):
            return
        covering = [r for r in self.internal_rules if r.contains(t_rel)]
        rule = max(covering, key=_depth) if covering else None
        if rule is None:
            out.append(Violation("PLG105", f"{importer} imports {target} but no rule in {self.rules.location.path} "
                                 "declares that internal package", self.rules.location))
        elif not rule.declared_callers:
            out.append(Violation("PLG105", f"{importer} imports {target} but module {rule.name} has no "
                                 "declared_callers", rule.location))
        elif not any(c.matches(caller) for c in rule.declared_callers):
            out.append(Violation("PLG105", f"{importer} imports {target} but caller {caller!r} is not in the "
                                 f"declared_callers of module {rule.name}", rule.location))
        elif trace is not None:
            trace.append(f"{caller} is a declared caller of {rule.name}")


class BoundaryFamily(RuleFamily):
    name = "boundaries"
    rules = RULES
    file_local = True
    project_findings_in_sources = False   # PLG106 names a line of dependency-rules.yaml

    def __init__(self) -> None:
        self._models: dict[int, BoundaryModel] = {}
        self._memo: dict[object, dict[tuple[object, ...], list[Violation]]] = {}

    def model(self, project: Project) -> BoundaryModel | None:
        if project.specs is None:
            return None
        key = id(project)
        if key not in self._models:
            self._models = {key: BoundaryModel(project.specs, project.modules.top_level)}
            self._memo = {}
        return self._models[key]

    def prepare(self, project: Project) -> None:
        self.model(project)

    def check_file(self, project: Project, file: SourceFile, facts: FileFacts,
                   imports: list[ImportFact]) -> Iterable[Finding]:
        model = self.model(project)
        if model is None:
            return []
        if not project.is_library(file):
            return self._stable_only(model, project, file, imports)
        cfg = project.config
        out: list[Finding] = []
        context = model.shared_context_key(file.module)
        memo = self._memo.setdefault(context, {})
        for fact in imports:
            target = fact.target
            # Only PLG105 (internal packages) looks at where exactly the importer sits; those verdicts
            # are memoised per file, every other verdict is shared by all files of the same context.
            key: tuple[object, ...] = (target, fact.typing_only, fact.function_level)
            if target is not None and "internal" in target:
                key = (*key, file.rel)
            found = memo.get(key)
            if found is None:
                found = memo[key] = model.violations(file.module, file.is_package, fact.target, label=_IMPORTER,
                                                     typing_only=fact.typing_only, function_level=fact.function_level)
            for v in found:
                if not project.enabled(v.code):
                    continue
                if fact.typing_only and (cfg.typing_only == "ignore" or v.code in cfg.ignore_typing_only):
                    continue
                out.append(Finding(v.code, _severity(v.code), file.rel, fact.line, fact.col,
                                   v.message.replace(_IMPORTER, file.module), loc(v.source),
                                   importer=file.module, subject=fact.target or fact.written,
                                   noqa_lines=(fact.stmt_line, fact.end_line)))
                break
        return out

    @staticmethod
    def _stable_only(model: BoundaryModel, project: Project, file: SourceFile,
                     imports: list[ImportFact]) -> list[Finding]:
        """PLG111: a module of a stable-only reference package imports an extension."""
        source = model.stable_only.get(file.module.split(".")[0]) if file.module else None
        if source is None or not project.enabled("PLG111"):
            return []
        out: list[Finding] = []
        for fact in imports:
            t_rel = dotted_to_rel(model.package, fact.target) if fact.target else None
            if t_rel is None or not any(match_pattern(r, t_rel) for r in model.extension_roots):
                continue
            out.append(Finding("PLG111", _severity("PLG111"), file.rel, fact.line, fact.col,
                               f"{file.module} imports extension {fact.target}; the canonical reference app uses "
                               "stable roots only", loc(source), importer=file.module,
                               subject=fact.target or fact.written, noqa_lines=(fact.stmt_line, fact.end_line)))
        return out

    def summarize(self, project: Project, file: SourceFile, facts: FileFacts,
                  imports: list[ImportFact]) -> tuple[object, ...] | None:
        """For PLG106: the (internal rule, declared caller pattern) pairs this library file's imports use."""
        model = self.model(project)
        if model is None or not model.internal_rules or not project.enabled("PLG106") or not project.is_library(file):
            return None
        f_rel = dotted_to_rel(model.package, file.module) or ""
        caller = f_rel if file.is_package else f_rel.rpartition("/")[0]
        used: set[tuple[str, str]] = set()     # (rule name, declared caller pattern)
        for fact in imports:
            t_rel = dotted_to_rel(model.package, fact.target) if fact.target else None
            if t_rel is None:
                continue
            for rule in model.internal_rules:
                if rule.contains(t_rel):
                    for c in rule.declared_callers:
                        if c.matches(caller):
                            used.add((rule.name, c.pattern))
        return tuple(sorted(used)) if used else None

    def check_summaries(self, project: Project, summaries: Mapping[str, tuple[object, ...]]) -> Iterable[Finding]:
        model = self.model(project)
        if model is None or not model.internal_rules or not project.enabled("PLG106"):
            return []
        specs = model.specs
        used = {pair for summary in summaries.values() for pair in summary}
        out: list[Finding] = []
        for rule in model.internal_rules:
            for c in rule.declared_callers:
                if (rule.name, c.pattern) not in used:
                    out.append(Finding("PLG106", "error", c.location.path, c.location.line, 1,
                                       f"module {rule.name} declares caller {c.pattern!r} but no non-test code there "
                                       f"imports {rule.path}", str(c.location), importer=c.pattern,
                                       subject=f"{specs.package}/{rule.path}"))
        return out


_SEVERITY = {r.code: r.severity for r in RULES}


def _severity(code: str) -> Severity:
    return _SEVERITY.get(code, "error")
