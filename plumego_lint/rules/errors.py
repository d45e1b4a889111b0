"""Rules about the inputs themselves: PLG901 unparsable file, PLG902 bad config/spec, PLG903 stale baseline.

PLG901 is a per-file rule over the parse result (a file that cannot be parsed is reported and the
rest of the tree is still checked). PLG902 is raised as SpecError (exit 2); PLG903 is produced by the
baseline filter. Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable

from plumego_lint.facts import FileFacts, ImportFact, SourceFile
from plumego_lint.rules.base import Finding, Project, Rule, RuleFamily

RULES = (
    Rule("PLG901", "unparsable-file", "error",
         "file cannot be parsed (syntax error, bad encoding, NUL bytes, unreadable)",
         "A file the parser rejects cannot be checked, so it is reported instead of silently skipped; the rest of "
         "the tree is still checked. Fix the syntax or encoding (PEP 263), or exclude the file in "
         "[tool.plumego-lint] exclude.",
         "(input)"),
    Rule("PLG902", "config-error", "error", "configuration or spec file error",
         "pyproject.toml [tool.plumego-lint], specs/*.yaml or a module.yaml cannot be used (invalid YAML/TOML, "
         "wrong types, unknown keys). The run stops with exit code 2 and names the file and line.",
         "[tool.plumego-lint], specs/*.yaml"),
    Rule("PLG903", "stale-baseline-entry", "warning", "a baseline entry no longer matches any finding",
         "Baselines only shrink: an entry whose violation is gone should be removed (re-run with "
         "--write-baseline) so that the violation cannot silently come back.",
         "--baseline file"),
)


class ParseErrorFamily(RuleFamily):
    name = "inputs"
    rules = RULES
    file_local = True

    def check_file(self, project: Project, file: SourceFile, facts: FileFacts,
                   imports: list[ImportFact]) -> Iterable[Finding]:
        err = facts.error
        if err is None:
            return []
        what = {"syntax": "syntax error", "encoding": "cannot decode", "nul": "NUL byte",
                "unreadable": "unreadable"}.get(err.kind, err.kind)
        return [Finding("PLG901", "error", file.rel, max(err.line, 1), max(err.col, 1), f"{what}: {err.message}",
                        None, importer=file.module or file.rel, subject=err.kind)]
