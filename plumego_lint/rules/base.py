"""The rule API: ``Rule`` metadata, ``Finding``, the ``Project`` a rule reads, and ``RuleFamily``.

Rules are pure functions of (facts, specs) -> findings. A family groups the rules of one concern and
offers two entry points: ``check_file`` (one file's facts; what the flake8 plugin and pre-commit call)
and ``check_project`` (whole-tree rules: layout, manifests, docs, "declared caller no longer imports").
A family that needs more of a file than ``FileFacts`` gives a ``TreeExtractor``, run on the tree the
engine's parse step builds anyway. Must not import the engine, the cache, reporters or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from plumego_lint.config import Config
from plumego_lint.facts import FileFacts, ImportFact, ModuleIndex, SourceFile, resolve
from plumego_lint.findings import SEVERITIES as SEVERITIES  # noqa: F401 - re-exported
from plumego_lint.findings import Finding as Finding
from plumego_lint.findings import Severity as Severity
from plumego_lint.specs import Location, SpecSet

if TYPE_CHECKING:
    import ast


@dataclass(frozen=True)
class Rule:
    """What a code means: ``explain`` is the paragraph ``plumego-lint explain PLGnnn`` prints."""

    code: str
    name: str
    severity: Severity
    summary: str
    explain: str
    spec_key: str


def loc(location: Location | None) -> str | None:
    return str(location) if location is not None else None


@dataclass
class Project:
    """Everything rules may read about one repository; built once per run."""

    root: Path
    config: Config
    specs: SpecSet | None
    files: list[SourceFile]
    modules: ModuleIndex
    enabled: Callable[[str], bool] = field(default=lambda code: True)
    # the module.yaml files the specs were loaded from, by package directory (None: not recorded); an
    # incremental run reuses them, since it runs only while no directory lists other entries
    manifest_listing: dict[str, list[str]] | None = None

    def __post_init__(self) -> None:
        self.by_rel = {f.rel: f for f in self.files}
        self.by_module = {f.module: f for f in self.files if f.module}

    @property
    def package(self) -> str | None:
        return self.specs.package if self.specs else None

    def is_library(self, file: SourceFile) -> bool:
        """A non-test file inside the package the specs rule (the upstream "non-test .go under the module")."""
        pkg = self.package
        if pkg is None or file.is_test or not file.module:
            return False
        return file.module == pkg or file.module.startswith(pkg + ".")

    def imports_of(self, file: SourceFile, facts: FileFacts) -> list[ImportFact]:
        out: list[ImportFact] = []
        if not file.module:
            return out
        for raw in facts.imports:
            fact = resolve(raw, file.module, file.is_package, self.modules)
            if fact is not None:
                out.append(fact)
        return out


class ResolvedImports(Mapping[str, list[ImportFact]]):
    """Each file's resolved imports, computed on first access: a run that reuses a file's findings
    (the engine's findings memo) never resolves that file's imports unless a project-wide rule asks."""

    def __init__(self, project: Project, facts: Mapping[str, FileFacts]) -> None:
        self._project = project
        self._facts = facts
        self._done: dict[str, list[ImportFact]] = {}

    def __getitem__(self, rel: str) -> list[ImportFact]:
        found = self._done.get(rel)
        if found is None:
            file = self._project.by_rel.get(rel)
            facts = self._facts.get(rel)
            if file is None or facts is None:
                raise KeyError(rel)
            found = self._done[rel] = self._project.imports_of(file, facts)
        return found

    def __iter__(self) -> Iterator[str]:
        return (f.rel for f in self._project.files if f.rel in self._facts)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Analysis:
    """The per-file facts of a run (from the cache or a fresh parse), with resolved imports."""

    facts: Mapping[str, FileFacts]
    imports: Mapping[str, list[ImportFact]]


class TreeExtractor(Protocol):
    """Per-file facts a family builds from the syntax tree the engine's parse step builds anyway.

    Instances must pickle: the engine sends one to each parse worker. ``extract`` returns a plain value
    (tuples, strings, numbers, dicts: what ``marshal`` stores), cached with the file's facts under its
    content hash, ``name`` and ``key(file)``; ``name`` changes whenever the shape or meaning of the
    plain value does. A cached value is reused only if ``still_valid`` says so (facts that depend on
    other files record what they read, and this re-checks it).
    """

    name: str

    def key(self, file: SourceFile) -> str | None:
        """What the facts depend on besides the file's bytes; None when the family wants nothing of it."""
        ...

    def extract(self, key: str, tree: ast.Module, data: bytes) -> tuple[object, ...]: ...

    def still_valid(self, plain: tuple[object, ...]) -> bool:
        """False when a cached value is stale or damaged (never raises)."""
        ...

    def decode(self, plain: tuple[object, ...]) -> object:
        """The facts a plain value stands for (TypeError or ValueError when it is damaged)."""
        ...


class RuleFamily:
    """Base class of a rule family. Override ``check_file`` and/or ``check_project``."""

    name: str = ""
    rules: tuple[Rule, ...] = ()
    # True when ``check_file`` reads nothing but its arguments, the specs, the config and the module
    # index (never another file's facts): the engine then reuses a file's findings from the last run
    # while its content, its module identity, the module index and the specs are unchanged.
    file_local: bool = False
    # False when ``check_project`` only ever reports on spec, manifest or docs files, never on a Python
    # source: ``check FILE.py`` (pre-commit, editors) then skips it, since none of its findings could be kept.
    project_findings_in_sources: bool = True

    def check_file(self, project: Project, file: SourceFile, facts: FileFacts,
                   imports: list[ImportFact]) -> Iterable[Finding]:
        return ()

    def check_project(self, project: Project, analysis: Analysis) -> Iterable[Finding]:
        """Whole-tree rules that read the tree's layout, the specs and the config, never file contents
        (those go through ``summarize``): after a change to file contents only, the engine reuses them."""
        return ()

    def summarize(self, project: Project, file: SourceFile, facts: FileFacts,
                  imports: list[ImportFact]) -> tuple[object, ...] | None:
        """What this family's whole-project rules need from one file (a plain, ``marshal``-able value).

        The engine keeps each file's summary and calls ``check_summaries`` with all of them, so a run
        after one file changed re-summarises that file alone. None: nothing from this file."""
        return None

    def check_summaries(self, project: Project, summaries: Mapping[str, tuple[object, ...]]) -> Iterable[Finding]:
        """Whole-project findings from every file's ``summarize`` value (by rel path)."""
        return ()

    def dependencies(self, project: Project, file: SourceFile) -> tuple[str, ...]:
        """Modules (dotted) whose content the last ``check_file`` of ``file`` read besides its own facts.

        A family that is not ``file_local`` reports them so that a change to one of those modules
        re-checks ``file`` too (the engine's incremental run); the default is none."""
        return ()

    def prepare(self, project: Project) -> None:
        """Load what ``check_file`` will need (models, tiers): the engine calls it while the parse workers
        run, so that this start-up work overlaps with the parse instead of following it."""

    def tree_extractor(self, project: Project) -> TreeExtractor | None:
        """What this family builds from each parsed tree (None: ``FileFacts`` are enough)."""
        return None

    def take_tree_facts(self, project: Project, facts: Mapping[str, object]) -> None:
        """The decoded ``tree_extractor`` facts by file (rel path), before any ``check_file`` of the run.

        Every file whose ``FileFacts`` parsed and whose ``key`` was not None is present."""

    def input_paths(self, project: Project) -> Iterable[Path]:
        """Files or directories the family reads that the run cache would not watch otherwise.

        The run cache (engine) reuses the last findings while nothing changed under the project root;
        it skips dot directories and ``__pycache__``. A family reading anything there, or outside the
        root, lists it here so that a change to it re-runs the rules."""
        return ()
