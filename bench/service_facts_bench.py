"""Service facts extraction, fast route vs full walk (CPU seconds, median of 3) on Django's source.

``extract_facts`` walks a file twice when it imports something tracked (plumego modules and adapters in a
service repo): the second walk reads expressions for attribute uses. The fast route skips every expression
whose lines spell no tracked name; the full walk is the reference. Two settings: every import tracked (a
repo that imports plumego in most files, the expensive case) and plumego only (Django imports no plumego,
so no second walk happens). Run after ``bench/lint_bench.py`` has downloaded Django:

    python bench/service_facts_bench.py

Must not be imported by tests: it only measures.
"""

from __future__ import annotations

import ast
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from plumego_lint.service.facts import extract_facts

DJANGO = Path(__file__).resolve().parent / ".work" / "django_src" / "django"


def main() -> int:
    if not DJANGO.is_dir():
        print(f"{DJANGO}: not downloaded; run bench/lint_bench.py first", file=sys.stderr)
        return 2
    items = [(data, ast.parse(data)) for data in (p.read_bytes() for p in sorted(DJANGO.rglob("*.py")))]

    def run(track: Callable[[str], bool] | None, fast: bool) -> float:
        start = time.process_time()
        for data, tree in items:
            extract_facts(tree, "django.x", False, lambda name: False, source=data, track=track, fast=fast)
        return time.process_time() - start

    settings: dict[str, Callable[[str], bool] | None] = {
        "every import tracked": None,
        "plumego only (service default)": lambda m: m == "plumego" or m.startswith("plumego."),
    }
    print(f"{len(items)} files")
    for label, track in settings.items():
        full = statistics.median(run(track, False) for _ in range(3))
        fast = statistics.median(run(track, True) for _ in range(3))
        print(f"  {label}: full {full:.2f} s CPU, fast {fast:.2f} s CPU, ratio {fast / full:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
