"""Service facts extraction, fast route vs full walk (CPU seconds, interleaved, median of 5) on corpus A.

``extract_facts`` walks a file once for imports, module-level shapes and (when the file mentions
``import_module``/``__import__``) dynamic imports, and a second time when it imports something tracked
(plumego modules and adapters in a service repo) to read attribute uses. The fast route skips every statement
below module level and every expression whose lines spell no ``import``, no dynamic-import function and no
tracked name; the full walk is the reference. Two settings: plumego only (the service default: corpus A is
Django, which imports no plumego, so there is no second walk) and every import tracked (a repo that imports
plumego in most files, the expensive case). Trees are parsed beforehand: only the extraction is timed.
Run after ``bench/lint_bench.py`` has built the corpora:

    python bench/service_facts_bench.py [CORPUS_DIR]

Must not be imported by tests: it only measures.
"""

from __future__ import annotations

import ast
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from plumego_lint.service.facts import extract_facts

CORPUS = Path(__file__).resolve().parent / ".work" / "corpus_a" / "corpus"
Track = Callable[[str], bool] | None


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else CORPUS
    if not corpus.is_dir():
        print(f"{corpus}: missing; run bench/lint_bench.py first", file=sys.stderr)
        return 2
    paths = sorted(Path(d, n) for d, _, names in os.walk(corpus) for n in names if n.endswith(".py"))
    items = [(data, ast.parse(data)) for data in (p.read_bytes() for p in paths)]

    def run(track: Track, fast: bool) -> float:
        start = time.process_time()
        for data, tree in items:
            extract_facts(tree, "corpus.x", False, lambda name: False, source=data, track=track, fast=fast)
        return time.process_time() - start

    settings: dict[str, Track] = {
        "plumego only (service default)": lambda m: m == "plumego" or m.startswith("plumego."),
        "every import tracked": None,
    }
    print(f"{corpus}: {len(items)} files, load average {os.getloadavg()[0]:.2f}")
    for label, track in settings.items():
        full: list[float] = []
        fast: list[float] = []
        for _ in range(5):
            full.append(run(track, False))
            fast.append(run(track, True))
        f, q = statistics.median(full), statistics.median(fast)
        print(f"  {label}: full {f:.3f} s CPU, fast {q:.3f} s CPU, ratio {q / f:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
