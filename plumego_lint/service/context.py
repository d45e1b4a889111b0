"""What the service rules read besides one file's facts: config, plumego tiers, other modules' facts.

Owns ``ServiceContext`` (config + ``TierIndex`` + deprecated symbols + a lookup of other first-party
modules' facts, parsed lazily from disk and memoised), ``Finding``, the rule result, and
``ServiceExtractor``, which builds each file's facts in the engine's parse step (so no file is parsed
twice). Must not import rules, the engine, reporters or the CLI.
"""

from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from plumego_lint.facts import ParseError, SourceFile, parse
from plumego_lint.service import config as _config_module
from plumego_lint.service import facts as _facts_module
from plumego_lint.service.config import ServiceConfig
from plumego_lint.service.facts import ModuleFacts, extract_facts
from plumego_lint.specs import TierIndex, installed_package_dir

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, order=True)
class Finding:
    """One rule result in a file; line and column are 1-based."""

    line: int
    column: int
    code: str
    message: str
    severity: Severity = "error"
    source: str | None = None   # the manifest line the finding derives from ("plumego/x/ai/module.yaml:3")
    # last line of the statement it reports (an import over several lines): `# noqa` may sit on any of them
    end_line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Deprecation:
    symbol: str
    replacement: str
    since: str
    source: str = ""    # the module.yaml line that lists it


def module_exists(config: ServiceConfig, plumego_dir: Path | None, dotted: str,
                  listings: DirListings | None = None) -> bool:
    """Whether ``dotted`` names a module or package (plumego's or first-party), judged from files.

    ``listings`` answers from one listing per directory instead of two ``stat`` calls per name (the
    facts walk asks this for every ``from a import b``: most names are symbols, not modules)."""
    head = dotted.split(".", 1)[0]
    if head == "plumego" and plumego_dir is not None:
        parts = dotted.split(".")[1:]
        if listings is not None:
            found = listings.module_at(str(plumego_dir), parts)
            if found is not None:
                return found
        base = os.path.join(plumego_dir, *parts)
        return os.path.isdir(base) or os.path.isfile(base + ".py")
    if config.is_first_party(dotted):
        if listings is not None:
            parts = dotted.split(".")
            for root in config.source_roots:
                found = listings.module_at(str(root), parts)
                if found is None:
                    return config.is_package(dotted)
                if found:
                    return True
            return False
        return config.is_package(dotted)
    return False


class DirListings:
    """``os.path.isdir(base) or os.path.isfile(base + ".py")`` for ``base = root/a/b/c``, answered from one
    ``os.scandir`` of ``root/a/b`` per directory (memoised): the same answers (``DirEntry.is_dir``/``is_file``
    follow symbolic links as ``isdir``/``isfile`` do), a fraction of the system calls."""

    def __init__(self) -> None:
        self._dirs: dict[str, dict[str, int] | None] = {}

    def module_at(self, root: str, parts: list[str]) -> bool | None:
        """None when the answer must come from ``stat`` (an unlistable directory, an odd name)."""
        if not parts or not all(p.isidentifier() for p in parts):
            return None
        directory = os.path.join(root, *parts[:-1])
        listing = self._dirs.get(directory, _UNLISTED)
        if listing is _UNLISTED:
            listing = self._dirs[directory] = _listing(directory)
        if listing is None:
            return None
        last = parts[-1]
        return bool(listing.get(last, 0) & _DIR) or bool(listing.get(last + ".py", 0) & _FILE)


_DIR, _FILE = 1, 2
_UNLISTED: dict[str, int] = {}


def _listing(directory: str) -> dict[str, int] | None:
    """Name -> _DIR/_FILE bits of a directory's entries; {} when it does not exist (or is no directory);
    None when it exists but cannot be listed."""
    try:
        with os.scandir(directory) as entries:
            out: dict[str, int] = {}
            for entry in entries:
                try:
                    out[entry.name] = (_DIR if entry.is_dir() else 0) | (_FILE if entry.is_file() else 0)
                except OSError:
                    return None
            return out
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError:
        return None


