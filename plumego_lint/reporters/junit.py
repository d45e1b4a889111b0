"""JUnit XML: one test case per rule code that ran, a failure element per finding of severity error."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from plumego_lint.reporters import Report


def render(report: Report) -> str:
    by_code: dict[str, list[object]] = {}
    for f in report.findings:
        by_code.setdefault(f.code, []).append(f)
    failures = sum(1 for f in report.findings if f.severity == "error")
    suite = ET.Element("testsuite", name="plumego-lint", tests=str(len(report.rules)), failures=str(failures),
                       errors="0", skipped="0")
    for code, rule in report.rules.items():
        case = ET.SubElement(suite, "testcase", classname=f"plumego-lint.{code}", name=f"{code} {rule.name}")
        for f in report.findings:
            if f.code != code:
                continue
            tag = "failure" if f.severity == "error" else "system-out"
            el = ET.SubElement(case, tag)
            if tag == "failure":
                el.set("type", code)
                el.set("message", f.message)
            el.text = f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" + (f" [{f.source}]" if f.source else "")
    suites = ET.Element("testsuites", name="plumego-lint", tests=suite.get("tests", "0"), failures=str(failures))
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
