"""The flake8 plugin in editors: it does nothing when flake8 reports no PLG code, and otherwise the work of
one file (the project's layout comes from the tree index), with the CLI's per-file findings.

flake8 runs as a subprocess, as editors run it, and finds the plugin through its entry point.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from flake8.main.application import Application

from plumego_lint.flake8_plugin import PlumegoFlake8Plugin

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LINE = re.compile(r"^(?:\./)?(?P<path>[^:\s]+\.py):(?P<line>\d+):(?P<col>\d+): (?P<code>PLG\d{3}) ")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if any(e.name == "PLG" for e in entry_points(group="flake8.extension")):
        return {**os.environ, "PYTHONPATH": str(REPO)}
    eps = tmp_path_factory.mktemp("entrypoints")
    dist = eps / "plumego_lint_entrypoint-0.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plumego-lint-entrypoint\nVersion: 0.0.0\n")
    (dist / "entry_points.txt").write_text("[flake8.extension]\nPLG = plumego_lint.flake8_plugin:PlumegoFlake8Plugin\n")
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{eps}"}


def _flake8(args: list[str], cwd: Path, env: dict[str, str]) -> set[tuple[str, int, int, str]]:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--exit-zero", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {(m["path"], int(m["line"]), int(m["col"]), m["code"])
            for m in (LINE.match(line) for line in proc.stdout.splitlines()) if m}


@pytest.mark.parametrize(("argv", "expected"), [
    (["--select", "E999"], set()),
    (["--ignore", "PLG"], set()),
    (["--select", "PLG1", "--extend-ignore", "PLG107"], {f"PLG{n}" for n in range(100, 200)} - {"PLG107"}),
    (["--select", "E,PLG11"], {f"PLG{n}" for n in range(110, 120)}),
    ([], {f"PLG{n}" for n in range(100, 1000)}),     # the plugin registers PLG: flake8's default selection
])
def test_selected_codes_are_the_ones_flake8_reports(argv: list[str], expected: set[str]) -> None:
    app = Application()
    app.initialize([*argv, "x.py"])
    assert PlumegoFlake8Plugin.selected == expected


def test_unselected_plugin_does_no_work(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rules", root, ignore=shutil.ignore_patterns(".plumego-lint-cache"))
    target = "shop/core/__init__.py"
    assert not _flake8(["--select", "E999", target], root, env)
    assert not (root / ".plumego-lint-cache").exists()      # no project was built: the tree index is unwritten
    found = _flake8(["--select", "PLG", target], root, env)
    assert {code for *_, code in found} >= {"PLG101", "PLG102", "PLG104"}
    assert list((root / ".plumego-lint-cache").glob("tree-*.marshal"))


def test_plugin_and_cli_agree_file_by_file(tmp_path: Path, env: dict[str, str]) -> None:
    """Per-file codes (boundaries); PLG9xx is flake8's own E999, project-wide rules stay in the CLI."""
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rules", root, ignore=shutil.ignore_patterns(".plumego-lint-cache"))
    proc = subprocess.run([sys.executable, "-m", "plumego_lint", "check", "--no-cache", "--format", "json"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    data = json.loads(proc.stdout)
    cli = {(v["path"], v["line"], v["column"], v["code"]) for v in data["violations"]
           if v["path"].endswith(".py") and v["code"][:4] == "PLG1" and v["code"] != "PLG106"}
    assert cli
    for _ in range(2):      # cold (walks the tree, writes the tree index), then warm (from the index)
        assert _flake8(["--select", "PLG", "."], root, env) == cli
