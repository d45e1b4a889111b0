"""Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment): totals, counts per rule, the findings table."""

from __future__ import annotations

from collections import Counter

from plumego_lint.reporters import Report


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    errors, warnings, infos = report.count("error"), report.count("warning"), report.count("info")
    status = "passed" if errors == 0 else "failed"
    lines = [f"## plumego-lint: {status}", "",
             f"{report.files} files checked: **{errors}** error(s), **{warnings}** warning(s), "
             f"**{infos}** info(s).", ""]
    if report.findings:
        lines += ["| rule | count | meaning |", "|---|---:|---|"]
        for code, n in sorted(Counter(f.code for f in report.findings).items()):
            rule = report.rules.get(code)
            lines.append(f"| {code} | {n} | {_cell(rule.summary if rule else '')} |")
        lines += ["", "| location | rule | severity | message | spec |", "|---|---|---|---|---|"]
        for f in report.findings:
            lines.append(f"| `{_cell(f.path)}:{f.line}:{f.column}` | {f.code} | {f.severity} | {_cell(f.message)} | "
                         f"{_cell(f.source or '')} |")
    return "\n".join(lines) + "\n"
