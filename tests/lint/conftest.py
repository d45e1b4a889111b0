"""Shared helpers for the linter tests: run the CLI as a subprocess, read `# expect:` markers in fixtures."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

collect_ignore_glob = ["fixtures/*"]

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*(PLG\d{3}(?:\s*,\s*PLG\d{3})*)")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "plumego_lint", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def check_json(root: Path, *extra: str) -> tuple[int, dict[str, object]]:
    proc = run_cli("check", "--format", "json", "--no-cache", *extra, cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def expected_markers(root: Path) -> set[tuple[str, int, str]]:
    out: set[tuple[str, int, str]] = set()
    for file in sorted(root.rglob("*.py")):
        for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = _EXPECT.search(line)
            if m:
                for code in re.split(r"\s*,\s*", m.group(1)):
                    out.add((file.relative_to(root).as_posix(), number, code))
    return out


def found(payload: dict[str, object]) -> set[tuple[str, int, str]]:
    violations = payload["violations"]
    assert isinstance(violations, list)
    return {(v["path"], v["line"], v["code"]) for v in violations}


@pytest.fixture
def fixture_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, symlinks=True,
                        ignore=shutil.ignore_patterns(".plumego-lint-cache"))   # a fresh clone: no cache
        return target
    return copy


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of this project's own lintable tree (package, specs, docs, generated files)."""
    target = tmp_path / "repo"
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", ".plumego-lint-cache", "*.pyc")
    for name in ("plumego", "plumego_lint", "reference_app", "specs", "docs"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", ".importlinter", "README.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, target / name)
    return target