def tracks(config: ServiceConfig, module: str) -> bool:
    """Attribute uses matter only on plumego modules (PLG305, fix) and adapters (PLG302)."""
    return module == "plumego" or module.startswith("plumego.") or config.is_adapter(module)


@dataclass
class ServiceContext:
    """Everything a service rule may consult, shared across the files of one run.

    plumego's tiers and deprecations (37 module.yaml files read with PyYAML) load on first use: only a file
    that imports plumego asks for them, so a run, ``check FILE`` or a flake8 process over files that import
    no plumego never reads a manifest."""

    config: ServiceConfig
    _tiers: TierIndex | None = None
    plumego_dir: Path | None = None
    _deprecations: dict[str, Deprecation] | None = None
    _facts: dict[str, ModuleFacts | None] = field(default_factory=dict)
    _modules: dict[str, bool] = field(default_factory=dict)
    _prepared: dict[str, ModuleFacts] = field(default_factory=dict)   # by file path (see ``prepare``)
    _listings: DirListings = field(default_factory=DirListings)
    # when a set: every module ``facts_of`` is asked about is added (what one file's checks read of others)
    reads: set[str] | None = None

    @classmethod
    def create(cls, config: ServiceConfig, tiers: TierIndex | None = None) -> ServiceContext:
        return cls(config=config, _tiers=tiers, plumego_dir=installed_package_dir("plumego"))

    @property
    def tiers(self) -> TierIndex:
        """The installed plumego's tiers (read on first use)."""
        if self._tiers is None:
            self._tiers = TierIndex.installed()
        return self._tiers

    @property
    def deprecations(self) -> dict[str, Deprecation]:
        """Deprecated plumego symbols by dotted name, from the tiers' manifests (built on first use)."""
        if self._deprecations is None:
            deprecations: dict[str, Deprecation] = {}
            for directory, manifest in self.tiers.manifests.items():
                owner = "plumego" if not directory else "plumego." + directory.replace("/", ".")
                for i, dep in enumerate(manifest.deprecated_symbols):
                    full = dep.symbol if dep.symbol.startswith("plumego.") else f"{owner}.{dep.symbol}"
                    where = str(manifest.item_location("deprecated_symbols", i))
                    deprecations[full] = Deprecation(full, dep.replacement, dep.since, where)
            self._deprecations = deprecations
        return self._deprecations

    def is_module(self, dotted: str) -> bool:
        """Whether ``dotted`` names a module or package (plumego's or first-party), judged from files."""
        known = self._modules.get(dotted)
        if known is None:
            known = self._modules[dotted] = module_exists(self.config, self.plumego_dir, dotted, self._listings)
        return known

    def tracks(self, module: str) -> bool:
        """Attribute uses matter only on plumego modules (PLG305, fix) and adapters (PLG302)."""
        return tracks(self.config, module)

    def facts_for(self, tree: ast.Module, module: str, is_package: bool,
                  source: str | bytes | None = None) -> ModuleFacts:
        facts = extract_facts(tree, module, is_package, self.is_module, source=source, track=self.tracks)
        self._facts[module] = facts
        return facts

    def remember(self, facts: ModuleFacts) -> None:
        """Facts of a file this run checks, built elsewhere (the engine's parse step): what ``facts_for`` stores."""
        self._facts[facts.module] = facts

    def prepare(self, path: Path, facts: ModuleFacts) -> None:
        """Facts of a file, built elsewhere, that ``facts_of`` may use instead of parsing ``path`` itself."""
        self._prepared[str(path)] = facts

    def facts_of_file(self, path: Path, module: str) -> ModuleFacts:
        """Facts of a file this run has checked (memoised by module), parsing it when needed."""
        known = self._facts.get(module)
        if known is not None:
            return known
        data = path.read_bytes()
        tree = parse(data, str(path))
        if isinstance(tree, ParseError):
            raise SyntaxError(f"{path}:{tree.line}: {tree.message}")
        return self.facts_for(tree, module, path.name == "__init__.py", data)

    def facts_of(self, module: str) -> ModuleFacts | None:
        """Facts of another first-party module (for re-export and interface checks), parsed once."""
        if self.reads is not None:
            self.reads.add(module)
        if module in self._facts:
            return self._facts[module]
        result: ModuleFacts | None = None
        path = self.config.module_path(module)
        prepared = self._prepared.get(str(path)) if path is not None else None
        if prepared is not None and prepared.module == module:
            result = prepared
        elif path is not None:
            try:
                data = path.read_bytes()
            except OSError:
                data = None
            tree = parse(data, str(path)) if data is not None else None
            if tree is not None and not isinstance(tree, ParseError):
                result = extract_facts(tree, module, path.name == "__init__.py", self.is_module, source=data,
                                       track=self.tracks)
        self._facts[module] = result
        return result

    def tier_source(self, dotted: str) -> str | None:
        """The manifest line that gives ``dotted`` its tier (``status`` or ``stability_tiers``)."""
        entry = self.tiers.lookup(dotted) if dotted.split(".", 1)[0] == "plumego" else None
        return str(entry.source) if entry is not None else None

    def tier_of(self, dotted: str) -> str | None:
        return self.tiers.tier_of(dotted) if dotted.split(".", 1)[0] == "plumego" else None


