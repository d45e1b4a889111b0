"""Text format: ``path:line:col: PLGnnn message`` per finding (paths repo-relative with ``/``), then a summary."""

from __future__ import annotations

from plumego_lint.reporters import Report


def render(report: Report) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in report.findings]
    errors, warnings, infos = report.count("error"), report.count("warning"), report.count("info")
    if report.findings:
        lines.append(f"Found {errors} error(s), {warnings} warning(s), {infos} info(s) in {report.files} files.")
    return "\n".join(lines) + ("\n" if lines else "")
