"""Start-up cost of the short runs on corpus B (issue 11 items 1 and 7), as CPU time, interleaved, same run.

Two cases, each run in fresh processes and timed as CPU seconds (user + system of the child), median of N:
- flake8 on one file of B, as an editor runs it at every save: plain flake8 (the plumego distribution hidden
  from flake8's plugin finder) against flake8 with the PLG plugin, default selection plus PLG, and with
  ``--select E999`` (no PLG code reported: no cost expected);
- ``plumego-lint check FILE`` (what pre-commit runs) from a fresh clone (no cache directory) and warm.
With ``--before DIR`` (a ``git archive`` of an older commit's plumego and plumego_lint), that code runs in the
same rounds on ``PYTHONPATH`` and its output must be identical. PYTHONDONTWRITEBYTECODE is removed from the
children's environment (bytecode is written in the warm-up run). Usage:
    git archive <commit> plumego plumego_lint | tar -x -C /tmp/before
    python bench/startup_cpu.py [--before /tmp/before] [--rounds 5]
Builds corpus B with lint_bench.py. Not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = """
import importlib.metadata as md, os, sys
from flake8.main.cli import main
if os.environ.get("PLUMEGO_BENCH_HIDE_PLG"):
    real = md.distributions
    md.distributions = lambda **kw: (d for d in real(**kw) if (d.metadata["Name"] or "").lower() != "plumego")
sys.exit(main())
"""
FLAKE8_FILES = ["corpus/copy3/core/cache/utils.py", "corpus/copy3/utils/text.py", "corpus/copy3/db/models/query.py"]
CHECK_FILE = "corpus/copy0/db/models/query.py"


def _cpu(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{cmd}: {out.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a directory holding an older plumego_lint (git archive), run alongside")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from lint_bench import PYPROJECT, build_project, download_django

    root = build_project(download_django(), "corpus_b", 10)
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    codes = {"after": {**base, "PYTHONPATH": str(ROOT)}}
    if args.before:
        codes = {"before": {**base, "PYTHONPATH": str(Path(args.before).resolve())}, **codes}
    plain = {**base, "PYTHONPATH": str(ROOT), "PLUMEGO_BENCH_HIDE_PLG": "1"}
    print(f"corpus B at {root}, median of {args.rounds}, load {os.getloadavg()}")
    selections = {"bench": PYPROJECT, "default": PYPROJECT.replace('select = ["PLG1", "PLG9"]\n', "")}
    try:
        for label, text in selections.items():
            (root / "pyproject.toml").write_text(text, encoding="utf-8")
            for extra in ([], ["--select", "E999"]):
                for file in FLAKE8_FILES:
                    cmd = [sys.executable, "-c", RUNNER, "--exit-zero", *extra, file]
                    envs = {"plain": plain, **codes}
                    outs = {k: _cpu(cmd, root, e)[1] for k, e in envs.items()}   # warm-up: bytecode, caches
                    if len({outs[k] for k in codes}) != 1:
                        raise SystemExit(f"flake8 output differs between the codes on {file}")
                    times: dict[str, list[float]] = {k: [] for k in envs}
                    for _ in range(args.rounds):
                        for k, e in envs.items():
                            times[k].append(_cpu(cmd, root, e)[0])
                    med = {k: statistics.median(v) for k, v in times.items()}
                    parts = " ".join(f"{k} {med[k]:.3f}s ({med[k] / med['plain']:.2f}x)" for k in codes)
                    print(f"  [{label}] flake8 {' '.join(extra) or 'default+PLG'} {file}: plain {med['plain']:.3f}s "
                          f"{parts}; {outs['after'].count(chr(10))} lines of output")
            cmd = [sys.executable, "-m", "plumego_lint", "check", "--exit-zero", "--format", "json", CHECK_FILE]
            times = {(k, m): [] for k in codes for m in ("fresh", "warm")}
            reports = set()
            for _ in range(args.rounds):
                for k, e in codes.items():
                    shutil.rmtree(root / ".plumego-lint-cache", ignore_errors=True)
                    for mode in ("fresh", "warm"):
                        elapsed, out = _cpu(cmd, root, e)
                        times[(k, mode)].append(elapsed)
                        reports.add(out)
            if len(reports) != 1:
                raise SystemExit("check FILE reports differ")
            for mode in ("fresh", "warm"):
                parts = " ".join(f"{k} {statistics.median(times[(k, mode)]):.3f}s "
                                 f"({min(times[(k, mode)]):.3f}-{max(times[(k, mode)]):.3f})" for k in codes)
                print(f"  [{label}] check FILE {mode}: {parts}")
    finally:
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
