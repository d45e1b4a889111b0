"""Output formats for findings: one module per format, all with ``render(report) -> str``.

Owns the ``Report`` every formatter reads and the registry of formats. Must not import the engine
(the CLI builds a Report from a CheckResult) or run rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from plumego_lint import __version__
from plumego_lint.rules import RULES, Finding, Rule


@dataclass(frozen=True)
class Report:
    root: str
    files: int
    findings: tuple[Finding, ...]
    rules: dict[str, Rule]
    tool_version: str = __version__

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def make_report(root: str, files: int, findings: list[Finding]) -> Report:
    return Report(root=root, files=files, findings=tuple(findings), rules=RULES)


def _formats() -> dict[str, Callable[[Report], str]]:
    from plumego_lint.reporters import github, junit, markdown, sarif, text
    from plumego_lint.reporters import json as json_format
    return {"text": text.render, "json": json_format.render, "sarif": sarif.render, "github": github.render,
            "markdown": markdown.render, "junit": junit.render}


FORMATS = ("text", "json", "sarif", "github", "markdown", "junit")


def render(fmt: str, report: Report) -> str:
    return _formats()[fmt](report)
