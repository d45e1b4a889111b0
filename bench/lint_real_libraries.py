"""What plumego-lint reports on real libraries (issue 11, items 3 and 6): a reproduction, not a timing.

Downloads the wheels of Django, requests, rich and SQLAlchemy from PyPI (``pip download NAME --no-deps``) into
bench/.work/, unpacks each as a repo (SQLAlchemy in its ``lib/`` layout) and prints:

1. Django with six deny-only dependency rules (an import-linter user's forbidden contracts): plumego-lint's
   findings by code next to import-linter's broken edges for the same contracts (they must be the same edges,
   and nothing else).
2. The service hygiene and naming rules (PLG2xx, PLG6xx) on each library, by code, and whether each false alarm
   the issue lists is still reported.

Run by hand: ``python bench/lint_real_libraries.py``; nothing is timed. ``PLUMEGO_LINT_SRC=/other/checkout``
runs another checkout's plumego-lint on the same trees (before/after a change).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "libs"
LIBRARIES = ("django", "requests", "rich", "sqlalchemy")
DENY_ONLY = {"utils": ["db", "contrib"], "http": ["db", "contrib"], "dispatch": ["db", "http", "contrib"],
             "template": ["db"], "core": ["contrib/admin"], "db": ["contrib/admin", "views"]}
# (library, path, how the reported line starts, whether the block below it counts): the false alarms issue 11
# item 6 lists (the main guard's findings were on the lines of its body, which runs to the end of the file)
FALSE_ALARMS = [
    ("rich", "rich/ansi.py", 'if sys.platform != "win32" and __name__ == "__main__":', True),
    ("requests", "requests/__init__.py", "logging.getLogger(__name__).addHandler(NullHandler())", False),
    ("sqlalchemy", "lib/sqlalchemy/sql/functions.py", "func.__doc__ = _FunctionGenerator.__doc__", False),
    ("django", "django/views/decorators/http.py", "require_GET.__doc__ = ", False),
    ("requests", "requests/utils.py", None, False),        # PLG201 on a module file of a package
]


def download(name: str) -> Path:
    target = WORK / "download"
    target.mkdir(parents=True, exist_ok=True)
    found = sorted(p for p in target.glob("*.whl") if p.name.lower().startswith(name))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", name, "--no-deps", "--only-binary=:all:", "-d",
                        str(target), "-q"], check=True)
        found = sorted(p for p in target.glob("*.whl") if p.name.lower().startswith(name))
    return found[-1]


def unpack(name: str) -> Path:
    root = WORK / name
    if not (root / "pyproject.toml").is_file():
        shutil.rmtree(root, ignore_errors=True)
        dest = root / "lib" if name == "sqlalchemy" else root
        with zipfile.ZipFile(download(name)) as zf:
            zf.extractall(dest, [m for m in zf.namelist() if m.startswith(f"{name}/")])
        # an own (empty) table: otherwise the project root found from here would be this repository
        (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n\n[tool.plumego-lint]\n', encoding="utf-8")
    return root


def lint(root: Path, *args: str) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": os.environ.get("PLUMEGO_LINT_SRC", str(REPO))}
    proc = subprocess.run([sys.executable, "-m", "plumego_lint", "check", "--no-cache", "--format", "json", *args],
                          cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"plumego-lint failed in {root}: {proc.stderr}")
    violations: list[dict[str, object]] = json.loads(proc.stdout)["violations"]
    return violations


def deny_only_case() -> None:
    src = unpack("django")
    root = WORK / "django-deny-only"
    if not (root / "django").is_dir():
        shutil.copytree(src / "django", root / "django")
    (root / "specs").mkdir(exist_ok=True)
    (root / "specs/repo.yaml").write_text("repo:\n  name: django\n  module: django\n", encoding="utf-8")
    rules = "".join(f"  {m}:\n    path: {m}\n    deny: [{', '.join(d)}]\n" for m, d in DENY_ONLY.items())
    (root / "specs/dependency-rules.yaml").write_text("modules:\n" + rules, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.plumego-lint]\nspecs = "specs"\n', encoding="utf-8")
    found = lint(root, "--select", "PLG1,PLG9")
    ours = sorted(f"{v['path']}:{v['line']}" for v in found if v["code"] == "PLG101")
    print(f"1. Django, six deny-only rules: plumego-lint findings by code: {dict(Counter(v['code'] for v in found))}")
    contracts = ["[importlinter]", "root_package = django", ""]
    for m, denied in DENY_ONLY.items():
        contracts += [f"[importlinter:contract:{m}]", f"name = {m}", "type = forbidden", f"source_modules = django.{m}",
                      "forbidden_modules =", *(f"    django.{d.replace('/', '.')}" for d in denied),
                      "allow_indirect_imports = True", ""]
    (root / ".importlinter").write_text("\n".join(contracts), encoding="utf-8")
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    proc = subprocess.run([lint_imports, "--no-cache"], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          capture_output=True, text=True)
    edges = sorted(f"{m.group(1).replace('.', '/')}.py:{m.group(2)}"
                   for m in re.finditer(r"^-\s+(\S+) -> \S+ \(l\.(\d+)\)", proc.stdout, re.MULTILINE))
    print(f"   import-linter broken edges: {len(edges)}; plumego-lint PLG101: {len(ours)}; "
          f"same edges: {edges == ours}")


def hygiene_case() -> None:
    print("2. PLG2xx/PLG6xx on real libraries (service mode, default configuration):")
    for name in LIBRARIES:
        found = lint(unpack(name), "--select", "PLG2,PLG6")
        print(f"   {name:<11} {dict(sorted(Counter(str(v['code']) for v in found).items()))}")
        for library, path, text, block in FALSE_ALARMS:
            if library != name:
                continue
            root = WORK / name
            if text is None:
                hit = [v for v in found if v["path"] == path]
                where = f"{path} (PLG201)"
            else:
                lines = (root / path).read_text(encoding="utf-8").splitlines()
                numbers = {i for i, line in enumerate(lines, 1) if line.startswith(text)}
                if block:
                    numbers = set(range(min(numbers), len(lines) + 1))
                hit = [v for v in found if v["path"] == path and v["line"] in numbers]
                where = f"{path}:{min(numbers)}" + ("-end" if block else "")
            print(f"     false alarm {where}: {'STILL REPORTED' if hit else 'not reported'}")


if __name__ == "__main__":
    deny_only_case()
    hygiene_case()
