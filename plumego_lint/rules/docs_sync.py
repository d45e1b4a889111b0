"""PLG501: a generated file (``.importlinter``, a module-facts block in README/docs) drifted from specs.

A project-level rule over ``plumego_lint.generate``: it regenerates in memory and compares, exactly
what ``plumego-lint sync --check`` does. Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable

from plumego_lint.generate import IMPORTLINTER, expected_files
from plumego_lint.rules.base import Analysis, Finding, Project, Rule, RuleFamily

RULES = (
    Rule("PLG501", "generated-file-drift", "error", "a generated docs block or .importlinter is out of date with specs",
         "Anything listed in two places is generated from specs: the import-linter contracts in .importlinter and "
         "the module-facts blocks between `<!-- plumego-lint:begin module-facts PATH -->` markers in README.md and "
         "docs/**/*.md. Run `plumego-lint sync` to regenerate them.",
         "dependency-rules.yaml, module.yaml"),
)


def importlinter_path(project: Project) -> str | None:
    """The generated import-linter config, for repos whose specs carry module manifests (plumego-style)."""
    cfg = project.config.importlinter
    if cfg is not None:
        return cfg or None
    return IMPORTLINTER if project.specs is not None and project.specs.manifests else None


class DocsSyncFamily(RuleFamily):
    name = "docs_sync"
    rules = RULES
    project_findings_in_sources = False     # README/docs blocks and .importlinter only

    def check_project(self, project: Project, analysis: Analysis) -> Iterable[Finding]:
        if project.specs is None or not project.enabled("PLG501"):
            return []
        _, drifts = expected_files(project.specs, importlinter_path(project))
        return [Finding("PLG501", "error", d.path, d.line, 1, d.message, None, importer=d.path, subject=d.subject)
                for d in drifts]
