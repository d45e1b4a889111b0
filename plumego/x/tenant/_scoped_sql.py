"""Tenant-scoped SQL: add the tenant predicate to one single-table SELECT, UPDATE, DELETE or INSERT ... VALUES,
through a real SQL parser (sqlglot), and refuse everything it cannot prove scoped.

Owns :class:`TenantSQL`. Fails closed: more than one statement, anything unparsable, joins (comma joins too),
subqueries, UNION/INTERSECT/EXCEPT, CTEs, table functions, INSERT ... SELECT, upserts (ON CONFLICT,
INSERT OR REPLACE), UPDATE ... FROM, DELETE ... USING, assignments to the tenant column, and any clause outside a
short allow-list raise :class:`UnsafeQueryError`. The tenant id is validated (``[A-Za-z0-9._-]``) and written as a
quoted literal, so the caller's own placeholders keep their positions. Go Plumego rewrites SQL with its own
tokenizer; a parser sees the statement's real structure. Install with ``pip install 'plumego[tenant]'``.
Imports the standard library and sqlglot.
"""

from __future__ import annotations

from typing import Any

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, SqlglotError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the tenant-scoped SQL helper needs sqlglot: pip install 'plumego[tenant]'") from exc

from ._core import TenantError, validate_tenant_id

__all__ = ["TenantSQL", "UnsafeQueryError"]


class UnsafeQueryError(TenantError, ValueError):
    """The statement cannot be proved to touch only one tenant's rows; nothing was run."""


# Clauses each statement may carry (sqlglot arg names; ``from`` was renamed ``from_`` in newer releases).
_ALLOWED_ARGS: dict[type, frozenset[str]] = {
    exp.Select: frozenset({"expressions", "from", "from_", "where", "group", "having", "order", "limit", "offset",
                           "distinct", "locks"}),
    exp.Update: frozenset({"this", "expressions", "where", "returning", "order", "limit"}),
    exp.Delete: frozenset({"this", "where", "returning", "order", "limit"}),
    exp.Insert: frozenset({"this", "expression", "returning"}),
}
# Node types refused anywhere in the tree.
_FORBIDDEN: tuple[type[exp.Expression], ...] = (
    exp.Join, exp.Subquery, exp.SetOperation, exp.With, exp.CTE, exp.Lateral, exp.Command, exp.Into, exp.Pivot,
    exp.TableSample, exp.Unnest,
)


def _identifier(name: str, what: str) -> str:
    if not name or not (name[0].isalpha() or name[0] == "_") or not all(c.isalnum() or c == "_" for c in name) \
            or not name.isascii():
        raise ValueError(f"{what} must be a plain SQL identifier")
    return name


class TenantSQL:
    """``TenantSQL(column="tenant_id", dialect="sqlite").scope(sql, tenant_id)`` returns the rewritten SQL.
    ``dialect`` is a sqlglot dialect name: ``sqlite``, ``postgres``, ``mysql``, ..."""

    def __init__(self, *, column: str = "tenant_id", dialect: str = "sqlite") -> None:
        self.column = _identifier(column, "tenant column")
        self.dialect = dialect

    def scope(self, sql: str, tenant_id: str) -> str:
        validate_tenant_id(tenant_id)
        if not isinstance(sql, str) or not sql.strip():
            raise UnsafeQueryError("empty statement")
        try:
            statements = [s for s in sqlglot.parse(sql, read=self.dialect, error_level=ErrorLevel.RAISE)
                          if s is not None]
        except (SqlglotError, ValueError, RecursionError) as exc:
            raise UnsafeQueryError(f"cannot parse the statement: {str(exc).splitlines()[0]}") from None
        if len(statements) != 1:
            raise UnsafeQueryError("exactly one statement is allowed")
        stmt = statements[0]
        allowed = _ALLOWED_ARGS.get(type(stmt))
        if allowed is None:
            raise UnsafeQueryError(f"only SELECT, UPDATE, DELETE and INSERT can be scoped, not {stmt.key.upper()}")
        extra = sorted(k for k, v in stmt.args.items() if v not in (None, False, []) and k not in allowed)
        if extra:
            raise UnsafeQueryError(f"clause(s) not allowed in a scoped statement: {', '.join(extra)}")
        for node in stmt.walk():
            if isinstance(node, _FORBIDDEN):
                raise UnsafeQueryError(f"{node.key.upper()} is not allowed in a scoped statement")
            if node is not stmt and isinstance(node, (exp.Select, exp.Values, exp.Update, exp.Delete, exp.Insert)):
                if not (isinstance(stmt, exp.Insert) and node is stmt.expression and isinstance(node, exp.Values)):
                    raise UnsafeQueryError("nested statements are not allowed")
        tables = list(stmt.find_all(exp.Table))
        if len(tables) != 1 or not isinstance(tables[0].this, exp.Identifier):
            raise UnsafeQueryError("exactly one plain table is allowed")
        table = tables[0]
        literal = exp.Literal.string(tenant_id)
        if isinstance(stmt, exp.Insert):
            self._scope_insert(stmt, literal)
        else:
            if isinstance(stmt, exp.Select) and stmt.args.get("from_", stmt.args.get("from")) is None:
                raise UnsafeQueryError("a SELECT without a table cannot be scoped")
            if isinstance(stmt, exp.Update):
                for assignment in stmt.expressions:
                    target = assignment.this if isinstance(assignment, exp.EQ) else None
                    if not isinstance(target, exp.Column) or target.name.lower() == self.column.lower():
                        raise UnsafeQueryError(f"an UPDATE may not assign {self.column}")
            qualifier = table.alias_or_name
            predicate = exp.EQ(this=exp.column(self.column, table=qualifier), expression=literal)
            where = stmt.args.get("where")
            condition: exp.Expression = predicate if where is None else exp.And(
                this=predicate, expression=exp.Paren(this=where.this))
            stmt.set("where", exp.Where(this=condition))
        try:
            return stmt.sql(dialect=self.dialect, comments=False)   # a re-rendered comment could close early
        except SqlglotError as exc:
            raise UnsafeQueryError(f"cannot render the statement: {exc}") from None

    def _scope_insert(self, stmt: exp.Insert, literal: exp.Expression) -> None:
        target = stmt.this
        if not isinstance(target, exp.Schema) or not target.expressions:
            raise UnsafeQueryError("an INSERT needs an explicit column list to be scoped")
        names = [c.name.lower() for c in target.expressions]
        if self.column.lower() in names:
            raise UnsafeQueryError(f"an INSERT may not set {self.column} itself")
        values = stmt.expression
        if not isinstance(values, exp.Values) or not values.expressions:
            raise UnsafeQueryError("only INSERT ... VALUES can be scoped")
        for row in values.expressions:
            if not isinstance(row, exp.Tuple) or len(row.expressions) != len(names):
                raise UnsafeQueryError("every VALUES row must match the column list")
            row.append("expressions", literal.copy())
        target.append("expressions", exp.to_identifier(self.column))

    def scope_params(self, sql: str, tenant_id: str, params: Any = ()) -> tuple[str, Any]:
        """``(scoped_sql, params)`` for ``cursor.execute(*TenantSQL(...).scope_params(sql, tenant, params))``."""
        return self.scope(sql, tenant_id), params
