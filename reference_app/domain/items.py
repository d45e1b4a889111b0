"""Items: the entity, the repository contract, its embedded SQLite store and the service rules.

The SQLite store runs in WAL mode with ``synchronous=FULL``: a write is acknowledged only after
it is durable, so acknowledged writes survive a crash or ``kill -9``. Standard library only;
knows nothing about HTTP (handlers translate ``ItemError`` to envelopes).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

NAME_MAX = 200
DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    description: str
    created_at: str  # RFC 3339, UTC

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ItemNotFound(LookupError):
    """No item has the requested id."""


class ItemInvalid(ValueError):
    """Input that breaks an item rule; ``fields`` maps each field to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class ItemRepository(Protocol):
    def list(self, limit: int, offset: int) -> tuple[list[Item], int]: ...
    def get(self, item_id: str) -> Item: ...
    def create(self, item: Item) -> Item: ...
    def replace(self, item: Item) -> Item: ...
    def delete(self, item_id: str) -> None: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


class SQLiteItemStore:
    """Durable item storage in ``<data_dir>/items.sqlite3``; safe to share between threads."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "items.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "description TEXT NOT NULL, created_at TEXT NOT NULL, seq INTEGER NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS items_seq ON items(seq)")

    @staticmethod
    def _row(row: tuple[str, str, str, str]) -> Item:
        return Item(id=row[0], name=row[1], description=row[2], created_at=row[3])

    def list(self, limit: int, offset: int) -> tuple[list[Item], int]:
        with self._lock:
            total = int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
            rows = self._db.execute(
                "SELECT id, name, description, created_at FROM items ORDER BY seq LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [self._row(r) for r in rows], total

    def get(self, item_id: str) -> Item:
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, description, created_at FROM items WHERE id = ?", (item_id,)
            ).fetchone()
        if row is None:
            raise ItemNotFound(item_id)
        return self._row(row)

    def create(self, item: Item) -> Item:
        with self._lock:
            self._db.execute(
                "INSERT INTO items (id, name, description, created_at, seq) "
                "VALUES (?, ?, ?, ?, COALESCE((SELECT MAX(seq) FROM items), 0) + 1)",
                (item.id, item.name, item.description, item.created_at),
            )
        return item

    def replace(self, item: Item) -> Item:
        with self._lock:
            cur = self._db.execute(
                "UPDATE items SET name = ?, description = ? WHERE id = ?", (item.name, item.description, item.id)
            )
        if cur.rowcount == 0:
            raise ItemNotFound(item.id)
        return item

    def delete(self, item_id: str) -> None:
        with self._lock:
            cur = self._db.execute("DELETE FROM items WHERE id = ?", (item_id,))
        if cur.rowcount == 0:
            raise ItemNotFound(item_id)

    def ping(self) -> None:
        with self._lock:
            self._db.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _text(payload: dict[str, Any], name: str, limit: int, *, required: bool, errors: dict[str, str]) -> str | None:
    if name not in payload or payload[name] is None:
        if required:
            errors[name] = "field is required"
        return None
    raw = payload[name]
    if not isinstance(raw, str):
        errors[name] = "must be a string"
        return None
    value = raw.strip()
    if not _storable(value):
        errors[name] = "must be valid Unicode text"
        return None
    if required and not value:
        errors[name] = "field is required"
    elif len(value) > limit:
        errors[name] = f"must be at most {limit} characters"
    return value


def _storable(text: str) -> bool:
    """False for text UTF-8 cannot encode (lone surrogates): SQLite, the logs and every client would choke on
    it, so it is a validation error here rather than a storage failure later."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ItemService:
    """The item rules: validation, id assignment, partial updates."""

    FIELDS = frozenset({"name", "description"})

    def __init__(self, repo: ItemRepository) -> None:
        self.repo = repo

    def list(self, limit: int, offset: int) -> tuple[list[Item], int]:
        return self.repo.list(limit, offset)

    def get(self, item_id: str) -> Item:
        return self.repo.get(item_id)

    def create(self, payload: dict[str, Any]) -> Item:
        errors: dict[str, str] = {}
        name = _text(payload, "name", NAME_MAX, required=True, errors=errors)
        description = _text(payload, "description", DESCRIPTION_MAX, required=False, errors=errors)
        if errors or name is None:
            raise ItemInvalid(errors)
        created = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return self.repo.create(Item(secrets.token_hex(8), name, description or "", created))

    def replace(self, item_id: str, payload: dict[str, Any]) -> Item:
        errors: dict[str, str] = {}
        name = _text(payload, "name", NAME_MAX, required=True, errors=errors)
        description = _text(payload, "description", DESCRIPTION_MAX, required=False, errors=errors)
        if errors or name is None:
            raise ItemInvalid(errors)
        current = self.repo.get(item_id)
        return self.repo.replace(Item(current.id, name, description or "", current.created_at))

    def patch(self, item_id: str, payload: dict[str, Any]) -> Item:
        """Only non-empty fields change (as in the Go reference app)."""
        errors: dict[str, str] = {}
        name = _text(payload, "name", NAME_MAX, required=False, errors=errors)
        description = _text(payload, "description", DESCRIPTION_MAX, required=False, errors=errors)
        if errors:
            raise ItemInvalid(errors)
        current = self.repo.get(item_id)
        updated = Item(current.id, name or current.name, description or current.description, current.created_at)
        return self.repo.replace(updated)

    def delete(self, item_id: str) -> None:
        self.repo.delete(item_id)
