"""SARIF 2.1.0 for GitHub code scanning: rule metadata with help, repo-relative URIs under ``%SRCROOT%``,
and ``partialFingerprints`` that survive line moves (``plumegoEdge/v1`` = hash of rule, importer, subject)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from plumego_lint.reporters import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def fingerprint(code: str, importer: str, subject: str) -> str:
    return hashlib.sha256(f"{code}|{importer}|{subject}".encode()).hexdigest()[:32]


def payload(report: Report) -> dict[str, object]:
    codes = list(report.rules)
    rules = [{
        "id": code, "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explain},
        "help": {"text": f"{rule.explain}\n\nSpec: {rule.spec_key}. Run `plumego-lint explain {code}`.",
                 "markdown": f"**{code} {rule.name}**: {rule.explain}\n\nSpec: `{rule.spec_key}`."},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["architecture", "plumego"], "precision": "very-high"},
    } for code, rule in report.rules.items()]
    seen: Counter[str] = Counter()
    results = []
    for f in report.findings:
        edge = fingerprint(*f.key)
        seen[edge] += 1
        result: dict[str, object] = {
            "ruleId": f.code,
            "level": _LEVEL[f.severity],
            "message": {"text": f.message + (f" (spec: {f.source})" if f.source else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line, "startColumn": f.column},
            }}],
            "partialFingerprints": {"plumegoEdge/v1": f"{edge}:{seen[edge]}"},
        }
        if f.code in codes:
            result["ruleIndex"] = codes.index(f.code)
        results.append(result)
    return {
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [{
            "tool": {"driver": {"name": "plumego-lint", "version": report.tool_version, "rules": rules}},
            "automationDetails": {"id": "plumego-lint/"},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file://" + report.root.rstrip("/") + "/"}},
            "results": results,
        }],
    }


def render(report: Report) -> str:
    return json.dumps(payload(report), indent=2) + "\n"
