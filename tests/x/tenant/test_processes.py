"""Limits that hold across processes, for real: N worker processes charging one tenant at once on the shared
SQLite or Redis state together never admit more than the quota or the bucket's capacity (and admit exactly that
much: nothing is lost either). The memory backend says it is per process (capabilities.shared is False)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SHARED_BACKENDS

CHILD = Path(__file__).with_name("quota_child.py")
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("state_url", SHARED_BACKENDS, indirect=True)
async def test_worker_processes_together_never_exceed_the_quota(state_url: str) -> None:
    workers, attempts, quota = 4, 20, 50
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen([sys.executable, str(CHILD), state_url, str(attempts), str(quota), "1700000080"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
                for _ in range(workers)]
    try:
        for child in children:
            assert child.stdout is not None
            assert (await asyncio.to_thread(child.stdout.readline)).strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [await asyncio.to_thread(c.communicate, timeout=120) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert all(c.returncode == 0 for c in children), outputs
    admitted = [tuple(int(n) for n in out.split()) for out, _ in outputs]
    assert sum(a for a, _ in admitted) == quota          # 120 attempts, exactly the quota admitted
    assert sum(t for _, t in admitted) == quota          # the bucket (capacity 50, ~no refill) likewise
