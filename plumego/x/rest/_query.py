"""The QueryBuilder: list-endpoint query strings parsed against allow lists into a typed, bounded :class:`Query`.

Owns paging (``page``/``page_size`` default 20, capped at 100; or ``limit``/``offset``), sorting (``sort=a,-b``
against an allow list), search (``search``, falling back to ``q``), ``fields``, ``include`` and filters (every
other key, against an allow list). Anything not allowed is a 400 ``INVALID_QUERY`` naming the parameter, never a
silently ignored key and never a string that reaches SQL. Imports the standard library and plumego.contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from plumego.contract import APIError, ErrorCode, ErrorType, IntegerRangeError, parse_int

__all__ = ["RESERVED_PARAMETERS", "Query", "QueryBuilder", "SortField", "invalid_query"]

RESERVED_PARAMETERS: Final = frozenset({"page", "page_size", "limit", "offset", "sort", "search", "q", "fields",
                                        "include"})
_MAX_PAGE: Final = 10_000_000
_MAX_OFFSET: Final = 1 << 40
_MAX_SORT_KEYS: Final = 8
_MAX_FILTER_VALUES: Final = 50
_MAX_TEXT: Final = 200


def invalid_query(parameter: str, reason: str) -> APIError:
    """400 ``INVALID_QUERY`` with ``details = {"parameter", "reason"}``."""
    return APIError(ErrorType.BAD_REQUEST, f"invalid query parameter {parameter!r}: {reason}",
                    code=ErrorCode.INVALID_QUERY, details={"parameter": parameter, "reason": reason})


@dataclass(frozen=True, slots=True)
class SortField:
    name: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed list query. ``limit``/``offset`` are always set (derived from the page when not given)."""

    page: int = 1
    page_size: int = 20
    limit: int = 20
    offset: int = 0
    sort: tuple[SortField, ...] = ()
    search: str = ""
    fields: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class _Params:
    """Reads a plumego QueryParams (multi-valued) or a plain mapping the same way."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = params

    def keys(self) -> Iterable[str]:
        return list(self._params)

    def one(self, key: str) -> str | None:
        values = self.all(key)
        if not values:
            return None
        if len(values) > 1:
            raise invalid_query(key, "given more than once")
        return values[0]

    def all(self, key: str) -> list[str]:
        getlist = getattr(self._params, "getlist", None)
        if getlist is not None:
            values = [str(v) for v in getlist(key)]
        else:
            value = self._params.get(key)
            if value is None:
                return []
            values = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        # NUL cannot be stored or compared by PostgreSQL: refuse it here instead of answering 500 there.
        if any("\x00" in v for v in values):
            raise invalid_query(key[:_MAX_TEXT], "must not contain NUL characters")
        return values


def _int(params: _Params, key: str, minimum: int, maximum: int) -> int | None:
    text = params.one(key)
    if text is None or text == "":
        return None
    try:
        return parse_int(text, minimum=minimum, maximum=maximum)
    except IntegerRangeError:
        raise invalid_query(key, f"must be between {minimum} and {maximum}") from None
    except ValueError:
        raise invalid_query(key, "must be a decimal integer") from None


def _names(text: str, key: str, allowed: frozenset[str] | None) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if allowed is not None:
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise invalid_query(key, f"unknown name {unknown[0][:_MAX_TEXT]!r}; allowed: {', '.join(sorted(allowed))}")
    return names


class QueryBuilder:
    """Parses list queries against allow lists (Go ``QueryBuilder``). An empty allow list allows nothing, so a
    new filter or sort key is always an explicit decision; ``fields``/``include`` are free when their list is
    None. ``page_size`` and ``limit`` above ``max_page_size`` are capped to it, as in Go."""

    def __init__(
        self,
        *,
        default_page_size: int = 20,
        max_page_size: int = 100,
        sorts: Iterable[str] = (),
        filters: Iterable[str] = (),
        fields: Iterable[str] | None = None,
        includes: Iterable[str] | None = None,
        default_sort: Iterable[SortField] = (),
    ) -> None:
        if not 1 <= default_page_size <= max_page_size:
            raise ValueError("default_page_size must be between 1 and max_page_size")
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.sorts = frozenset(sorts)
        self.filters = frozenset(filters)
        self.fields = frozenset(fields) if fields is not None else None
        self.includes = frozenset(includes) if includes is not None else None
        self.default_sort = tuple(default_sort)
        clash = (self.filters & RESERVED_PARAMETERS)
        if clash:
            raise ValueError(f"filters cannot use reserved query parameters: {sorted(clash)}")

    def parse(self, params: Mapping[str, Any]) -> Query:
        """Parse a request's ``query_params`` (or any mapping); raises APIError 400 ``INVALID_QUERY``."""
        p = _Params(params)
        page = _int(p, "page", 1, _MAX_PAGE) or 1
        size = _int(p, "page_size", 1, 1 << 31) or self.default_page_size
        size = min(size, self.max_page_size)
        limit = _int(p, "limit", 1, 1 << 31)
        offset = _int(p, "offset", 0, _MAX_OFFSET)
        if limit is not None or offset is not None:
            limit = min(limit or size, self.max_page_size)
            offset = offset or 0
            page, size = offset // limit + 1, limit
        else:
            limit, offset = size, (page - 1) * size
        return Query(page=page, page_size=size, limit=limit, offset=offset, sort=self._sort(p),
                     search=self._search(p), fields=_names(p.one("fields") or "", "fields", self.fields),
                     include=_names(p.one("include") or "", "include", self.includes), filters=self._filters(p))

    def _sort(self, p: _Params) -> tuple[SortField, ...]:
        text = p.one("sort")
        if not text:
            return self.default_sort
        out: list[SortField] = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            descending = part.startswith("-")
            name = part[1:] if descending or part.startswith("+") else part
            if name not in self.sorts:
                allowed = ", ".join(sorted(self.sorts)) or "none"
                raise invalid_query("sort", f"cannot sort by {name[:_MAX_TEXT]!r}; allowed: {allowed}")
            if any(s.name == name for s in out):
                raise invalid_query("sort", f"{name!r} is listed twice")
            out.append(SortField(name, descending))
        if len(out) > _MAX_SORT_KEYS:
            raise invalid_query("sort", f"at most {_MAX_SORT_KEYS} sort keys")
        return tuple(out)

    def _search(self, p: _Params) -> str:
        text = p.one("search")
        if text is None or text == "":
            text = p.one("q") or ""
        if len(text) > _MAX_TEXT:
            raise invalid_query("search", f"at most {_MAX_TEXT} characters")
        return text

    def _filters(self, p: _Params) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for key in p.keys():
            if key in RESERVED_PARAMETERS:
                continue
            if key not in self.filters:
                allowed = ", ".join(sorted(self.filters)) or "none"
                raise invalid_query(key[:_MAX_TEXT], f"unknown filter; allowed: {allowed}")
            values = tuple(dict.fromkeys(p.all(key)))
            if len(values) > _MAX_FILTER_VALUES:
                raise invalid_query(key, f"at most {_MAX_FILTER_VALUES} values")
            out[key] = values
        return out
