"""Parser floor: what a cold plumego-lint run cannot go below, next to import-linter's whole cold run.

A cold run must fully parse every file (a syntax error anywhere is PLG901, so no file may be skipped or
half-read). This script times, on the lint benchmark's corpora (built by ``lint_bench.py``: A = Django,
B = ten renamed copies), the parse step alone with every parser this machine can use from Python:

- ``ast.parse`` (what plumego-lint uses), in one process and in one process per core;
- ``symtable.symtable`` and ``compile`` to bytecode: CPython's C parser without building Python ``ast``
  objects (the cheapest full syntax check the standard library offers);
- tree-sitter's Python grammar (``pip install tree-sitter tree-sitter-python``), if installed;
- grimp's Rust scanner (ruff's parser on threads: the parse step of import-linter), if installed;

and import-linter's whole cold run (``lint-imports`` with its cache deleted) for the ratio. Not a test:
``python bench/parse_floor.py [--only A|B] [--runs N]``. Each figure is the median of N runs; the
machine is shared, so read ratios, not seconds.
"""

from __future__ import annotations

import argparse
import ast
import gc
import hashlib
import os
import shutil
import statistics
import symtable
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_bench import build_project, download_django, timed  # noqa: E402

Step = Callable[[str, bytes], object]


def _ast(path: str, data: bytes) -> object:
    return ast.parse(data, path)


def _symtable(path: str, data: bytes) -> object:
    return symtable.symtable(data.decode("utf-8"), path, "exec")


def _compile(path: str, data: bytes) -> object:
    return compile(data, path, "exec", dont_inherit=True)


def _hash(path: str, data: bytes) -> object:
    return hashlib.blake2b(data, digest_size=16).digest()


STEPS: dict[str, Step] = {"read+blake2b": _hash, "ast.parse": _ast, "symtable": _symtable, "compile": _compile}


def _run_paths(step: str, paths: list[str]) -> float:
    """CPU-bound worker: read and process ``paths``; returns its own elapsed seconds."""
    fn = STEPS[step]
    gc.disable()
    start = time.perf_counter()
    for p in paths:
        with open(p, "rb") as handle:
            fn(p, handle.read())
    return time.perf_counter() - start


def wall(step: str, paths: list[str], workers: int) -> float:
    if workers == 1:
        return _run_paths(step, paths)
    chunks = [paths[i::workers] for i in range(workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_run_paths, [step] * workers, chunks))
    return time.perf_counter() - start


def tree_sitter_seconds(paths: list[str]) -> float | None:
    try:
        import tree_sitter_python
        from tree_sitter import Language, Parser
    except ImportError:
        return None
    parser = Parser(Language(tree_sitter_python.language()))
    start = time.perf_counter()
    for p in paths:
        with open(p, "rb") as handle:
            parser.parse(handle.read()).root_node.has_error   # noqa: B018 - the error flag forces a full tree
    return time.perf_counter() - start


def grimp_seconds(root: Path) -> float | None:
    """grimp's private Rust entry point (its API may change between releases; None when it does)."""
    try:
        from grimp import _rustgrimp as rust  # type: ignore[attr-defined]
        from grimp.application.ports.modulefinder import FoundPackage, ModuleFile
        from grimp.domain.valueobjects import Module
    except ImportError:
        return None
    pkg = root / "corpus"
    files = set()
    for p in pkg.rglob("*.py"):
        parts = list(p.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files.add(ModuleFile(Module(".".join(parts)), 0.0))
    found = FoundPackage("corpus", str(pkg), frozenset(files))
    start = time.perf_counter()
    try:
        rust.scan_for_imports(module_files=tuple(files), found_packages={found}, include_external_packages=True,
                              exclude_type_checking_imports=False, file_system=rust.RealBasicFileSystem())
    except TypeError:
        return None
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("A", "B"), default=None)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    django = download_django()
    il_exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    for label, (name, copies) in {"A": ("corpus_a", 1), "B": ("corpus_b", 10)}.items():
        if args.only and args.only != label:
            continue
        root = build_project(django, name, copies)
        paths = sorted(str(p) for p in root.rglob("*.py"))
        size = sum(os.path.getsize(p) for p in paths) / 1e6
        rows: dict[str, list[float]] = {}
        for _ in range(args.runs):
            shutil.rmtree(root / ".import_linter_cache", ignore_errors=True)
            rows.setdefault("import-linter cold run (whole tool)", []).append(timed([il_exe], root)[0])
            for step in STEPS:
                rows.setdefault(f"{step}, 1 process", []).append(wall(step, paths, 1))
                if cores > 1:
                    rows.setdefault(f"{step}, {cores} processes", []).append(wall(step, paths, cores))
            ts = tree_sitter_seconds(paths)
            if ts is not None:
                rows.setdefault("tree-sitter parse, 1 process", []).append(ts)
            gs = grimp_seconds(root)
            if gs is not None:
                rows.setdefault("grimp Rust scan (ruff parser, threads)", []).append(gs)
        il = statistics.median(rows["import-linter cold run (whole tool)"])
        print(f"corpus {label}: {len(paths)} files, {size:.1f} MB, {cores} cores, median of {args.runs}")
        for key, values in rows.items():
            median = statistics.median(values)
            print(f"  {key:45s} {median:6.2f} s   {median / il:5.2f}x import-linter cold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
