"""examples/with_events as a user runs it, on each queue backend: an order is processed once, a failing consumer
is retried, an Idempotency-Key makes a retried POST return the same order (and a reused key with another body is
a conflict), an order accepted before a crash is processed after the restart, and plumego-lint passes on it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from example_server import REPO, call, serve


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services),
                        pytest.param("redis", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    if request.param == "sqlite":
        return ["--data-dir", str(tmp_path / "data")]
    if request.param == "postgres":
        base, schema = request.getfixturevalue("pg_schema")
        return ["--data-dir", str(tmp_path / "data"), "--backend", f"{base}?schema={schema}"]
    base, prefix = request.getfixturevalue("redis_namespace")
    return ["--data-dir", str(tmp_path / "data"), "--backend", f"{base}?prefix={prefix}"]


def wait_processed(url: str, order_id: str) -> dict[str, Any]:
    for _ in range(600):
        status, order = call(f"{url}/orders/{order_id}")
        if status == 200 and order["processed"]:
            return order
        time.sleep(0.05)
    raise AssertionError(f"order {order_id} was never processed")


def test_orders_flow(backend: list[str]) -> None:
    with serve("examples.with_events", *backend) as url:
        status, order = call(url + "/orders", {"item": "book", "qty": 2})
        assert status == 201 and order["processed"] is False
        assert wait_processed(url, order["id"])["attempts"] == 1
        status, flaky = call(url + "/orders", {"item": "flaky", "qty": 1})
        assert wait_processed(url, flaky["id"])["attempts"] == 2          # failed once, retried with back-off
        key = {"Idempotency-Key": f"k-{time.time_ns()}"}
        first = call(url + "/orders", {"item": "pen", "qty": 1}, headers=key)
        again = call(url + "/orders", {"item": "pen", "qty": 1}, headers=key)
        assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
        assert call(url + "/orders", {"item": "pen", "qty": 5}, headers=key)[0] == 409
        for bad in ({"item": "", "qty": 1}, {"item": "x", "qty": 0}, {"item": "x", "qty": True}, ["x"]):
            assert call(url + "/orders", bad)[0] == 400
        assert call(url + "/orders/nope")[0] == 404
        # The pen order's hand-over to the queue is asynchronous and nothing above waited for it: poll (a loaded
        # box lagged it past the first read).
        published = None
        for _ in range(600):
            published = call(url + "/healthz")[1]["published"]
            if published == 3:
                break
            time.sleep(0.05)
        assert published == 3


def test_an_order_accepted_before_a_crash_is_processed_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # the order is written as the app would have written it, but its hand-over to the queue never happened
    code = ("import asyncio, json, sys, time\n"
            "from pathlib import Path\n"
            "from plumego.store import SQLiteKVStore\n"
            "async def main():\n"
            "    Path(sys.argv[1]).mkdir(parents=True)\n"
            "    kv = SQLiteKVStore(Path(sys.argv[1]) / 'orders.db')\n"
            "    order = {'id': 'o-1', 'item': 'lamp', 'qty': 1, 'processed': False, 'created_at': time.time()}\n"
            "    await kv.set('order:o-1', json.dumps(order).encode())\n"
            "asyncio.run(main())\n")
    subprocess.run([sys.executable, "-c", code, str(data)], check=True, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    with serve("examples.with_events", "--data-dir", str(data)) as url:
        assert wait_processed(url, "o-1")["attempts"] == 1


def test_plumego_lint_service_mode() -> None:
    proc = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=REPO / "examples" / "with_events",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_backend_is_refused() -> None:
    proc = subprocess.run([sys.executable, "-m", "examples.with_events", "--port", "0", "--backend", "kafka://x"],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2 and "--backend" in proc.stderr
