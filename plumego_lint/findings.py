"""``Finding``: one violation as every surface reports it, and its ``Severity``.

A leaf module (re-exported by ``plumego_lint.rules``) so that the warm cached path and the reporters
can build and print findings without importing the rules, the specs package or PyYAML. Imports
only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One violation. ``importer``/``subject`` identify it for baselines and fingerprints (no line numbers)."""

    code: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    source: str | None = None
    importer: str = ""
    subject: str = ""
    noqa_lines: tuple[int, int] = (0, 0)     # (first, last) statement lines a `# noqa` may sit on

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.importer or self.path, self.subject or self.message)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)
