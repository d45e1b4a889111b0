"""docs/rules.md is generated from the rule registry: it must match what `explain --markdown` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from plumego_lint.generate import RULES_DOC, render_rules_reference
from plumego_lint.rules import RULES

ROOT = Path(__file__).resolve().parents[2]


def test_rules_doc_matches_the_registry() -> None:
    expected = render_rules_reference(RULES.values())
    actual = (ROOT / RULES_DOC).read_text(encoding="utf-8")
    assert actual == expected, "docs/rules.md drifted: run `plumego-lint explain --markdown > docs/rules.md`"


def test_every_code_has_an_anchored_section_with_its_explain_text() -> None:
    text = (ROOT / RULES_DOC).read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert f"\n## {code}\n" in text
        assert f"(#{code.lower()})" in text
        assert rule.explain in text


def test_explain_markdown_cli_prints_the_reference() -> None:
    proc = subprocess.run([sys.executable, "-m", "plumego_lint", "explain", "--markdown"], capture_output=True,
                          text=True, check=True)
    assert proc.stdout == render_rules_reference(RULES.values())