@lru_cache(maxsize=1)
def extraction_version() -> str:
    """Names cached service facts after the code that builds them: editing it invalidates them, no manual bump."""
    digest = hashlib.blake2b(digest_size=8)
    for module_file in (_facts_module.__file__, _config_module.__file__, __file__):
        if module_file is not None:
            digest.update(Path(module_file).read_bytes())
    return f"service-{digest.hexdigest()}"


@dataclass
class ServiceExtractor:
    """Builds the service facts of each file from the tree the engine's parse step builds anyway.

    Implements the engine's ``TreeExtractor``: picklable (config and plumego's directory), so the parse
    workers build facts where they parse. A file's plain facts carry every ``is_module`` answer they
    were built with; a cached copy is used only while all of them still hold (adding or removing a
    module elsewhere can turn ``from a import b`` from a symbol into a submodule import).
    """

    config: ServiceConfig
    plumego_dir: Path | None
    name: str = field(default_factory=extraction_version)
    _modules: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
    _listings: DirListings = field(default_factory=DirListings, repr=False, compare=False)
    _tracked: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    def key(self, file: SourceFile) -> str | None:
        """Everything besides the bytes the facts depend on; None for files the service rules skip."""
        if file.is_test:
            return None
        module, excluded = self.config.name_and_exclusion(file.abspath)
        if module is None or excluded:
            return None
        return ("package " if file.abspath.endswith(os.sep + "__init__.py") else "module ") + module

    def is_module(self, dotted: str) -> bool:
        known = self._modules.get(dotted)
        if known is None:
            known = self._modules[dotted] = module_exists(self.config, self.plumego_dir, dotted, self._listings)
        return known

    def tracks(self, module: str) -> bool:
        known = self._tracked.get(module)
        if known is None:
            known = self._tracked[module] = tracks(self.config, module)
        return known

    def extract(self, key: str, tree: ast.Module, data: bytes) -> tuple[object, ...]:
        """(plain ``ModuleFacts``, the ``is_module`` answers they used)."""
        kind, _, module = key.partition(" ")
        answers: dict[str, bool] = {}

        def is_module(dotted: str) -> bool:
            known = answers.get(dotted)
            if known is None:
                known = answers[dotted] = self.is_module(dotted)
            return known

        facts = extract_facts(tree, module, kind == "package", is_module, source=data,
                              track=self.tracks)
        return facts.to_plain(), tuple(answers.items())

    def still_valid(self, plain: tuple[object, ...]) -> bool:
        """Whether cached facts were built with the answers ``is_module`` gives now (False: damaged too)."""
        if len(plain) != 2 or not isinstance(plain[1], tuple):
            return False
        for answer in plain[1]:
            if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], str)):
                return False
            if self.is_module(answer[0]) is not answer[1]:
                return False
        return True

    def decode(self, plain: tuple[object, ...]) -> ModuleFacts:
        facts = plain[0]
        if not isinstance(facts, tuple):
            raise TypeError("not the plain form of ModuleFacts")
        return ModuleFacts.from_plain(facts)
