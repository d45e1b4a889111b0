"""Text format: ``path:line:col: PLGnnn message`` per finding (paths repo-relative with ``/``), then a summary.

Options (``Report``): ``--show-source`` adds the source line and a caret under the column after each finding,
``--statistics`` a ``count code first-message`` line per code (as flake8 prints them), and colour on a terminal
styles the path and the code (by severity); without them the output is byte for byte the plain format.
"""

from __future__ import annotations

from plumego_lint.reporters import Report
from plumego_lint.terminal import BOLD, SEVERITY_STYLE, paint


def _caret(source: str, column: int) -> str:
    """Spaces (tabs kept, so the caret lines up) up to the 1-based column, then ``^``."""
    return "".join(c if c.isspace() else " " for c in source[:max(column - 1, 0)]) + "^"


def render(report: Report) -> str:
    colour = report.colour
    lines: list[str] = []
    for i, f in enumerate(report.findings):
        lines.append(f"{paint(f.path, BOLD, colour)}:{f.line}:{f.column}: "
                     f"{paint(f.code, SEVERITY_STYLE.get(f.severity, ''), colour)} {f.message}")
        source = report.source_lines[i] if i < len(report.source_lines) else None
        if source is not None:
            source = source.rstrip("\r\n")
            lines += [source, _caret(source, f.column)]
    if report.statistics:
        counts: dict[str, int] = {}
        first: dict[str, str] = {}
        for f in report.findings:
            counts[f.code] = counts.get(f.code, 0) + 1
            first.setdefault(f.code, f.message)
        lines += [f"{counts[code]:<5} {code} {first[code]}" for code in sorted(counts)]
    errors, warnings, infos = report.count("error"), report.count("warning"), report.count("info")
    if report.findings:
        lines.append(paint(f"Found {errors} error(s), {warnings} warning(s), {infos} info(s) in {report.files} files.",
                           BOLD, colour))
    return "\n".join(lines) + ("\n" if lines else "")
