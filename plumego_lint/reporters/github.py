"""GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=PLGnnn::message``.

GitHub shows at most 10 annotations per level per step, so errors come first; the Markdown format is
the place for the full list ($GITHUB_STEP_SUMMARY).
"""

from __future__ import annotations

from plumego_lint.reporters import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    order = {"error": 0, "warning": 1, "info": 2}
    lines = []
    for f in sorted(report.findings, key=lambda f: (order[f.severity], f.sort_key())):
        lines.append(f"::{_LEVEL[f.severity]} file={_escape_prop(f.path)},line={f.line},col={f.column},"
                     f"title={_escape_prop(f.code)}::{_escape_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
