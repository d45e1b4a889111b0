"""Every rule code plumego-lint can report, and the check that a ``--select``/``--ignore`` entry names one.

A leaf (standard library only): validating codes on the command line and in ``[tool.plumego-lint]`` must not
import the rule registry, which pulls in the specs and PyYAML. ``rules.RULES`` is the source of truth;
tests/lint/test_lint_cli_ux.py fails when this list drifts from it.
"""

from __future__ import annotations

from collections.abc import Iterable

CODES = frozenset({
    "PLG101", "PLG102", "PLG103", "PLG104", "PLG105", "PLG106", "PLG107", "PLG108", "PLG109", "PLG110", "PLG111",
    "PLG201", "PLG202", "PLG203", "PLG204",
    "PLG301", "PLG302", "PLG303", "PLG304", "PLG305",
    "PLG401", "PLG402", "PLG403", "PLG404", "PLG405", "PLG406", "PLG407", "PLG408", "PLG409", "PLG410", "PLG411",
    "PLG501",
    "PLG601", "PLG602", "PLG603",
    "PLG901", "PLG902", "PLG903",
})


def unknown_codes(entries: Iterable[str]) -> list[str]:
    """The entries that select no code: flake8-style prefixes (``PLG``, ``PLG1``, ``PLG10``) are fine as long as
    some code starts with them (case-insensitive); ``PLG99X`` or ``E501`` would silently select nothing."""
    return [e for e in entries if e.strip() and not any(code.startswith(e.strip().upper()) for code in CODES)]
