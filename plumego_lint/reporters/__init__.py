"""Output formats for findings: one module per format, all with ``render(report) -> str``.

Owns the ``Report`` every formatter reads and the registry of formats. Must not import the engine
(the CLI builds a Report from a CheckResult) or run rules.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plumego_lint import __version__
from plumego_lint.findings import Finding

if TYPE_CHECKING:
    from plumego_lint.rules.base import Rule


class _Rules(Mapping[str, "Rule"]):
    """``rules.RULES``, imported on first use: text and JSON output never need it (and it pulls in the specs)."""

    def _data(self) -> Mapping[str, Rule]:
        from plumego_lint.rules import RULES
        return RULES

    def __getitem__(self, code: str) -> Rule:
        return self._data()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


@dataclass(frozen=True)
class Report:
    """What every format renders. ``files`` is the number of files checked (the named ones for ``check PATH``).
    The last three fields are text-format options (``--statistics``, ``--show-source``, colour on a terminal):
    ``source_lines`` runs parallel to ``findings`` (None where a finding has no source line to show)."""

    root: str
    files: int
    findings: tuple[Finding, ...]
    rules: Mapping[str, Rule]
    tool_version: str = __version__
    statistics: bool = False
    source_lines: tuple[str | None, ...] = ()
    colour: bool = False

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def make_report(root: str, files: int, findings: list[Finding], *, statistics: bool = False,
                source_lines: tuple[str | None, ...] = (), colour: bool = False) -> Report:
    return Report(root=root, files=files, findings=tuple(findings), rules=_Rules(), statistics=statistics,
                  source_lines=source_lines, colour=colour)


FORMATS = ("text", "json", "sarif", "github", "markdown", "junit")


def _formatter(fmt: str) -> Callable[[Report], str]:
    if fmt not in FORMATS:
        raise KeyError(fmt)
    render_fn: Callable[[Report], str] = importlib.import_module(f"plumego_lint.reporters.{fmt}").render
    return render_fn


def render(fmt: str, report: Report) -> str:
    return _formatter(fmt)(report)
