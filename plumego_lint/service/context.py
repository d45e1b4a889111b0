"""What the service rules read besides one file's facts: config, plumego tiers, other modules' facts.

Owns ``ServiceContext`` (config + ``TierIndex`` + deprecated symbols + a lookup of other first-party
modules' facts, parsed lazily from disk and memoised) and ``Finding``, the rule result.
Must not import reporters or the CLI.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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


@dataclass(frozen=True)
class Deprecation:
    symbol: str
    replacement: str
    since: str


@dataclass
class ServiceContext:
    """Everything a service rule may consult, shared across the files of one run."""

    config: ServiceConfig
    tiers: TierIndex
    plumego_dir: Path | None = None
    deprecations: dict[str, Deprecation] = field(default_factory=dict)
    _facts: dict[str, ModuleFacts | None] = field(default_factory=dict)
    _modules: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def create(cls, config: ServiceConfig, tiers: TierIndex | None = None) -> ServiceContext:
        tiers = tiers if tiers is not None else TierIndex.installed()
        deprecations: dict[str, Deprecation] = {}
        for directory, manifest in tiers.manifests.items():
            owner = "plumego" if not directory else "plumego." + directory.replace("/", ".")
            for dep in manifest.deprecated_symbols:
                full = dep.symbol if dep.symbol.startswith("plumego.") else f"{owner}.{dep.symbol}"
                deprecations[full] = Deprecation(full, dep.replacement, dep.since)
        return cls(config=config, tiers=tiers, plumego_dir=installed_package_dir("plumego"),
                   deprecations=deprecations)

    def is_module(self, dotted: str) -> bool:
        """Whether ``dotted`` names a module or package (plumego's or first-party), judged from files."""
        known = self._modules.get(dotted)
        if known is not None:
            return known
        result = False
        head = dotted.split(".", 1)[0]
        if head == "plumego" and self.plumego_dir is not None:
            rel = Path(*dotted.split(".")[1:]) if "." in dotted else Path()
            base = self.plumego_dir / rel
            result = base.is_dir() or base.with_suffix(".py").is_file()
        elif self.config.is_first_party(dotted):
            result = self.config.is_package(dotted)
        self._modules[dotted] = result
        return result

    def tracks(self, module: str) -> bool:
        """Attribute uses matter only on plumego modules (PLG305, fix) and adapters (PLG302)."""
        return module == "plumego" or module.startswith("plumego.") or self.config.is_adapter(module)

    def facts_for(self, tree: ast.Module, module: str, is_package: bool,
                  source: str | bytes | None = None) -> ModuleFacts:
        facts = extract_facts(tree, module, is_package, self.is_module, source=source, track=self.tracks)
        self._facts[module] = facts
        return facts

    def facts_of_file(self, path: Path, module: str) -> ModuleFacts:
        """Facts of a file this run has checked (memoised by module), parsing it when needed."""
        known = self._facts.get(module)
        if known is not None:
            return known
        data = path.read_bytes()
        return self.facts_for(ast.parse(data, filename=str(path)), module, path.name == "__init__.py", data)

    def facts_of(self, module: str) -> ModuleFacts | None:
        """Facts of another first-party module (for re-export and interface checks), parsed once."""
        if module in self._facts:
            return self._facts[module]
        result: ModuleFacts | None = None
        path = self.config.module_path(module)
        if path is not None:
            try:
                data = path.read_bytes()
                tree = ast.parse(data, filename=str(path))
            except (SyntaxError, ValueError, OSError):
                tree = None
            if tree is not None:
                result = extract_facts(tree, module, path.name == "__init__.py", self.is_module, source=data,
                                       track=self.tracks)
        self._facts[module] = result
        return result

    def tier_of(self, dotted: str) -> str | None:
        return self.tiers.tier_of(dotted) if dotted.split(".", 1)[0] == "plumego" else None
