"""Versioned SQL migrations: the value types, loading from a directory, and the run logic shared by engines.

Owns :class:`Migration`, :class:`MigrationStatus`, :class:`MigrationError`, :func:`load_migrations` and
:class:`Migrator`. Go's migrate package is a wrapper over a caller's runner; this one is the engine: each
migration runs in its own transaction together with its bookkeeping row, under a lock held for the whole run
(PostgreSQL advisory lock; SQLite's write lock, re-checked per migration), so two deploys starting at once apply
each migration exactly once, and a failing migration leaves no trace. Applied migrations carry a checksum: an
edited migration is refused, not silently skipped. Imports the standard library.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Protocol

__all__ = ["AppliedMigration", "Migration", "MigrationEngine", "MigrationError", "MigrationStatus", "Migrator",
           "load_migrations"]

_FILE = re.compile(r"(\d+)_([A-Za-z0-9_\-]+)\.(up|down)\.sql")


class MigrationError(Exception):
    """A migration failed, was edited after being applied, has no down step, or the set is inconsistent."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    up: str
    down: str | None = None

    def __post_init__(self) -> None:
        if self.version <= 0:
            raise ValueError("migration versions start at 1")
        if not self.up.strip():
            raise ValueError(f"migration {self.version} has no up SQL")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str
    applied_at: float


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """``state``: ``applied``, ``pending``, ``changed`` (applied, but the file differs now) or ``missing`` (applied,
    but no longer among the migrations given)."""

    version: int
    name: str
    state: str
    applied_at: float | None


def load_migrations(directory: str | PathLike[str]) -> list[Migration]:
    """``0001_create_users.up.sql`` (+ optional ``0001_create_users.down.sql``) files, sorted by version."""
    ups: dict[int, tuple[str, str]] = {}
    downs: dict[int, str] = {}
    for path in sorted(Path(directory).iterdir()):
        match = _FILE.fullmatch(path.name)
        if match is None:
            continue
        version, name, direction = int(match.group(1)), match.group(2), match.group(3)
        target = ups if direction == "up" else downs
        if version in target:
            raise MigrationError(f"two {direction} migrations with version {version}")
        if direction == "up":
            ups[version] = (name, path.read_text(encoding="utf-8"))
        else:
            downs[version] = path.read_text(encoding="utf-8")
    orphans = set(downs) - set(ups)
    if orphans:
        raise MigrationError(f"down migrations without an up migration: {sorted(orphans)}")
    return [Migration(v, ups[v][0], ups[v][1], downs.get(v)) for v in sorted(ups)]


class MigrationEngine(Protocol):
    """What an engine provides: the lock, the bookkeeping table, one migration step in one transaction."""

    async def lock(self) -> None: ...

    async def unlock(self) -> None: ...

    async def applied(self) -> builtins.list[AppliedMigration]: ...

    async def run(self, migration: Migration, direction: str) -> bool:
        """Run ``up`` (recording it) or ``down`` (removing the record) in one transaction; re-checks the record
        inside it and returns False when another runner got there first."""
        ...

    async def close(self) -> None: ...


class Migrator:
    """Up, down and status over one engine (open one with :func:`open_migrator`)."""

    def __init__(self, engine: MigrationEngine, migrations: Iterable[Migration]) -> None:
        self.engine = engine
        self.migrations = sorted(migrations, key=lambda m: m.version)
        versions = [m.version for m in self.migrations]
        if len(set(versions)) != len(versions):
            raise MigrationError("duplicate migration versions")

    async def status(self) -> builtins.list[MigrationStatus]:
        applied = {a.version: a for a in await self.engine.applied()}
        out: builtins.list[MigrationStatus] = []
        for m in self.migrations:
            record = applied.pop(m.version, None)
            state = "pending" if record is None else "applied" if record.checksum == m.checksum else "changed"
            out.append(MigrationStatus(m.version, m.name, state, None if record is None else record.applied_at))
        out.extend(MigrationStatus(a.version, a.name, "missing", a.applied_at) for a in applied.values())
        return sorted(out, key=lambda s: s.version)

    def _check(self, applied: Sequence[AppliedMigration]) -> None:
        known = {m.version: m for m in self.migrations}
        for record in applied:
            migration = known.get(record.version)
            if migration is None:
                raise MigrationError(f"migration {record.version} ({record.name}) is applied but not known here")
            if migration.checksum != record.checksum:
                raise MigrationError(f"migration {record.version} ({record.name}) was edited after it was applied")

    async def up(self, target: int | None = None) -> builtins.list[int]:
        """Apply pending migrations up to ``target`` (all by default); returns the versions this call applied."""
        await self.engine.lock()
        try:
            applied = await self.engine.applied()
            self._check(applied)
            done = {a.version for a in applied}
            ran: builtins.list[int] = []
            for migration in self.migrations:
                if migration.version in done or (target is not None and migration.version > target):
                    continue
                if await self._step(migration, "up"):
                    ran.append(migration.version)
            return ran
        finally:
            await self.engine.unlock()

    async def down(self, steps: int = 1) -> builtins.list[int]:
        """Revert the last ``steps`` applied migrations (newest first); returns the versions reverted."""
        if steps < 1:
            raise ValueError("steps must be >= 1")
        await self.engine.lock()
        try:
            applied = await self.engine.applied()
            self._check(applied)
            known = {m.version: m for m in self.migrations}
            ran: builtins.list[int] = []
            for record in sorted(applied, key=lambda a: a.version, reverse=True)[:steps]:
                migration = known[record.version]
                if migration.down is None:
                    raise MigrationError(f"migration {migration.version} ({migration.name}) has no down step")
                if await self._step(migration, "down"):
                    ran.append(migration.version)
            return ran
        finally:
            await self.engine.unlock()

    async def _step(self, migration: Migration, direction: str) -> bool:
        try:
            return await self.engine.run(migration, direction)
        except MigrationError:
            raise
        except Exception as exc:
            raise MigrationError(f"migration {migration.version} ({migration.name}) {direction} failed and was "
                                 f"rolled back: {exc}") from exc

    async def close(self) -> None:
        await self.engine.close()
