"""Sharding strategies and rules (Go's ``Strategy`` and ``ShardingRule``): hash (FNV-1a), mod, range and list.

Owns :class:`Strategy` and its four implementations, :class:`ShardingRule` and :class:`ShardingRules`. Pure
functions of the key; no I/O. Imports the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["HashStrategy", "ListStrategy", "ModStrategy", "RangeStrategy", "ShardingError", "ShardingRule",
           "ShardingRules", "Strategy", "fnv1a32"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class ShardingError(ValueError):
    """A statement, key or rule the router cannot route safely; nothing was executed."""


def fnv1a32(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


@runtime_checkable
class Strategy(Protocol):
    name: str

    def shard(self, key: object, shard_count: int) -> int: ...

    def shard_range(self, start: object, end: object, shard_count: int) -> list[int] | None:
        """Shards that may hold keys in ``[start, end]``; None when the strategy cannot tell (all shards)."""
        ...


def _key_bytes(key: object) -> bytes:
    if isinstance(key, bool) or key is None:
        raise ShardingError(f"unsupported shard key {key!r}")
    if isinstance(key, bytes):
        return key
    return str(key).encode()


class HashStrategy:
    """FNV-1a 32 of the key's text, mod the shard count (Go's ``Hash``): ``42`` and ``"42"`` land together."""

    name = "hash"

    def shard(self, key: object, shard_count: int) -> int:
        return fnv1a32(_key_bytes(key)) % shard_count

    def shard_range(self, start: object, end: object, shard_count: int) -> list[int] | None:
        return None


def _int_key(key: object) -> int:
    if isinstance(key, bool):
        raise ShardingError("a boolean is not an integer shard key")
    if isinstance(key, int):
        return key
    if isinstance(key, str) and re.fullmatch(r"-?\d{1,19}", key):
        return int(key)
    raise ShardingError(f"shard key {key!r} is not an integer")


class ModStrategy:
    """Integer key mod the shard count (Go's ``Mod``)."""

    name = "mod"

    def shard(self, key: object, shard_count: int) -> int:
        return _int_key(key) % shard_count

    def shard_range(self, start: object, end: object, shard_count: int) -> list[int] | None:
        low, high = _int_key(start), _int_key(end)
        if high < low:
            return []
        if high - low + 1 >= shard_count:
            return list(range(shard_count))
        return sorted({k % shard_count for k in range(low, high + 1)})


@dataclass(frozen=True, slots=True)
class KeyRange:
    start: int
    end: int          # exclusive
    shard: int


class RangeStrategy:
    """``[(start, end_exclusive, shard), ...]`` over integer keys (Go's ``Range``); a key in no range is refused."""

    name = "range"

    def __init__(self, ranges: Iterable[tuple[int, int, int]]) -> None:
        self.ranges = sorted((KeyRange(*r) for r in ranges), key=lambda r: r.start)
        for a, b in zip(self.ranges, self.ranges[1:]):
            if b.start < a.end:
                raise ValueError(f"ranges [{a.start},{a.end}) and [{b.start},{b.end}) overlap")
        if any(r.end <= r.start for r in self.ranges):
            raise ValueError("every range needs start < end")

    def shard(self, key: object, shard_count: int) -> int:
        value = _int_key(key)
        for r in self.ranges:
            if r.start <= value < r.end:
                return r.shard
        raise ShardingError(f"shard key {value} is in no configured range")

    def shard_range(self, start: object, end: object, shard_count: int) -> list[int] | None:
        low, high = _int_key(start), _int_key(end)
        return sorted({r.shard for r in self.ranges if r.start <= high and low < r.end})


class ListStrategy:
    """An explicit value -> shard map with an optional default (Go's ``List``)."""

    name = "list"

    def __init__(self, mapping: Mapping[object, int], default: int | None = None) -> None:
        self.mapping = {str(k): v for k, v in mapping.items()}
        self.default = default

    def shard(self, key: object, shard_count: int) -> int:
        shard = self.mapping.get(str(key), self.default)
        if shard is None:
            raise ShardingError(f"shard key {key!r} is not listed and there is no default shard")
        return shard

    def shard_range(self, start: object, end: object, shard_count: int) -> list[int] | None:
        return None


@dataclass(frozen=True, slots=True)
class ShardingRule:
    """``table`` is split over ``shard_count`` physical tables ``<table>_<n>`` by ``key_column``."""

    table: str
    key_column: str
    strategy: Strategy
    shard_count: int
    suffix: str = "{table}_{shard}"

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.table) or not _IDENTIFIER.fullmatch(self.key_column):
            raise ValueError("table and key column must be plain identifiers")
        if self.shard_count < 1:
            raise ValueError("shard_count must be >= 1")

    def shard_for(self, key: object) -> int:
        shard = self.strategy.shard(key, self.shard_count)
        if not 0 <= shard < self.shard_count:
            raise ShardingError(f"strategy {self.strategy.name} chose shard {shard} of {self.shard_count}")
        return shard

    def physical(self, shard: int) -> str:
        return self.suffix.format(table=self.table, shard=shard)


class ShardingRules:
    def __init__(self, rules: Sequence[ShardingRule] = ()) -> None:
        self._rules: dict[str, ShardingRule] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: ShardingRule) -> None:
        if rule.table.lower() in self._rules:
            raise ValueError(f"table {rule.table} already has a sharding rule")
        self._rules[rule.table.lower()] = rule

    def get(self, table: str) -> ShardingRule | None:
        return self._rules.get(table.lower())
