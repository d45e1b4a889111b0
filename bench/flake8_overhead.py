"""How much the plumego-lint flake8 plugin adds to flake8's own time on Django's source (target: < 5%).

Runs flake8 on the same tree twice per round (timing CPU seconds of the flake8 process), without and with the PLG plugin (registered through a
``flake8.extension`` entry point in a dist-info folder on PYTHONPATH), alternating, and reports the best
of N rounds. The tree gets a pyproject.toml with a [tool.plumego-lint] table so the plugin treats it as
one service repo. Two settings: "as is" (every PLG finding reported; Django registers things at import,
so flake8 also pays to map `# noqa` comments in each file that gets a finding) and "ignored" (the same
rules run, their codes are ignored in config, so only the plugin's own work is measured). Usage:
    python bench/flake8_overhead.py [--wheel django-5.2.x-py3-none-any.whl] [--rounds 2] [--jobs 2]
Without --wheel it downloads Django with pip. Not a test: it takes minutes.
``--one-file --rounds N``: the editor case of issue 11 (flake8 on one file of the lint benchmark's corpus B,
plain and with the plugin, and with ``--select E999``), see ``_one_file``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import resource
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django_wheel(given: str | None, work: Path) -> Path:
    if given:
        return Path(given)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(work),
                    "django>=5.2,<5.3"], check=True, capture_output=True)
    return next(work.glob("[Dd]jango-*.whl"))


HIDE = "PLUMEGO_BENCH_HIDE_PLG"
# Runs flake8's CLI; when HIDE is set, the finder does not see the installed plumego distribution.
RUNNER = """
import importlib.metadata as md, os, sys
from flake8.main.cli import main
if os.environ.get("%s"):
    real = md.distributions
    md.distributions = lambda **kw: (d for d in real(**kw) if (d.metadata["Name"] or "").lower() != "plumego")
sys.exit(main())
""" % HIDE


def _flake8(tree: Path, env: dict[str, str], jobs: int) -> tuple[float, int]:
    """CPU seconds (user + system) of the flake8 process tree: steadier than wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", RUNNER, f"--jobs={jobs}", "--exit-zero", "django"], cwd=tree,
                         env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return elapsed, out.stdout.count("\n")


def _one_file(runs: int) -> int:
    """The editor case (issue 11): flake8 on ONE file of corpus B (lint_bench.py), plain vs with the plugin,
    whole-process wall time and CPU, interleaved, median of ``runs``; with flake8's default selection (plus
    PLG, which the plugin registers) and with ``--select E999`` (where no PLG code is reported)."""
    import statistics
    import time

    sys.path.insert(0, str(ROOT / "bench"))
    from lint_bench import PYPROJECT, build_project, download_django

    root = build_project(download_django(), "corpus_b", 10)
    selections = {"bench": PYPROJECT, "default": PYPROJECT.replace('select = ["PLG1", "PLG9"]\n', "")}
    files = ["corpus/copy3/db/models/query.py", "corpus/copy3/utils/text.py", "corpus/copy3/core/cache/utils.py"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    hide = {**env, HIDE: "1"}

    def run(extra: list[str], file: str, environ: dict[str, str]) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", RUNNER, "--exit-zero", *extra, file], cwd=root, env=environ,
                             capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            raise SystemExit(out.stderr)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    print(f"flake8 on one file of corpus B ({root}), median of {runs}, load {os.getloadavg()[0]:.2f}")
    try:
        for label, text in selections.items():
            (root / "pyproject.toml").write_text(text, encoding="utf-8")
            for file in files:
                lines = sum(1 for _ in (root / file).open(encoding="utf-8"))
                for extra in ([], ["--select", "E999"]):
                    rows: dict[str, list[tuple[float, float]]] = {"plain": [], "plugin": []}
                    run(extra, file, env)        # bytecode and the tree index written before timing
                    for _ in range(runs):
                        rows["plain"].append(run(extra, file, hide))
                        rows["plugin"].append(run(extra, file, env))
                    pw, pc = (statistics.median(v[i] for v in rows["plain"]) for i in (0, 1))
                    gw, gc = (statistics.median(v[i] for v in rows["plugin"]) for i in (0, 1))
                    flags = " ".join(extra) or "default selection + PLG"
                    print(f"  [{label} config] {file} ({lines} lines), {flags}: plain {pw:.3f}s (CPU {pc:.3f}s), "
                          f"with plugin {gw:.3f}s (CPU {gc:.3f}s) = {gw / pw:.2f}x wall, {gc / pc:.2f}x CPU")
    finally:
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="a Django wheel (default: pip download Django 5.2)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--one-file", action="store_true",
                        help="the editor case instead: flake8 on one file of corpus B, plain vs with the plugin")
    args = parser.parse_args()
    if args.one_file:
        return _one_file(max(args.rounds, 1))
    with tempfile.TemporaryDirectory(prefix="flake8-bench-") as tmp:
        work = Path(tmp)
        wheel = _django_wheel(args.wheel, work)
        tree = work / "tree"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tree, [n for n in archive.namelist() if n.startswith("django/") and n.endswith(".py")])
        (tree / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0"\n\n[tool.plumego-lint]\n')
        eps = work / "eps" / "plumego_lint_bench-0.0.0.dist-info"
        eps.mkdir(parents=True)
        (eps / "METADATA").write_text("Metadata-Version: 2.1\nName: plumego-lint-bench\nVersion: 0.0.0\n")
        (eps / "entry_points.txt").write_text(
            "[flake8.extension]\nPLG = plumego_lint.flake8_plugin:PlumegoFlake8Plugin\n")
        base_path = os.environ.get("PYTHONPATH", "")
        plain = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), base_path) if p)}
        with_plugin = {**plain, "PYTHONPATH": os.pathsep.join((plain["PYTHONPATH"], str(work / "eps")))}
        if any(e.name == "PLG" for e in entry_points(group="flake8.extension")):
            # plumego is installed, so flake8 finds PLG by itself: hide that distribution from flake8's
            # plugin finder in the baseline run, and only there
            plain = {**plain, HIDE: "1"}
            with_plugin = {**plain, HIDE: ""}
        files = sum(1 for _ in (tree / "django").rglob("*.py"))
        print(f"{wheel.name}: {files} files, flake8 --jobs={args.jobs}, best of {args.rounds}")
        for label, table in (("as is", ""), ("ignored", 'ignore = ["PLG"]\n')):
            (tree / "pyproject.toml").write_text(
                f'[project]\nname = "bench"\nversion = "0"\n\n[tool.plumego-lint]\n{table}')
            plain_times, plugin_times = [], []
            counts = (0, 0)
            for _ in range(args.rounds):
                t0, n0 = _flake8(tree, plain, args.jobs)
                t1, n1 = _flake8(tree, with_plugin, args.jobs)
                plain_times.append(t0)
                plugin_times.append(t1)
                counts = (n0, n1)
            best_plain, best_plugin = min(plain_times), min(plugin_times)
            overhead = (best_plugin - best_plain) / best_plain * 100
            print(f"  [{label}] flake8 alone {best_plain:6.2f} CPU s ({counts[0]} findings), "
                  f"with PLG {best_plugin:6.2f} CPU s "
                  f"({counts[1]} findings): overhead {overhead:+6.2f} % (target < 5%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
