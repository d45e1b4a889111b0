"""`plumego-lint init` never writes a config that guards nothing: stable_paths stays unset (every first-party
package, now and later), src/ and lib/ layouts are found, what it chose is printed, a missing --root is exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTAL = "import plumego.x.ai\n"     # an experimental plumego API (PLG301 outside an adapter)


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "plumego_lint", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def package(root: Path, dotted: str, body: str = "") -> None:
    parts = dotted.split(".")
    for depth in range(1, len(parts) + 1):
        path = root.joinpath(*parts[:depth])
        path.mkdir(parents=True, exist_ok=True)
        (path / "__init__.py").write_text(body if depth == len(parts) else "", encoding="utf-8")


def table(root: Path) -> dict[str, object]:
    section = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["plumego-lint"]
    assert isinstance(section, dict)
    return section


def test_init_in_an_empty_repo_guards_packages_added_later(tmp_path: Path) -> None:
    proc = cli(["init"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "first-party packages: none yet" in proc.stderr
    assert "stable: every first-party package, including ones added later (stable_paths not set)" in proc.stderr
    assert "stable_paths" not in table(tmp_path)
    package(tmp_path, "orders", EXPERIMENTAL)           # added after init
    check = cli(["check", "--no-cache"], tmp_path)
    assert check.returncode == 1 and "orders/__init__.py:1:1: PLG301 experimental plumego API" in check.stdout


def test_init_finds_a_lib_layout(tmp_path: Path) -> None:
    package(tmp_path / "lib", "sqlalchemy.sql", EXPERIMENTAL)
    package(tmp_path, "test")                          # a test package at the root does not make it flat
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "sqlalchemy"\n', encoding="utf-8")
    proc = cli(["init"], tmp_path)
    assert proc.returncode == 0
    assert 'layout: lib/ layout: source_roots = ["lib"]' in proc.stderr
    assert "first-party packages: sqlalchemy" in proc.stderr
    assert table(tmp_path)["source_roots"] == ["lib"]
    check = cli(["check", "--no-cache"], tmp_path)
    assert check.returncode == 1 and "lib/sqlalchemy/sql/__init__.py:1:1: PLG301" in check.stdout


def test_init_finds_a_src_layout_and_prefers_own_root_packages_over_lib(tmp_path: Path) -> None:
    src = tmp_path / "src_repo"
    package(src / "src", "app")
    proc = cli(["init", "--print"], src)
    assert proc.returncode == 0 and 'source_roots = ["src"]' in proc.stdout and "(found now: app)" in proc.stdout
    assert not (src / "pyproject.toml").exists()
    flat = tmp_path / "flat_repo"
    package(flat, "app")
    package(flat / "lib", "vendored")
    proc = cli(["init", "--print"], flat)
    assert 'source_roots = ["."]' in proc.stdout and "flat layout" in proc.stderr


def test_init_on_a_missing_root_is_a_usage_error_and_creates_nothing(tmp_path: Path) -> None:
    proc = cli(["init", "--root", str(tmp_path / "nope")], tmp_path)
    assert proc.returncode == 2 and "is not a directory" in proc.stderr
    assert not (tmp_path / "nope").exists()


def test_check_warns_when_an_explicit_stable_paths_guards_nothing(tmp_path: Path) -> None:
    """What `init` used to write in an empty repo: every later run says so (a replayed run too)."""
    (tmp_path / "pyproject.toml").write_text("[tool.plumego-lint]\nstable_paths = []\n", encoding="utf-8")
    package(tmp_path, "orders", EXPERIMENTAL)
    for _ in range(2):      # the second run is replayed from the cache
        proc = cli(["check"], tmp_path)
        assert proc.returncode == 0 and proc.stdout == ""
        assert proc.stderr == ("plumego-lint: warning: pyproject.toml:2: stable_paths = [] guards nothing (PLG301 is "
                               "off everywhere); remove the key to make every first-party package stable, or ignore "
                               "PLG301 if that is the intent\n")
    assert list((tmp_path / ".plumego-lint-cache").glob("cli-*.marshal"))
