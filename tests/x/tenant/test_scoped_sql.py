"""The tenant-scoped SQL helper: the tenant predicate lands in single-table statements (and really filters rows on
SQLite and PostgreSQL), and everything it cannot prove scoped fails closed, including hostile input."""

from __future__ import annotations

import sqlite3

import pytest

from plumego.x.tenant import InvalidTenantIDError, TenantSQL, UnsafeQueryError

SQL = TenantSQL()

SCOPED = [
    ("SELECT * FROM t AS x WHERE a = ? OR b = ? LIMIT ?",
     "SELECT * FROM t AS x WHERE x.tenant_id = 'acme' AND (a = ? OR b = ?) LIMIT ?"),
    ("SELECT id FROM t", "SELECT id FROM t WHERE t.tenant_id = 'acme'"),
    ("UPDATE t SET a = ? WHERE id = ?", "UPDATE t SET a = ? WHERE t.tenant_id = 'acme' AND (id = ?)"),
    ("DELETE FROM t WHERE id = ? OR 1 = 1", "DELETE FROM t WHERE t.tenant_id = 'acme' AND (id = ? OR 1 = 1)"),
    ("DELETE FROM t", "DELETE FROM t WHERE t.tenant_id = 'acme'"),
    ("INSERT INTO t (a, b) VALUES (?, ?), (1, 2) RETURNING id",
     "INSERT INTO t (a, b, tenant_id) VALUES (?, ?, 'acme'), (1, 2, 'acme') RETURNING id"),
    ("SELECT count(*) FROM t GROUP BY a HAVING count(*) > ?",
     "SELECT COUNT(*) FROM t WHERE t.tenant_id = 'acme' GROUP BY a HAVING COUNT(*) > ?"),
    ("SELECT * FROM t WHERE a = 1 OR tenant_id = 'other'",
     "SELECT * FROM t WHERE t.tenant_id = 'acme' AND (a = 1 OR tenant_id = 'other')"),
    ("SELECT * FROM t -- x */ UNION SELECT * FROM secrets --\n", "SELECT * FROM t WHERE t.tenant_id = 'acme'"),
    ("SELECT * FROM t;", "SELECT * FROM t WHERE t.tenant_id = 'acme'"),
]

HOSTILE = [
    "SELECT * FROM t; DROP TABLE t", "SELECT * FROM t WHERE id IN (SELECT id FROM u)",
    "WITH c AS (SELECT * FROM u) SELECT * FROM c", "SELECT * FROM t UNION SELECT * FROM u",
    "SELECT * FROM t UNION ALL SELECT * FROM t", "SELECT * FROM t INTERSECT SELECT * FROM t",
    "SELECT * FROM a JOIN b ON a.id = b.id", "SELECT * FROM a, b", "SELECT * FROM a LEFT JOIN b USING (id)",
    "UPDATE t SET tenant_id = ?", "UPDATE t SET a = 1, TENANT_ID = 'x'", "INSERT INTO t SELECT * FROM u",
    "INSERT INTO t (a) SELECT a FROM u", "INSERT INTO t VALUES (1, 2)", "INSERT INTO t (a, tenant_id) VALUES (1, 'x')",
    "INSERT OR REPLACE INTO t (a) VALUES (1)", "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING",
    "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", "REPLACE INTO t (a) VALUES (1)",
    "SELECT 1", "SELECT * FROM json_each(?)", "garbage", "", "   ", "PRAGMA table_info(t)",
    "ATTACH DATABASE 'x' AS y", "DROP TABLE t", "CREATE TABLE x (a INT)", "SELECT * FROM t WHERE",
    "SELECT (SELECT max(id) FROM u) FROM t", "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u)",
    "UPDATE t SET a = (SELECT b FROM u)", "SELECT * INTO x FROM t", "UPDATE t SET a = 1 FROM u",
    "DELETE FROM t USING u WHERE t.id = u.id", "SELECT * FROM t WHERE a = '1'; --", "VALUES (1)",
    "SELECT * FROM (SELECT * FROM t) AS s", "SELECT * FROM t WHERE id = 1; SELECT * FROM t",
    "SELECT * FROM t, LATERAL (SELECT 1) AS l", "(SELECT * FROM t)", "EXPLAIN SELECT * FROM t",
    "SELECT * FROM t WHERE a IN (SELECT 1 UNION SELECT 2)", "SELECT 'a' || (SELECT secret FROM u) FROM t",
    "\x00SELECT * FROM t", "SELECT * FROM t WHERE a = '\x00' ; DELETE FROM t",
]


@pytest.mark.parametrize(("sql", "expected"), SCOPED)
def test_scoped_statements(sql: str, expected: str) -> None:
    assert SQL.scope(sql, "acme") == expected


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_or_unscopable_statements_fail_closed(sql: str) -> None:
    with pytest.raises(UnsafeQueryError):
        SQL.scope(sql, "acme")


def test_bad_tenant_ids_and_columns_are_refused() -> None:
    for tenant in ("", "a'b", "a b", "x" * 256, "' OR '1'='1"):
        with pytest.raises(InvalidTenantIDError):
            SQL.scope("SELECT * FROM t", tenant)
    for column in ("", "a b", "t.id", "1x", "x;--"):
        with pytest.raises(ValueError):
            TenantSQL(column=column)


def test_rows_really_stay_in_their_tenant_on_sqlite() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tenant_id TEXT NOT NULL)")
    for tenant in ("acme", "beta"):
        db.execute(SQL.scope("INSERT INTO notes (body) VALUES (?), (?)", tenant), (f"{tenant}-1", f"{tenant}-2"))
    rows = db.execute(SQL.scope("SELECT body FROM notes WHERE body LIKE ? OR 1 = 1 ORDER BY id", "acme"),
                      ("%",)).fetchall()
    assert rows == [("acme-1",), ("acme-2",)]
    db.execute(SQL.scope("UPDATE notes SET body = ? WHERE 1 = 1", "beta"), ("gone",))
    db.execute(SQL.scope("DELETE FROM notes WHERE id > ?", "acme"), (1,))
    assert db.execute("SELECT tenant_id, body FROM notes ORDER BY id").fetchall() == [
        ("acme", "acme-1"), ("beta", "gone"), ("beta", "gone")]


@pytest.mark.services
def test_rows_really_stay_in_their_tenant_on_postgres(pg_schema: tuple[str, str]) -> None:
    import psycopg

    url, schema = pg_schema
    pg = TenantSQL(dialect="postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.notes (id SERIAL PRIMARY KEY, body TEXT, tenant_id TEXT NOT NULL)")
        for tenant in ("acme", "beta"):
            conn.execute(pg.scope(f"INSERT INTO {schema}.notes (body) VALUES (%s)", tenant), (f"{tenant}-1",))
        rows = conn.execute(pg.scope(f"SELECT body FROM {schema}.notes AS n WHERE n.id > %s OR TRUE", "beta"),
                            (0,)).fetchall()
        assert rows == [("beta-1",)]
        conn.execute(pg.scope(f"DELETE FROM {schema}.notes", "acme"))
        assert conn.execute(f"SELECT tenant_id FROM {schema}.notes").fetchall() == [("beta",)]
