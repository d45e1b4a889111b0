"""Route single-table SQL to its shard and rewrite the table name, through a real SQL parser (sqlglot).

Owns :class:`ShardRouter`, :class:`RoutePlan` and the cross-shard policies. A statement is routed only when the
parser proves it safe: exactly one SELECT, INSERT ... VALUES, UPDATE or DELETE on one unqualified table, its shard
key pinned by ``=``, ``IN`` or (range strategies) ``BETWEEN`` in a plain AND chain. Joins, subqueries, UNION /
INTERSECT / EXCEPT, CTEs, OR, RETURNING, INSERT ... SELECT, schema-qualified tables and UPDATEs of the key
column are refused (fail closed), as in Go. A statement that names no key is cross-shard: ``deny`` (the default)
refuses it, ``first`` sends it to the first candidate shard, ``first_success`` tries candidates in order. The
rewrite replaces only the table identifier in the syntax tree: literals, placeholders and comments survive.
Parsed statements are cached by text. Go hand-writes this parser; sqlglot is a maintained one. Install with
``pip install 'plumego[data]'``. Imports the standard library, this package and, lazily, sqlglot.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._strategy import ShardingError, ShardingRule, ShardingRules

__all__ = ["CROSS_SHARD_POLICIES", "CrossShardError", "PoolShard", "RoutePlan", "ShardExecutor", "ShardRouter"]

CROSS_SHARD_POLICIES = ("deny", "first", "first_success")
Params = Sequence[Any] | Mapping[str, Any] | None


class CrossShardError(ShardingError):
    """The statement would touch several shards (or names no shard key) and the policy is ``deny``."""


class ShardExecutor(Protocol):
    """One shard's connection(s): run a statement, return its rows (empty for writes without RETURNING)."""

    async def execute(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """Where a statement goes: candidate shards in order and the rewritten SQL for each."""

    table: str
    shards: list[int]
    statements: dict[int, str]
    cross_shard: bool


def _sqlglot() -> Any:
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("the shard router needs sqlglot: pip install 'plumego[data]'") from exc
    return sqlglot, exp


class ShardRouter:
    def __init__(self, rules: ShardingRules | Sequence[ShardingRule], *, dialect: str = "postgres",
                 cross_shard: str = "deny", default_shard: int | None = None, cache_size: int = 1024) -> None:
        if cross_shard not in CROSS_SHARD_POLICIES:
            raise ValueError(f"cross_shard must be one of {', '.join(CROSS_SHARD_POLICIES)}")
        self.rules = rules if isinstance(rules, ShardingRules) else ShardingRules(rules)
        self.dialect = dialect
        self.cross_shard = cross_shard
        self.default_shard = default_shard
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = cache_size

    # -- parsing ------------------------------------------------------------------------------------------------

    def _parse(self, sql: str) -> Any:
        cached = self._cache.get(sql)
        if cached is not None:
            self._cache.move_to_end(sql)
            return cached
        sqlglot, exp = _sqlglot()
        try:
            statements = [s for s in sqlglot.parse(sql, read=self.dialect) if s is not None]
        except sqlglot.errors.ParseError as exc:
            raise ShardingError(f"cannot parse the statement: {exc}") from None
        if len(statements) != 1:
            raise ShardingError("exactly one statement is allowed")
        tree = statements[0]
        self._refuse_unsafe(tree, exp)
        self._cache[sql] = tree
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return tree

    @staticmethod
    def _refuse_unsafe(tree: Any, exp: Any) -> None:
        if not isinstance(tree, (exp.Select, exp.Insert, exp.Update, exp.Delete)):
            raise ShardingError(f"only SELECT, INSERT, UPDATE and DELETE can be routed, not {tree.key.upper()}")
        checks = ((exp.Join, "joins"), (exp.With, "CTEs"), (exp.CTE, "CTEs"), (exp.Subquery, "subqueries"),
                  (exp.Union, "UNION"), (exp.Intersect, "INTERSECT"), (exp.Except, "EXCEPT"),
                  (exp.Or, "OR conditions"), (exp.Returning, "RETURNING"))
        for kind, what in checks:
            if tree.find(kind) is not None:
                raise ShardingError(f"{what} cannot be routed to one shard safely")
        selects = list(tree.find_all(exp.Select))
        if len(selects) > (1 if isinstance(tree, exp.Select) else 0):
            raise ShardingError("subqueries (and INSERT ... SELECT) cannot be routed safely")
        tables = list(tree.find_all(exp.Table))
        if len(tables) != 1:
            raise ShardingError("exactly one table is allowed")
        if tables[0].args.get("db") or tables[0].args.get("catalog"):
            raise ShardingError("schema-qualified tables are not routed")

    # -- key extraction ----------------------------------------------------------------------------------------

    @staticmethod
    def _bind(tree: Any, exp: Any, params: Params) -> dict[int, Any]:
        """Placeholder node id -> value, positional (``%s``, in text order) or named (``%(name)s``)."""
        holders = list(tree.find_all(exp.Placeholder, bfs=False))
        bound: dict[int, Any] = {}
        positional = [h for h in holders if not h.this]
        if positional:
            if not isinstance(params, Sequence) or isinstance(params, (str, bytes)) or len(params) != len(positional):
                raise ShardingError(f"the statement has {len(positional)} positional parameters")
            bound.update({id(h): v for h, v in zip(positional, params)})
        for h in holders:
            if h.this:
                name = h.this if isinstance(h.this, str) else h.this.name
                if not isinstance(params, Mapping) or name not in params:
                    raise ShardingError(f"parameter {name!r} is not bound")
                bound[id(h)] = params[name]
        return bound

    @staticmethod
    def _value(node: Any, exp: Any, bound: dict[int, Any]) -> Any:
        if isinstance(node, exp.Placeholder):
            return bound[id(node)]
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            return -ShardRouter._value(node.this, exp, bound)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return node.this
            text = node.this
            return int(text) if text.lstrip("-").isdigit() else float(text)
        raise ShardingError(f"the shard key must be compared with a literal or a parameter, not {node.sql()}")

    def _is_key(self, node: Any, exp: Any, rule: ShardingRule) -> bool:
        return isinstance(node, exp.Column) and node.name.lower() == rule.key_column.lower()

    def _where_shards(self, tree: Any, exp: Any, rule: ShardingRule, bound: dict[int, Any]) -> list[int] | None:
        where = tree.args.get("where")
        if where is None:
            return None
        conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
        for cond in conjuncts:
            if isinstance(cond, exp.Paren):
                cond = cond.unnest()
            if isinstance(cond, exp.EQ):
                left, right = cond.this, cond.expression
                if self._is_key(right, exp, rule):
                    left, right = right, left
                if self._is_key(left, exp, rule):
                    return [rule.shard_for(self._value(right, exp, bound))]
            elif isinstance(cond, exp.In) and self._is_key(cond.this, exp, rule) and not cond.args.get("query"):
                shards = {rule.shard_for(self._value(v, exp, bound)) for v in cond.expressions}
                return sorted(shards)
            elif isinstance(cond, exp.Between) and self._is_key(cond.this, exp, rule):
                low = self._value(cond.args["low"], exp, bound)
                high = self._value(cond.args["high"], exp, bound)
                span = rule.strategy.shard_range(low, high, rule.shard_count)
                if span is not None:
                    return span
        return None

    def _insert_shards(self, tree: Any, exp: Any, rule: ShardingRule, bound: dict[int, Any]) -> list[int]:
        schema = tree.this
        columns = [c.name.lower() for c in schema.expressions] if isinstance(schema, exp.Schema) else []
        if rule.key_column.lower() not in columns:
            raise ShardingError(f"an INSERT must name the shard key column {rule.key_column}")
        values = tree.expression
        if not isinstance(values, exp.Values):
            raise ShardingError("only INSERT ... VALUES can be routed")
        index = columns.index(rule.key_column.lower())
        shards = {rule.shard_for(self._value(row.expressions[index], exp, bound)) for row in values.expressions}
        if len(shards) > 1:
            raise CrossShardError("the rows of one INSERT belong to different shards: insert them separately")
        return sorted(shards)

    # -- routing -----------------------------------------------------------------------------------------------

    def route(self, sql: str, params: Params = None) -> RoutePlan:
        _, exp = _sqlglot()
        tree = self._parse(sql)
        table_node = tree.find(exp.Table)
        rule = self.rules.get(table_node.name)
        if rule is None:
            if self.default_shard is None:
                raise ShardingError(f"table {table_node.name} has no sharding rule and there is no default shard")
            return RoutePlan(table_node.name, [self.default_shard], {self.default_shard: sql}, False)
        bound = self._bind(tree, exp, params)
        if isinstance(tree, exp.Update):
            for assignment in tree.expressions:
                if self._is_key(assignment.this, exp, rule):
                    raise ShardingError("an UPDATE may not change the shard key (the row would change shards)")
        if isinstance(tree, exp.Insert):
            shards: list[int] | None = self._insert_shards(tree, exp, rule, bound)
        else:
            shards = self._where_shards(tree, exp, rule, bound)
        cross = shards is None or len(shards) > 1
        if cross:
            if self.cross_shard == "deny":
                raise CrossShardError(f"the statement is not pinned to one shard of {rule.table} by "
                                      f"{rule.key_column} (cross-shard policy: deny)")
            candidates = shards if shards is not None else list(range(rule.shard_count))
            shards = candidates[:1] if self.cross_shard == "first" else candidates
        assert shards is not None
        statements = {}
        for shard in shards:
            copy = tree.copy()
            copy.find(exp.Table).set("this", exp.to_identifier(rule.physical(shard)))
            statements[shard] = copy.sql(dialect=self.dialect)
        return RoutePlan(rule.table, shards, statements, cross)

    async def execute(self, shards: Sequence[ShardExecutor], sql: str,
                      params: Params = None) -> list[tuple[Any, ...]]:
        """Route, then run on the chosen shard (``first_success``: the first candidate that does not fail)."""
        plan = self.route(sql, params)
        last: Exception | None = None
        for shard in plan.shards:
            if not 0 <= shard < len(shards):
                raise ShardingError(f"shard {shard} has no executor ({len(shards)} configured)")
            try:
                return await shards[shard].execute(plan.statements[shard], params)
            except Exception as exc:
                if self.cross_shard != "first_success" or not plan.cross_shard:
                    raise
                last = exc
        raise ShardingError(f"every candidate shard failed: {last}") from last


class PoolShard:
    """A :class:`ShardExecutor` over a psycopg async pool (or anything with ``connection()``)."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def execute(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            if cursor.description is None:
                return []
            rows: list[tuple[Any, ...]] = await cursor.fetchall()
            return rows

