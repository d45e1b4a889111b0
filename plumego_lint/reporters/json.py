"""JSON format, exactly the DESIGN.md schema (version 1): tool, root, summary and violations."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _encode_str

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
    data = payload(report)
    violations = data.pop("violations")
    out: list[str] = []
    _indented(data, "\n", out)
    assert out[-1] == "\n}"
    if not violations:
        out[-1] = ',\n  "violations": []\n}\n'
        return "".join(out)
    out[-1] = ',\n  "violations": [\n    '
    enc = _encode_str
    out.append(",\n    ".join(
        f'{{\n      "code": {enc(f.code)},\n      "severity": {enc(f.severity)},\n      "path": {enc(f.path)},'
        f'\n      "line": {int.__repr__(f.line)},\n      "column": {int.__repr__(f.column)},'
        f'\n      "message": {enc(f.message)},\n      "source": {"null" if f.source is None else enc(f.source)}'
        f'\n    }}' for f in report.findings))
    out.append("\n  ]\n}\n")
    return "".join(out)


def _indented(value: object, newline: str, out: list[str]) -> None:
    """What ``json.dumps(value, indent=2)`` writes, byte for byte, for the payload's types (dicts with string
    keys, lists, strings, ints, bools, None). The standard library encodes indented output in pure Python
    (its C encoder is used only without ``indent``): a report of thousands of findings took 0.1 s; this
    encodes every string with the C function that ``json.dumps`` uses for it."""
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON report keys are strings, not {type(key).__name__}")
            out.append(("{" if first else ",") + inner + _encode_str(key) + ": ")
            first = False
            _indented(item, inner, out)
        out.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        for i, item in enumerate(value):
            out.append(("[" if i == 0 else ",") + inner)
            _indented(item, inner, out)
        out.append(newline + "]")
    else:
        out.append(json.dumps(value))
