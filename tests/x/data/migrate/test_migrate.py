"""Migrations on SQLite and PostgreSQL: up, status, down, a failing migration rolled back, an edited migration
refused, files loaded from a directory, and concurrent runners applying each migration exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plumego.x.data.migrate import Migration, MigrationError, Migrator, load_migrations, open_migrator, split_sql

MIGRATIONS = [
    Migration(1, "create_users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
              "DROP TABLE users;"),
    Migration(2, "seed", "INSERT INTO users (id, name) VALUES (1, 'semi;colon');\nCREATE TABLE log (n INTEGER);",
              "DROP TABLE log;\nDELETE FROM users WHERE id = 1;"),
    Migration(3, "count_runs", "INSERT INTO log (n) VALUES (3);"),          # no down step
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    base, schema = request.getfixturevalue("pg_schema")
    return f"{base}{'&' if '?' in base else '?'}schema={schema}"


async def rows(migrator: Migrator, sql: str) -> list[Any]:
    """Read through the engine's own connection (search_path / file)."""
    engine: Any = migrator.engine
    if hasattr(engine, "_db"):
        with engine._db.read() as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    cursor = await engine._conn.execute(sql)
    return [tuple(r) for r in await cursor.fetchall()]


async def test_up_status_down(db_url: str) -> None:
    m = await open_migrator(db_url, MIGRATIONS)
    try:
        assert [s.state for s in await m.status()] == ["pending"] * 3
        assert await m.up(target=2) == [1, 2]
        assert [(s.version, s.state) for s in await m.status()] == [(1, "applied"), (2, "applied"), (3, "pending")]
        assert await rows(m, "SELECT name FROM users") == [("semi;colon",)]
        assert await m.up() == [3] and await m.up() == []
        with pytest.raises(MigrationError, match="no down step"):
            await m.down()
        assert await m.up() == []
    finally:
        await m.close()
    m = await open_migrator(db_url, MIGRATIONS[:2] + [Migration(3, "count_runs", MIGRATIONS[2].up,
                                                                "DELETE FROM log WHERE n = 3;")])
    try:
        assert await m.down(steps=2) == [3, 2]
        assert await rows(m, "SELECT COUNT(*) FROM users") == [(0,)]
        assert [s.state for s in await m.status()] == ["applied", "pending", "pending"]
        assert await m.up() == [2, 3]
    finally:
        await m.close()


async def test_failing_migration_is_rolled_back(db_url: str) -> None:
    broken = MIGRATIONS[:1] + [Migration(2, "half", "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);")]
    m = await open_migrator(db_url, broken)
    try:
        with pytest.raises(MigrationError, match="migration 2 \\(half\\) up failed and was rolled back"):
            await m.up()
        assert [s.state for s in await m.status()] == ["applied", "pending"]
        with pytest.raises(Exception):
            await rows(m, "SELECT * FROM half")                           # the CREATE went with the rollback
    finally:
        await m.close()


async def test_edited_or_unknown_migrations_are_refused(db_url: str) -> None:
    m = await open_migrator(db_url, MIGRATIONS[:2])
    await m.up()
    await m.close()
    edited = [MIGRATIONS[0], Migration(2, "seed", MIGRATIONS[1].up + "\n-- edited", MIGRATIONS[1].down)]
    m = await open_migrator(db_url, edited)
    try:
        assert [s.state for s in await m.status()] == ["applied", "changed"]
        with pytest.raises(MigrationError, match="edited"):
            await m.up()
    finally:
        await m.close()
    m = await open_migrator(db_url, MIGRATIONS[:1])
    try:
        assert [s.state for s in await m.status()] == ["applied", "missing"]
        with pytest.raises(MigrationError, match="not known"):
            await m.up()
    finally:
        await m.close()


async def test_concurrent_runners_apply_each_once(db_url: str) -> None:
    runners = [await open_migrator(db_url, MIGRATIONS) for _ in range(4)]
    try:
        results = await asyncio.gather(*(r.up() for r in runners))
        assert sorted(v for applied in results for v in applied) == [1, 2, 3]
        assert await rows(runners[0], "SELECT n FROM log") == [(3,)]
    finally:
        for r in runners:
            await r.close()


def test_load_migrations_and_split(tmp_path: Path) -> None:
    (tmp_path / "0002_b.up.sql").write_text("CREATE TABLE b (x INTEGER);")
    (tmp_path / "0001_a.up.sql").write_text("CREATE TABLE a (x INTEGER);")
    (tmp_path / "0001_a.down.sql").write_text("DROP TABLE a;")
    (tmp_path / "README.md").write_text("ignored")
    loaded = load_migrations(tmp_path)
    assert [(m.version, m.name, m.down) for m in loaded] == [(1, "a", "DROP TABLE a;"), (2, "b", None)]
    (tmp_path / "0009_orphan.down.sql").write_text("DROP TABLE x;")
    with pytest.raises(MigrationError, match="without an up"):
        load_migrations(tmp_path)
    assert split_sql("CREATE TABLE t (s TEXT);\nINSERT INTO t VALUES ('a;b');\n-- done\n") == [
        "CREATE TABLE t (s TEXT);", "INSERT INTO t VALUES ('a;b');"]
    with pytest.raises(ValueError, match="incomplete"):
        split_sql("CREATE TABLE t (s TEXT")
    with pytest.raises(ValueError):
        Migration(0, "zero", "SELECT 1")
