"""The Repository protocol the DB resource controller runs on, and the table description every backend shares.

Owns :class:`Column`, :class:`TableSpec` (checked identifiers: the only names ever spliced into SQL), records
(plain dicts: ``id``, the columns, ``created_at``, ``updated_at``), value checking and coercion per column type,
and :class:`RepositoryCapabilities` (documented backend differences). Imports the standard library and
plumego.contract.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from ._query import Query, invalid_query

__all__ = [
    "Column",
    "ColumnType",
    "DuplicateError",
    "Record",
    "Repository",
    "RepositoryCapabilities",
    "RepositoryError",
    "TableSpec",
    "check_identifier",
]

ColumnType = Literal["text", "integer", "real", "boolean"]
Record = dict[str, Any]

_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_RESERVED_COLUMNS: Final = frozenset({"id", "created_at", "updated_at", "deleted_at"})
_INT64: Final = (-(1 << 63), (1 << 63) - 1)


class RepositoryError(Exception):
    """A storage failure; the controller answers 500 with a safe message (the text here is logged, not sent)."""


class DuplicateError(RepositoryError):
    """A write would repeat a ``unique`` column's value; the controller answers 409 naming the column."""

    def __init__(self, column: str) -> None:
        super().__init__(f"duplicate value for {column}")
        self.column = column


def check_identifier(name: str, what: str) -> str:
    """Table, schema and column names are spliced into SQL, so each must be a plain identifier."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} name {name!r} must be a plain SQL identifier (letters, digits, _; at most 63)")
    return name


@dataclass(frozen=True, slots=True)
class Column:
    """One writable column. ``required`` applies on create and full replace (PUT); ``max_length`` to text."""

    name: str
    type: ColumnType = "text"
    required: bool = False
    nullable: bool = True
    max_length: int | None = None
    unique: bool = False

    def __post_init__(self) -> None:
        check_identifier(self.name, "column")
        if self.name in _RESERVED_COLUMNS:
            raise ValueError(f"column name {self.name!r} is managed by the repository")
        if self.type not in ("text", "integer", "real", "boolean"):
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}")

    def check(self, value: Any) -> tuple[Any, str | None]:
        """(value, None) when ``value`` fits this column (ints widen to real), else (None, reason)."""
        if value is None:
            return (None, None) if self.nullable else (None, "must not be null")
        kind = type(value)
        if self.type == "text":
            if kind is not str:
                return None, "expected string"
            if self.max_length is not None and len(value) > self.max_length:
                return None, f"must have at most {self.max_length} characters"
            if "\x00" in value:
                return None, "must not contain NUL characters"
            return value, None
        if self.type == "integer":
            if kind is not int:
                return None, "expected integer"
            if not _INT64[0] <= value <= _INT64[1]:
                return None, "integer out of range (64-bit)"
            return value, None
        if self.type == "real":
            if kind is int and _INT64[0] <= value <= _INT64[1]:
                return float(value), None
            if kind is float and math.isfinite(value):
                return value, None
            return None, "expected number"
        if value is True or value is False:
            return value, None
        return None, "expected boolean"

    def parse_filter(self, text: str, parameter: str = "") -> Any:
        """A filter value from the query string, typed for this column (400 when it cannot be)."""
        parameter = parameter or self.name
        if self.type == "text":
            return text
        if self.type == "integer":
            if not re.fullmatch(r"-?[0-9]{1,19}", text) or not _INT64[0] <= int(text) <= _INT64[1]:
                raise invalid_query(parameter, "expected an integer")
            return int(text)
        if self.type == "real":
            try:
                number = float(text) if len(text) <= 40 else math.nan
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise invalid_query(parameter, "expected a number")
            return number
        if text in ("true", "false"):
            return text == "true"
        raise invalid_query(parameter, "expected true or false")


_ID_COLUMN: Final = Column("record_id", "integer", nullable=False)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A resource table: ``id`` (64-bit integer key), ``columns``, ``created_at``/``updated_at`` (ISO 8601 UTC
    text), and ``deleted_at`` when ``soft_delete`` (deleted rows are hidden from every read)."""

    table: str
    columns: tuple[Column, ...]
    soft_delete: bool = False
    searchable: tuple[str, ...] = ()
    by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_identifier(self.table, "table")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.table!r} lists a column twice")
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        for name in self.searchable:
            if self.by_name.get(name) is None or self.by_name[name].type != "text":
                raise ValueError(f"searchable column {name!r} must be a text column of {self.table!r}")

    @property
    def sortable(self) -> frozenset[str]:
        """Names a query may sort by: the columns, the id and the timestamps."""
        return frozenset(self.by_name) | {"id", "created_at", "updated_at"}

    def filter_values(self, query: Query) -> dict[str, list[Any]]:
        """The query's filters typed per column; a filter on an unknown column is a 400 (never reaches SQL)."""
        out: dict[str, list[Any]] = {}
        for name, values in query.filters.items():
            column = self.by_name.get(name) if name != "id" else _ID_COLUMN
            if column is None:
                raise invalid_query(name, "unknown filter")
            out[name] = [column.parse_filter(v, name) for v in values]
        return out


@dataclass(frozen=True, slots=True)
class RepositoryCapabilities:
    """Documented differences between backends (the conformance suite asserts each, never skips).

    ``unicode_case_insensitive_search``: search folds case beyond ASCII (PostgreSQL ``lower()`` does; SQLite's
    built-in ``lower()`` folds ASCII only). ``shared``: several processes/machines may use it at once."""

    unicode_case_insensitive_search: bool
    shared: bool


class Repository(Protocol):
    """Storage for one resource table (Go ``Repository[T]``). Every query is parameterized; records are dicts."""

    @property
    def spec(self) -> TableSpec: ...

    @property
    def capabilities(self) -> RepositoryCapabilities: ...

    async def find_all(self, query: Query) -> list[Record]: ...

    async def count(self, query: Query) -> int: ...

    async def find_by_id(self, record_id: int) -> Record | None: ...

    async def exists(self, record_id: int) -> bool: ...

    async def create(self, values: Mapping[str, Any]) -> Record: ...

    async def update(self, record_id: int, values: Mapping[str, Any]) -> Record | None: ...

    async def delete(self, record_id: int) -> bool: ...

    async def close(self) -> None: ...


def checked_values(spec: TableSpec, values: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
    """Values checked against the columns (a repository's last line of defence; the controller checks first)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        column = spec.by_name.get(key)
        if column is None:
            raise ValueError(f"unknown column {key!r}")
        checked, reason = column.check(value)
        if reason is not None:
            raise ValueError(f"{key}: {reason}")
        out[key] = checked
    if full:
        missing = [c.name for c in spec.columns if c.required and c.name not in out]
        if missing:
            raise ValueError(f"missing required column(s) {missing}")
    return out


def column_names(spec: TableSpec) -> Sequence[str]:
    base = ["id", *(c.name for c in spec.columns), "created_at", "updated_at"]
    return base


def sort_names(query: Query, spec: TableSpec) -> Iterable[tuple[str, bool]]:
    for item in query.sort:
        if item.name not in spec.sortable:
            raise invalid_query("sort", f"cannot sort by {item.name!r}")
        yield item.name, item.descending
