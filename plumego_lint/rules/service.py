"""The service-repo rule family (PLG301-PLG305, PLG601-PLG603, PLG201 for a service's own packages).

A thin adapter from the engine's rule API to ``plumego_lint.service``: active only in a service repo
(not in plumego's own repository). The service rules read a stdlib ``ast`` tree of each file: in
``check``, the tree the engine's parse step built (``ServiceExtractor`` runs where each file is parsed,
so no file is parsed twice); in flake8, flake8's tree. Both surfaces run identical code.
Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from plumego_lint.facts import FileFacts, ImportFact, ParseError, SourceFile, parse
from plumego_lint.rules.base import Finding, Project, Rule, RuleFamily
from plumego_lint.rules.layout import RULES as LAYOUT_RULES

if TYPE_CHECKING:
    import ast

    from plumego_lint.config import Config
    from plumego_lint.service import ServiceContext
    from plumego_lint.service.context import Finding as ServiceFinding
    from plumego_lint.service.context import ServiceExtractor
    from plumego_lint.service.facts import ModuleFacts

# plumego_lint.service is imported when the family first runs, not with the rule registry: a run or a
# flake8 process that selects no service code never pays for it (about a third of the linter's import time).

_SPEC = "pyproject.toml [tool.plumego-lint]"
# The config key each service code reads (its line is the finding's source when no manifest line is).
_CONFIG_KEY = {"PLG201": "discouraged_roots", "PLG301": "stable_paths", "PLG302": "adapter_paths",
               "PLG303": "adapter_paths", "PLG602": "entrypoints"}


def config_source(config: Config, code: str) -> str:
    """``pyproject.toml:<line>`` of the key ``code`` reads, else of the ``[tool.plumego-lint]`` table: the source a
    service finding without a manifest line cites (``explain CODE`` prints the same)."""
    key = _CONFIG_KEY.get(code, "__table__")
    return config.location(key if key in config.key_lines else "__table__")


RULES = (
    Rule("PLG301", "experimental-in-stable-path", "error",
         "an experimental plumego API imported directly in a stable service path (outside an adapter)",
         "Experimental plumego APIs may change without a deprecation period. Plumego's guidance is to wrap them "
         "behind an app-local interface: stable paths (`stable_paths`) import a Protocol from an adapter module "
         "(`adapter_paths`), and only the adapter imports the experimental API, so an upgrade touches one file. "
         "Every import form counts: `from plumego.x import ai`, literal importlib.import_module/__import__, "
         "imports in functions, try blocks and TYPE_CHECKING else-branches (typing-only ones unless "
         "`typing_only = \"ignore\"` or PLG301 is in `ignore_typing_only`). Tiers come from the installed "
         "plumego's module.yaml files, subpackage-precise (`plumego-lint tiers`). `plumego-lint fix` writes the "
         "adapter.", _SPEC),
    Rule("PLG302", "adapter-reexports-experimental", "error",
         "an adapter re-exports an experimental symbol, so stable code still depends on it",
         "An adapter that lists an experimental name in `__all__`, binds it to a plain alias, re-exports it with "
         "`import X as X`, or lets stable code import it by name is no wrapper at all: the stable code breaks "
         "with the experimental API. Export an app-local Protocol and an implementation instead.", _SPEC),
    Rule("PLG303", "adapter-without-interface", "error",
         "an adapter module imports experimental API but defines no app-local interface (Protocol or ABC)",
         "Stable code should depend on an interface the app owns. An adapter module that imports an "
         "experimental plumego API must define a typing.Protocol or an ABC (or implement one imported from "
         "another first-party module) describing what stable code needs.", _SPEC),
    Rule("PLG304", "beta-api-in-use", "info", "beta plumego API in use (check release notes before upgrading)",
         "Beta APIs are supported but may still change between minor releases with notice. Listed so that "
         "upgrades check release notes; never fails the run.", "plumego module.yaml status / stability_tiers"),
    Rule("PLG305", "deprecated-symbol", "error", "use of a symbol the installed plumego lists as deprecated",
         "module.yaml `deprecated_symbols` names symbols that will be removed, with their replacement. When the "
         "replacement is a symbol, `plumego-lint fix` (or `fix --select PLG305` for this rule alone) rewrites the "
         "imports and uses to it (to the end of the chain when the replacement is deprecated too), in the same "
         "module or with a new import; what it cannot rewrite safely (prose "
         "replacement, whole module, star import, a name conflict or re-binding) is listed with the reason.",
         "plumego module.yaml deprecated_symbols"),
    Rule("PLG601", "mutable-module-state", "error", "mutable module-level state in handler or middleware code",
         "Handlers and middleware run concurrently for every request; a module-level dict, list, set, mutable "
         "instance or a `global` rebinding is hidden shared state. Pass state in explicitly (app state, a "
         "constructor, a closure). Modules count as handler code when a dotted segment is handler/handlers, and "
         "as middleware when a segment starts with middleware.", "plumego lint --check globals"),
    Rule("PLG602", "import-time-side-effect", "error", "import-time side effects (registration) in service code",
         "Module-level calls, stores into other objects, augmented assignments, loops, and decorators that "
         "register a function with an object (`@router.get(...)`) run when the module is imported: wiring then "
         "depends on import order. Wire explicitly from the composition root; modules matching `entrypoints` "
         "(default: __main__, main, asgi, wsgi, cli) are exempt. Not counted, because they register nothing: the "
         "body of `if __name__ == \"__main__\":` (also as one operand of an `and`; its `else:` does count), "
         "`<logger>.addHandler(logging.NullHandler())` (the logging HOWTO's idiom for libraries), stores into an "
         "object's `__doc__`, `__module__`, `__qualname__` or `__name__`, and `__all__ += ...`.",
         "plumego lint --check init-effects"),
    Rule("PLG603", "layer-reach", "error",
         "middleware imports service/domain/DTO code, or a handler imports storage directly",
         "Middleware is transport-only: it must not import service, domain or DTO modules. Handlers depend on "
         "a service interface, not on store/repository modules. Typing-only imports are not counted.",
         "plumego lint --check boundaries"),
)


class ServiceFamily(RuleFamily):
    name = "service"
    # PLG201 too: its service form is this family's (so `--select PLG201`/`PLG2` runs it in a service repo)
    rules = (*RULES, *(r for r in LAYOUT_RULES if r.code == "PLG201"))

    def __init__(self) -> None:
        self._extractors: dict[Path, ServiceExtractor | None] = {}
        self._contexts: dict[Path, ServiceContext | None] = {}
        # per project root: the facts the engine's parse step built, by file (rel path)
        self._prepared: dict[Path, dict[str, ModuleFacts]] = {}
        # per (project root, rel path): the other modules the last check of that file read (``dependencies``)
        self._reads: dict[tuple[Path, str], tuple[str, ...]] = {}

    def tree_extractor(self, project: Project) -> ServiceExtractor | None:
        """Builds each file's service facts where the engine parses it; None in plumego's own repository."""
        if project.root not in self._extractors:
            from plumego_lint.service import is_plumego_repo, service_config
            from plumego_lint.service.context import ServiceExtractor
            from plumego_lint.specs import installed_package_dir

            self._extractors[project.root] = (
                None if is_plumego_repo(project.root)
                else ServiceExtractor(service_config(project.config), installed_package_dir("plumego")))
        return self._extractors[project.root]

    def context(self, project: Project) -> ServiceContext | None:
        """The service context of a project, or None in plumego's own repository."""
        if project.root not in self._contexts:
            from plumego_lint.service import ServiceContext

            extractor = self.tree_extractor(project)
            self._contexts[project.root] = None if extractor is None else ServiceContext.create(extractor.config)
        return self._contexts[project.root]

    def prepare(self, project: Project) -> None:
        """The service context: plumego's tiers and deprecations (its module.yaml files, read with PyYAML)."""
        self.context(project)

    def input_paths(self, project: Project) -> Iterable[Path]:
        """The installed plumego (its module.yaml tiers and modules): outside a service repo's tree."""
        ctx = self.context(project)
        return [ctx.plumego_dir] if ctx is not None and ctx.plumego_dir is not None else []

    def take_tree_facts(self, project: Project, facts: Mapping[str, object]) -> None:
        ctx = self.context(project)
        if ctx is None:
            return
        from plumego_lint.service.facts import ModuleFacts

        prepared: dict[str, ModuleFacts] = {}
        for rel, module_facts in facts.items():
            assert isinstance(module_facts, ModuleFacts)
            prepared[rel] = module_facts
            ctx.prepare(project.by_rel[rel].path, module_facts)   # for other files' lookups (facts_of)
        self._prepared[project.root] = prepared

    def _findings(self, project: Project, file: SourceFile, found: Iterable[ServiceFinding]) -> list[Finding]:
        return [Finding(f.code, f.severity, file.rel, f.line, f.column, f.message,
                        f.source or config_source(project.config, f.code), importer=file.module or file.rel,
                        subject=f.message, noqa_lines=(f.line, max(f.line, f.end_line)))
                for f in found]

    def dependencies(self, project: Project, file: SourceFile) -> tuple[str, ...]:
        """The first-party modules whose facts the last ``check_file`` of ``file`` looked up (re-exports,
        adapter interfaces): a change to one of them can change this file's findings."""
        return self._reads.get((project.root, file.rel), ())

    def check_tree(self, project: Project, file: SourceFile, tree: ast.Module,
                   source: str | bytes | None = None) -> list[Finding]:
        from plumego_lint.service import check_tree

        ctx = self.context(project)
        if ctx is None or file.is_test:
            return []
        module = ctx.config.module_name(file.path)
        return self._findings(project, file, check_tree(tree, file.path, ctx, source, module))

    def check_file(self, project: Project, file: SourceFile, facts: FileFacts,
                   imports: list[ImportFact]) -> Iterable[Finding]:
        ctx = self.context(project)
        if facts.error is not None or ctx is None:
            return []  # PLG901 is the parse-error family's
        prepared = self._prepared.get(project.root)
        if prepared is not None:
            # The engine built every file's facts while parsing it; a file without them is one the
            # service rules skip (a test, excluded, or outside the source roots).
            module_facts = prepared.get(file.rel)
            if module_facts is None:
                return []
            from plumego_lint.service.runner import check_facts

            ctx.remember(module_facts)
            ctx.reads = set()
            try:
                found = check_facts(module_facts, ctx)
                reads = tuple(sorted(ctx.reads - {module_facts.module}))
            finally:
                ctx.reads = None
            self._reads[(project.root, file.rel)] = reads
            return self._findings(project, file, found)
        try:   # called without the engine's parse step (no take_tree_facts): parse here
            data = file.path.read_bytes()
        except OSError:
            return []      # PLG901 is the parse-error family's to report
        tree = parse(data, str(file.path))
        if isinstance(tree, ParseError):
            return []
        return self.check_tree(project, file, tree, data)
