"""Work proportional to the change (issue 11): plumego-lint vs import-linter after one edited file, `check FILE`,
and cold runs against CPython's parse floor, all in the same run on the lint benchmark's corpora.

Corpora as ``lint_bench.py`` builds them (A = Django, B = ten renamed copies). For each corpus and each rule
selection ("bench": the corpus config's ``select = ["PLG1", "PLG9"]``, like for like with import-linter's
contracts; "default": no ``select``, every family including the service rules), interleaved per round:

- parse floor: ``ast.parse`` of every file in one process per core (``parse_floor.wall``, no interpreter start);
- cold: both tools with their caches deleted (whole process, interpreter start-up included);
- edited: both tools warm, then one file's content changed (a comment line appended), then the tool run;
- check FILE, fresh clone: ``plumego-lint check FILE`` with no cache directory at all;
- check FILE, warm: the same with the cache directory of a whole run present.

Medians of ``--runs`` rounds; prints ratios against import-linter's run of the same kind in the same round.
Not a test: ``python bench/incremental_bench.py [--runs N] [--only A|B] [--select bench|default]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_bench import PYPROJECT, WORK, build_project, download_django, il_broken, pl_broken, timed  # noqa: E402
from parse_floor import wall  # noqa: E402

EDITED = "corpus/copy0/db/models/query.py"     # a large, central module (2,700 lines)
SELECTIONS = {"bench": PYPROJECT, "default": PYPROJECT.replace('select = ["PLG1", "PLG9"]\n', "")}


def _edit(path: Path, original: bytes, n: int) -> None:
    path.write_bytes(original + f"# edited {n}\n".encode())


def measure(root: Path, runs: int, selection: str) -> dict[str, float]:
    report = WORK / f"{root.name}-incr-report.json"
    lint = [sys.executable, "-m", "plumego_lint", "check", "--exit-zero", "--format", "json", "--output", str(report)]
    il_exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    pl_cache, il_cache = root / ".plumego-lint-cache", root / ".import_linter_cache"
    edited = root / EDITED
    original = edited.read_bytes()
    paths = sorted(str(p) for p in root.rglob("*.py"))
    files = len(paths)
    (root / "pyproject.toml").write_text(SELECTIONS[selection], encoding="utf-8")
    out: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        out.setdefault(key, []).append(value)
    try:
        for n in range(runs):
            add("floor", wall("ast.parse", paths, os.cpu_count() or 1))
            for cache in (pl_cache, il_cache):
                shutil.rmtree(cache, ignore_errors=True)
            # import-linter first: creating its cache directory changes the root's listing, which would make
            # plumego-lint's next run a (cheap) incremental run instead of the replay a warm run is
            elapsed, stdout = timed([il_exe], root)
            add("il_cold", elapsed)
            il = il_broken(stdout)
            add("pl_cold", timed(lint, root)[0])
            pl = pl_broken(report, files)
            if il != pl:
                raise SystemExit(f"verdicts differ: import-linter {sorted(il)}, plumego-lint {sorted(pl)}")
            add("pl_warm", timed(lint, root)[0])
            add("il_warm", timed([il_exe], root)[0])
            _edit(edited, original, 2 * n)
            add("pl_edited", timed(lint, root)[0])
            pl_broken(report, files)
            _edit(edited, original, 2 * n + 1)
            elapsed, stdout = timed([il_exe], root)
            add("il_edited", elapsed)
            il_broken(stdout)
            one = [sys.executable, "-m", "plumego_lint", "check", "--exit-zero", EDITED]
            add("pl_file_warm", timed(one, root)[0])
            shutil.rmtree(pl_cache, ignore_errors=True)
            add("pl_file_fresh", timed(one, root)[0])
            shutil.rmtree(pl_cache, ignore_errors=True)
    finally:
        edited.write_bytes(original)
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("A", "B"), default=None)
    parser.add_argument("--select", choices=tuple(SELECTIONS), default=None)
    args = parser.parse_args()
    django = download_django()
    print(f"load average before: {os.getloadavg()}")
    for label, (name, copies) in {"A": ("corpus_a", 1), "B": ("corpus_b", 10)}.items():
        if args.only and args.only != label:
            continue
        root = build_project(django, name, copies)
        for selection in SELECTIONS:
            if args.select and args.select != selection:
                continue
            t = measure(root, args.runs, selection)
            print(f"corpus {label}, selection {selection!r}, median of {args.runs}, load {os.getloadavg()[0]:.2f}")
            print(f"  parse floor (ast.parse, all cores)  {t['floor']:.2f}s")
            print(f"  cold      plumego-lint {t['pl_cold']:.2f}s  import-linter {t['il_cold']:.2f}s  "
                  f"= {t['pl_cold'] / t['floor']:.2f}x the parse floor, "
                  f"{t['pl_cold'] / t['il_cold']:.2f}x import-linter")
            print(f"  warm      plumego-lint {t['pl_warm']:.2f}s  import-linter {t['il_warm']:.2f}s  "
                  f"= {t['pl_warm'] / t['il_warm']:.2f}x")
            print(f"  edited    plumego-lint {t['pl_edited']:.2f}s  import-linter {t['il_edited']:.2f}s  "
                  f"= {t['pl_edited'] / t['il_edited']:.2f}x")
            print(f"  check FILE  fresh clone {t['pl_file_fresh']:.2f}s  warm {t['pl_file_warm']:.2f}s")
    return 0


if __name__ == "__main__":
    subprocess.run(["uptime"], check=False)
    sys.exit(main())
