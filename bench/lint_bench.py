"""Linter speed benchmark: plumego-lint vs import-linter on Django's source and on a 10x renamed copy.

Downloads the Django wheel from PyPI (``pip download django --no-deps``), unpacks it, and builds two
projects under bench/.work/: A = one copy, B = ten copies, each a package ``corpus.copyN`` with every
``django`` reference renamed. Both tools get equivalent rules (two direct "forbidden" edges per copy),
then run cold (no cache), warm (cache present, nothing changed) and "restored" (a fresh copy of the tree,
as a CI checkout, with both tools' cache directories carried over, as actions/cache restores them). Prints
times and the ratios plumego-lint / import-linter. Not a test: run it by hand,
``python bench/lint_bench.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
BUILD_VERSION = "v2"   # bump when the corpus recipe changes: old trees are rebuilt
# Like for like with import-linter's forbidden contracts: the import rules (PLG1xx) and parse errors (PLG9xx).
# Without `select`, a repo that is not plumego's also runs the service family (PLG2xx/3xx/6xx hygiene rules on
# every file's syntax tree), which import-linter has no equivalent of.
PYPROJECT = '[tool.plumego-lint]\nspecs = "specs"\nselect = ["PLG1", "PLG9"]\n'
RULES = [("db", "contrib/**"), ("utils", "db/**")]   # (module, denied) per copy: `utils` must not import `db`, ...


def download_django() -> Path:
    dl = WORK / "download"
    wheels = sorted(dl.glob("Django-*.whl")) + sorted(dl.glob("django-*.whl"))
    if not wheels:
        dl.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "django", "--no-deps", "--only-binary=:all:",
                        "-d", str(dl), "-q"], check=True)
        wheels = sorted(dl.glob("*.whl"))
    src = WORK / "django_src"
    if not (src / "django").is_dir():
        shutil.rmtree(src, ignore_errors=True)
        with zipfile.ZipFile(wheels[-1]) as zf:
            zf.extractall(src)
    return src / "django"


def build_project(django: Path, name: str, copies: int) -> Path:
    root = WORK / name
    marker = root / ".built"
    if marker.exists() and marker.read_text(encoding="utf-8") == BUILD_VERSION:
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        return root
    shutil.rmtree(root, ignore_errors=True)
    pkg = root / "corpus"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    # `def django(self)` (contrib/gis/gdal/geomtype.py) must keep its name: renaming it to a dotted name is a
    # syntax error, and import-linter stops at the first syntax error (it then "finishes" in a fraction of the
    # time a full graph build takes, which made the first published import-linter figures meaningless).
    word = re.compile(rb"(?<!def )\bdjango\b")
    for i in range(copies):
        target = pkg / f"copy{i}"
        for path in django.rglob("*.py"):
            out = target / path.relative_to(django)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(word.sub(f"corpus.copy{i}".encode(), path.read_bytes()))
    (root / "specs").mkdir()
    (root / "specs/repo.yaml").write_text("repo:\n  name: corpus\n  module: corpus\n", encoding="utf-8")
    lines = ["rules:", "  stable_must_not_depend_on_extension: false", "modules:"]
    il = ["[importlinter]", "root_package = corpus", ""]
    for i in range(copies):
        for module, denied in RULES:
            lines += [f"  copy{i}/{module}:", f"    path: copy{i}/{module}", "    layer: library",
                      "    allow: [stdlib, '**']", f"    deny: [copy{i}/{denied}]"]
            il += [f"[importlinter:contract:copy{i}-{module}]", f"name = copy{i}.{module} deny", "type = forbidden",
                   f"source_modules =\n    corpus.copy{i}.{module}",
                   f"forbidden_modules =\n    corpus.copy{i}.{denied.removesuffix('/**').replace('/', '.')}",
                   "allow_indirect_imports = True", ""]
    (root / "specs/dependency-rules.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / ".importlinter").write_text("\n".join(il), encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    marker.write_text(BUILD_VERSION, encoding="utf-8")
    return root


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=f"{cwd}{os.pathsep}{REPO}")
    env.pop("PYTHONDONTWRITEBYTECODE", None)    # measure installed-tool conditions (bytecode cached)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def il_broken(stdout: str) -> set[str]:
    """Names of the broken contracts in a completed import-linter run; exits if the run did not complete."""
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", stdout)
    if summary is None:     # e.g. a syntax error: import-linter stops early, so its time would be meaningless
        raise SystemExit(f"import-linter did not complete:\n{stdout[-2000:]}")
    return set(re.findall(r"^(copy\d+\.\w+) deny BROKEN", stdout, re.MULTILINE))


def pl_broken(report: Path, files: int) -> set[str]:
    """Rules with a PLG101 finding in a plumego-lint JSON report; exits on a parse error or a short file count."""
    data = json.loads(report.read_text(encoding="utf-8"))
    if data["summary"]["files"] != files or any(v["code"] == "PLG901" for v in data["violations"]):
        raise SystemExit(f"plumego-lint did not check every file cleanly: {data['summary']}")
    found = set()
    for v in data["violations"]:
        m = re.search(r"denied by module (copy\d+)/(\w+)", v["message"])
        if v["code"] == "PLG101" and m:
            found.add(f"{m.group(1)}.{m.group(2)}")
    return found


def measure(root: Path, runs: int, files: int) -> dict[str, float]:
    report = WORK / f"{root.name}-report.json"
    lint = [sys.executable, "-m", "plumego_lint", "check", "--exit-zero", "--format", "json", "--output", str(report)]
    il_exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    caches = [root / ".plumego-lint-cache", root / ".import_linter_cache"]
    out: dict[str, list[float]] = {"pl_cold": [], "pl_warm": [], "il_cold": [], "il_warm": [], "il_nocache": []}
    for _ in range(runs):
        for c in caches:
            shutil.rmtree(c, ignore_errors=True)
        for key, cmd in (("pl_cold", lint), ("pl_warm", lint), ("il_cold", [il_exe]), ("il_warm", [il_exe]),
                         ("il_nocache", [il_exe, "--no-cache"])):
            elapsed, stdout = timed(cmd, root)
            out[key].append(elapsed)
            if key.startswith("il"):
                il = il_broken(stdout)
            else:
                pl = pl_broken(report, files)
        if not (root / ".import_linter_cache").is_dir():
            raise SystemExit("import-linter wrote no .import_linter_cache: its warm runs would be cold runs")
        if il != pl:     # the same rules must give the same verdicts, or the comparison is not like for like
            raise SystemExit(f"verdicts differ: import-linter broken {sorted(il)}, plumego-lint {sorted(pl)}")
        # CI: a fresh checkout (new inodes, ctimes and mtimes, another path) with both tools' cache directories
        # restored from an earlier run (actions/cache). copyfile, not copy2: git sets new mtimes on checkout.
        restored = WORK / f"{root.name}-restored"
        shutil.rmtree(restored, ignore_errors=True)
        shutil.copytree(root, restored, copy_function=shutil.copyfile)
        for key, cmd in (("pl_restored", lint), ("il_restored", [il_exe])):
            elapsed, stdout = timed(cmd, restored)
            out.setdefault(key, []).append(elapsed)
            if key.startswith("il"):
                il = il_broken(stdout)
            else:
                pl = pl_broken(report, files)
        shutil.rmtree(restored, ignore_errors=True)
        if il != pl:
            raise SystemExit(f"verdicts differ after restore: import-linter {sorted(il)}, plumego-lint {sorted(pl)}")
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("A", "B"), default=None)
    args = parser.parse_args()
    django = download_django()
    corpora = {"A": ("corpus_a", 1), "B": ("corpus_b", 10)}
    for label, (name, copies) in corpora.items():
        if args.only and args.only != label:
            continue
        root = build_project(django, name, copies)
        files = sum(1 for _ in root.rglob("*.py"))
        t = measure(root, args.runs, files)
        print(f"corpus {label}: {files} files, median of {args.runs}")
        print(f"  plumego-lint  cold {t['pl_cold']:.2f}s  warm {t['pl_warm']:.2f}s")
        print(f"  import-linter cold {t['il_cold']:.2f}s  warm {t['il_warm']:.2f}s  --no-cache {t['il_nocache']:.2f}s")
        print(f"  ratio cold {t['pl_cold'] / t['il_cold']:.2f}x (target <= 1.5)   "
              f"warm {t['pl_warm'] / t['il_warm']:.2f}x (target <= 0.25)")
        print(f"  CI (fresh checkout, caches restored): plumego-lint {t['pl_restored']:.2f}s  "
              f"import-linter {t['il_restored']:.2f}s  ratio {t['pl_restored'] / t['il_restored']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
