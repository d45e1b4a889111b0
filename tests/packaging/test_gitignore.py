"""Running the demo leaves nothing untracked: its data directory is ignored by git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_demo_data_dir_is_ignored() -> None:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", "-q", ".data/items.sqlite3"], cwd=REPO_ROOT, timeout=30)
    assert done.returncode == 0, ".data/ (the reference app's default --data-dir) must be in .gitignore"
