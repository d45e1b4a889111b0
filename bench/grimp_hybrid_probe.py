"""Probe: could grimp's Rust scanner be plumego-lint's cold-path parser? (issue 3's cold target)

Measures the one hybrid route that stays exact without a parser of our own: grimp (import-linter's graph
library, ruff's parser on threads) builds the import graph and reports each import's line through its public
API; a file whose import lines are all top-level statements (column 0, found by a line scan that agrees exactly
with grimp's lines) and that has no ``import_module``/``__import__`` could take its facts from those lines alone;
every other file still needs the full ``ast.parse`` for its context (function level, TYPE_CHECKING, try/except).

Prints, per corpus: grimp's graph build, the line scan, how many files fall back, and the single-process
``ast.parse`` time of the fallback files. Run after ``bench/lint_bench.py`` has built the corpora:

    python bench/grimp_hybrid_probe.py [--corpus bench/.work/corpus_b]

Must not import plumego_lint: it measures the parsers, not the linter.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP_LEVEL_IMPORT = re.compile(rb"^(?:from|import)\b", re.MULTILINE)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def probe(root: Path) -> None:
    sys.path.insert(0, str(root))
    import grimp  # noqa: PLC0415 - optional, only for this probe (import-linter's dependency)

    t0 = time.perf_counter()
    graph = grimp.build_graph("corpus", include_external_packages=True, cache_dir=None)
    t1 = time.perf_counter()
    lines: dict[str, set[int]] = {}
    for importer in graph.modules:
        if not importer.startswith("corpus"):
            continue
        found: set[int] = set()
        for imported in graph.find_modules_directly_imported_by(importer):
            found.update(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported))
        lines[importer] = found
    t2 = time.perf_counter()

    files = [Path(d, f) for d, _, names in os.walk(root / "corpus") for f in names if f.endswith(".py")]
    fallback: list[Path] = []
    fallback_bytes = total_bytes = 0
    for path in files:
        data = path.read_bytes()
        total_bytes += len(data)
        at: set[int] = set()
        line, last = 1, 0
        for m in TOP_LEVEL_IMPORT.finditer(data):
            line += data.count(b"\n", last, m.start())
            last = m.start()
            at.add(line)
        if at != lines.get(module_name(root, path)) or b"import_module" in data or b"__import__" in data:
            fallback.append(path)
            fallback_bytes += len(data)
    t3 = time.perf_counter()
    for path in fallback:
        ast.parse(path.read_bytes())
    t4 = time.perf_counter()
    for path in files:
        ast.parse(path.read_bytes())
    t5 = time.perf_counter()
    print(f"{root.name}: {len(files)} files, {total_bytes / 1e6:.1f} MB")
    print(f"  grimp build_graph (threads)          {t1 - t0:6.2f} s")
    print(f"  grimp import details                 {t2 - t1:6.2f} s")
    print(f"  line scan + agreement check          {t3 - t2:6.2f} s")
    print(f"  files that need the full parse       {len(fallback)} ({100 * len(fallback) / len(files):.0f}% of files, "
          f"{100 * fallback_bytes / total_bytes:.0f}% of bytes)")
    print(f"  ast.parse of those, 1 process        {t4 - t3:6.2f} s")
    print(f"  ast.parse of every file, 1 process   {t5 - t4:6.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append",
                        help="a corpus built by lint_bench.py (default: corpus_a and corpus_b)")
    args = parser.parse_args()
    corpora = args.corpus or [HERE / ".work" / "corpus_a", HERE / ".work" / "corpus_b"]
    for root in corpora:
        if not (root / "corpus").is_dir():
            print(f"{root}: not built; run bench/lint_bench.py first", file=sys.stderr)
            return 2
        if len(corpora) == 1:
            probe(root.resolve())
        else:   # each corpus's package is named `corpus`: one process per corpus keeps imports apart
            subprocess.run([sys.executable, __file__, "--corpus", str(root)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
