"""Layout rules PLG201-PLG204: what may exist directly under the package and under ``x/``.

Owns vague/discouraged package names, undeclared library roots and x/* families, and nested
packaging files under ``x/``. Reads the directory tree and repo.yaml only; never parses Python.
Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from plumego_lint.discovery import PROJECT_FILES
from plumego_lint.rules.base import Analysis, Finding, Project, Rule, RuleFamily, loc

# Upstream's broad legacy roots, always discouraged as top-level packages (repo.yaml adds more).
DEFAULT_DISCOURAGED = ("utils", "ai", "tenant", "rest", "pubsub", "net", "validator", "frontend")

RULES = (
    Rule("PLG201", "discouraged-package-name", "error", "vague or discouraged top-level package name",
         "Broad names (utils, helpers, common, net, ...) become dumping grounds, and feature names that belong to "
         "an extension family (ai, tenant, rest, pubsub, frontend, validator) must live under x/<family>. In a repo "
         "with specs, the list is the built-in one plus repo.yaml `top_level_rules.discouraged_roots`, checked on the "
         "package's direct children. In a service repo without specs, it is the service built-in list (utils, util, "
         "common, helpers, misc, ai, tenant, rest, pubsub, net, validator, frontend) plus `discouraged_roots` in "
         "[tool.plumego-lint], checked on top-level packages and modules and on their direct subpackages; a module "
         "file inside a package (requests/utils.py) is one name of that package's API, not a package, and is not "
         "reported. The finding cites the line of the list it comes from (`plumego-lint explain PLG201` run in the "
         "repo prints it).",
         "repo.yaml top_level_rules.discouraged_roots (repo with specs); pyproject.toml [tool.plumego-lint] "
         "discouraged_roots (service repo)"),
    Rule("PLG202", "undeclared-library-root", "error", "a package under the library that is not an allowed root",
         "Every direct subpackage of the library must be one of repo.yaml `top_level_rules.allowed_library_roots` "
         "(the stable roots and x). New code goes under a stable root or an x/<family>.",
         "repo.yaml top_level_rules.allowed_library_roots"),
    Rule("PLG203", "undeclared-extension", "error", "an x/* family directory not declared in repo.yaml",
         "Each directory directly under x/ is an extension family and must be declared in repo.yaml "
         "`layers.extension.paths` (and in the taxonomy), so that tiers, rules and docs know about it.",
         "repo.yaml layers.extension.paths"),
    Rule("PLG204", "nested-packaging-file", "error", "a nested packaging file under x/",
         "x/* is part of the one distribution: a pyproject.toml, setup.py or setup.cfg below x/ would make a "
         "separate project that the linter and the build silently skip.",
         "repo.yaml top_level_rules.rules"),
)


def _has_python(directory: Path) -> bool:
    for _, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        if any(f.endswith(".py") for f in files):
            return True
    return False


def _children(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.name != "__pycache__")
    except OSError:
        return []


class LayoutFamily(RuleFamily):
    name = "layout"
    rules = RULES

    def check_project(self, project: Project, analysis: Analysis) -> Iterable[Finding]:
        specs = project.specs
        if specs is None or not specs.package_dir.is_dir():
            return []
        root, repo = project.root, specs.repo
        package_dir = specs.package_dir
        discouraged = dict.fromkeys((*DEFAULT_DISCOURAGED, *repo.discouraged_roots))
        out: list[Finding] = []

        def rel(p: Path) -> str:
            return p.relative_to(root).as_posix()

        for child in _children(package_dir):
            name = child.name[:-3] if child.is_file() and child.name.endswith(".py") else child.name
            is_pkg = child.is_dir() and not child.is_symlink() and _has_python(child)
            if not is_pkg and not (child.is_file() and child.name.endswith(".py")):
                continue
            if name in discouraged:
                out.append(Finding("PLG201", "error", rel(child), 1, 1,
                                   f"{specs.package}.{name} uses the discouraged name {name!r}; put it under a stable "
                                   "root or x/<family>", loc(repo.discouraged_location),
                                   importer=specs.package, subject=name))
            elif is_pkg and repo.allowed_library_roots and name not in repo.allowed_library_roots:
                out.append(Finding("PLG202", "error", rel(child), 1, 1,
                                   f"{specs.package}.{name} is not an allowed library root "
                                   f"({', '.join(repo.allowed_library_roots)})",
                                   loc(repo.allowed_location or repo.location),
                                   importer=specs.package, subject=name))
        ext_paths = set(repo.layer_paths("extension"))
        for ext_root in sorted({p.split("/")[0] for p in ext_paths}):
            base = package_dir / ext_root
            if not base.is_dir():
                continue
            layer = repo.layers.get("extension")
            for child in _children(base):
                if child.is_dir() and not child.is_symlink() and _has_python(child):
                    path = f"{ext_root}/{child.name}"
                    if path not in ext_paths:
                        out.append(Finding("PLG203", "error", rel(child), 1, 1,
                                           f"extension family {path} is not declared in {specs.spec_file('repo.yaml')} "
                                           "layers.extension.paths", loc(layer.location if layer else repo.location),
                                           importer=specs.package, subject=path))
            for dirpath, dirs, files in os.walk(base):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for f in sorted(files):
                    if f in PROJECT_FILES:
                        p = Path(dirpath) / f
                        out.append(Finding("PLG204", "error", rel(p), 1, 1,
                                           f"packaging file {rel(p)} under {ext_root}/ makes a separate project; "
                                           "x/* is "
                                           "part of the one distribution", loc(repo.location),
                                           importer=specs.package, subject=rel(p)))
        return out
