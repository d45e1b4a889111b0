"""JSON format, exactly the DESIGN.md schema (version 1): tool, root, summary and violations."""

from __future__ import annotations

import json

from plumego_lint.reporters import Report


def payload(report: Report) -> dict[str, object]:
    return {
        "version": 1,
        "tool": {"name": "plumego-lint", "version": report.tool_version},
        "root": report.root,
        "summary": {"files": report.files, "errors": report.count("error"), "warnings": report.count("warning"),
                    "infos": report.count("info")},
        "violations": [{"code": f.code, "severity": f.severity, "path": f.path, "line": f.line, "column": f.column,
                        "message": f.message, "source": f.source} for f in report.findings],
    }


def render(report: Report) -> str:
    return json.dumps(payload(report), indent=2) + "\n"
