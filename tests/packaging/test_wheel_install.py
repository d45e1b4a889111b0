"""A non-editable install, used from another folder, carries plumego's tiers as package data.

Builds the wheel, installs it into a brand-new virtualenv (dependencies from the package index)
and runs ``plumego-lint`` from a folder outside this source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(repo_root)], cwd=out)
    (built,) = out.glob("plumego-*.whl")
    return built


def test_wheel_ships_manifests_specs_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("plumego/py.typed", "plumego_lint/py.typed", "plumego/core/module.yaml",
                     "plumego/x/ai/provider/module.yaml", "plumego/_specs/dependency-rules.yaml",
                     "plumego/_specs/repo.yaml"):
        assert required in names, required
    assert not any(n.startswith("tests/") for n in names)


def test_installed_plumego_lint_reads_tiers_outside_the_tree(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    exe = str(env_dir / "bin" / "plumego-lint")
    version = _run([exe, "--version"], cwd=elsewhere, env=clean_env)
    assert version.stdout.startswith("plumego-lint ")
    listed = _run([exe, "tiers", "--format", "json"], cwd=elsewhere, env=clean_env)
    tiers = {row["module"]: row for row in json.loads(listed.stdout)}
    assert tiers["plumego.x.ai.provider"]["tier"] == "beta"
    assert tiers["plumego.x.ai"]["tier"] == "experimental"
    assert tiers["plumego.core"]["tier"] == "ga"
    assert str(env_dir) in _run([str(python), "-c", "import plumego; print(plumego.__file__)"],
                                cwd=elsewhere, env=clean_env).stdout
