"""SQLiteKVStore: contract, TTLs, literal prefix scans, atomic multi-writes, a dict model, and several processes."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumego.store import KVStore, SQLiteKVStore, ValueTooLargeError, prefix_upper_bound

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


async def test_contract_round_trip(tmp_path: Path) -> None:
    kv = SQLiteKVStore(tmp_path / "kv.db")
    assert isinstance(kv, KVStore)
    await kv.set("a", b"1")
    assert await kv.get("a") == b"1"
    assert await kv.exists("a")
    assert await kv.count() == 1
    assert await kv.delete("a") is True
    assert await kv.delete("a") is False
    assert await kv.get("a") is None
    assert kv.stats_sync().hits == 1
    await kv.close()


def test_wal_mode_and_durable_settings(tmp_path: Path) -> None:
    kv = SQLiteKVStore(tmp_path / "kv.db")
    kv.set_sync("k", b"v")
    conn = sqlite3.connect(tmp_path / "kv.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_ttl_hides_expired_and_set_if_absent_reclaims(tmp_path: Path) -> None:
    clock = FakeClock()
    kv = SQLiteKVStore(tmp_path / "kv.db", clock=clock)
    kv.set_sync("t", b"x", ttl=5)
    kv.set_sync("p", b"y")
    assert kv.set_if_absent_sync("t", b"other") is False
    clock.now += 5
    assert kv.get_sync("t") is None
    assert kv.keys_sync() == ["p"]
    assert kv.delete_sync("t") is False  # expired counts as absent
    kv.set_sync("t2", b"x", ttl=1)
    clock.now += 2
    assert kv.set_if_absent_sync("t2", b"new") is True
    assert kv.get_sync("t2") == b"new"
    kv.set_sync("t3", b"x", ttl=1)
    clock.now += 2
    assert kv.purge_expired_sync() == 1


def test_prefix_scan_is_literal(tmp_path: Path) -> None:
    kv = SQLiteKVStore(tmp_path / "kv.db")
    keys = ["user:1", "user:2", "USER:3", "user_x", "user%y", "users", "user:\U0010ffff", "user;"]
    kv.set_many_sync({k: k.encode() for k in keys})
    assert kv.keys_sync("user:") == ["user:1", "user:2", "user:\U0010ffff"]
    assert kv.keys_sync("user_") == ["user_x"]
    assert kv.keys_sync("user%") == ["user%y"]
    assert kv.scan_sync("user", limit=2) == [("user%y", b"user%y"), ("user:1", b"user:1")]
    assert kv.keys_sync() == sorted(keys)


def test_prefix_upper_bound() -> None:
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None
    assert prefix_upper_bound("\ud7ff") == "\ue000"


def test_set_many_is_all_or_nothing(tmp_path: Path) -> None:
    kv = SQLiteKVStore(tmp_path / "kv.db", max_value_bytes=10)
    with pytest.raises(ValueTooLargeError):
        kv.set_many_sync({"a": b"ok", "b": b"x" * 11})
    assert kv.count_sync() == 0

    class Boom(Exception):
        pass

    def rows() -> dict[str, bytes]:
        raise Boom

    kv.set_sync("keep", b"1")
    with pytest.raises(Boom):
        kv.set_many_sync(rows())
    assert kv.keys_sync() == ["keep"]


keys_st = st.text(alphabet="ab%_:\u00e9\U0010ffff", min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["set", "delete", "get", "scan", "setnx"]), keys_st, st.binary(max_size=8)),
        max_size=40,
    )
)
def test_matches_dict_model(tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str, bytes]]) -> None:
    kv = SQLiteKVStore(tmp_path_factory.mktemp("kv") / "kv.db")
    model: dict[str, bytes] = {}
    for op, key, value in ops:
        if op == "set":
            kv.set_sync(key, value)
            model[key] = value
        elif op == "setnx":
            assert kv.set_if_absent_sync(key, value) == (key not in model)
            model.setdefault(key, value)
        elif op == "delete":
            assert kv.delete_sync(key) == (key in model)
            model.pop(key, None)
        elif op == "get":
            assert kv.get_sync(key) == model.get(key)
        else:
            assert kv.scan_sync(key) == sorted((k, v) for k, v in model.items() if k.startswith(key))
    assert kv.scan_sync() == sorted(model.items())
    kv.close_sync()


_WRITER = textwrap.dedent(
    """
    import hashlib, sys
    from plumego.store import SQLiteKVStore
    kv = SQLiteKVStore(sys.argv[1])
    i = 0
    while True:
        key = f"k{i:07d}"
        kv.set_sync(key, hashlib.sha256(key.encode()).digest() * (1 + i % 64))
        print(key, flush=True)  # acknowledged: only printed after the commit returned
        i += 1
    """
)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db)], stdout=subprocess.PIPE, text=True, env=_env()
    )
    assert proc.stdout is not None
    acked: list[str] = []
    for line in proc.stdout:
        acked.append(line.strip())
        if len(acked) >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writer is inside its next transaction or print
    acked.extend(line.strip() for line in proc.stdout)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    kv = SQLiteKVStore(db)
    for key in acked:
        value = kv.get_sync(key)
        i = int(key[1:])
        assert value == hashlib.sha256(key.encode()).digest() * (1 + i % 64), key
    # no half-written row: every stored value is one of the complete values the writer produced
    for key, value in kv.scan_sync():
        i = int(key[1:])
        assert value == hashlib.sha256(key.encode()).digest() * (1 + i % 64)
    assert kv.count_sync() in (len(acked), len(acked) + 1)


_CONCURRENT = textwrap.dedent(
    """
    import sys
    from plumego.store import SQLiteKVStore
    kv = SQLiteKVStore(sys.argv[1], busy_timeout=60)
    worker = sys.argv[2]
    won = []
    for i in range(60):
        kv.set_sync(f"w{worker}:{i:03d}", worker.encode())
        if kv.set_if_absent_sync(f"shared:{i:03d}", worker.encode()):
            won.append(i)
        kv.set_many_sync({f"pair:{worker}:{i}:a": b"1", f"pair:{worker}:{i}:b": b"2"})
    print(" ".join(map(str, won)))
    """
)


def test_concurrent_writers_from_several_processes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    SQLiteKVStore(db).close_sync()  # create the schema once so workers race only on data
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, str(db), str(w)], stdout=subprocess.PIPE, text=True, env=_env()
        )
        for w in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    wins = [int(i) for out in outputs for i in out.split()]
    assert sorted(wins) == list(range(60))  # each shared key claimed by exactly one process
    kv = SQLiteKVStore(db)
    for w in range(4):
        assert len(kv.keys_sync(f"w{w}:")) == 60
        assert len(kv.keys_sync(f"pair:{w}:")) == 120
    assert kv.count_sync() == 4 * 60 + 60 + 4 * 120
