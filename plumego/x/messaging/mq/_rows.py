"""What the SQL backends share: the column list, row <-> Task conversion and the reservation verdict.

Owns the mapping between a table row and :class:`Task`, and the one rule that decides what ``reserve`` does with
a candidate row, so that SQLite and PostgreSQL cannot drift apart. Imports only the standard library and the task
model; never a database driver.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ._task import Task, TaskStatus

__all__ = ["COLUMNS", "SELECT_LIST", "Verdict", "check_identifier", "dump_meta", "task_from_row", "verdict"]

COLUMNS = ("id", "topic", "payload", "status", "tenant_id", "meta", "priority", "dedupe_key", "available_at",
           "expires_at", "attempts", "max_attempts", "lease_owner", "lease_until", "created_at", "last_error")
SELECT_LIST = ", ".join(COLUMNS)

Verdict = Literal["lease", "expire", "dead"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def check_identifier(name: str, what: str = "table") -> str:
    """A table or schema name is spliced into SQL, so it must be a plain identifier."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} name {name!r} must be a plain SQL identifier (letters, digits, _)")
    return name


def dump_meta(meta: Mapping[str, str] | None) -> str:
    if not meta:
        return "{}"
    for k, v in meta.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("meta must map str to str")
    return json.dumps(dict(meta), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def task_from_row(row: Sequence[Any]) -> Task:
    """Build a Task from a row selected with :data:`SELECT_LIST`."""
    (id_, topic, payload, status, tenant_id, meta, priority, dedupe_key, available_at, expires_at, attempts,
     max_attempts, lease_owner, lease_until, created_at, last_error) = row
    return Task(id=id_, topic=topic, payload=bytes(payload), status=TaskStatus(status), tenant_id=tenant_id,
                meta=json.loads(meta) if meta and meta != "{}" else {}, priority=int(priority),
                dedupe_key=dedupe_key, available_at=float(available_at),
                expires_at=None if expires_at is None else float(expires_at), attempts=int(attempts),
                max_attempts=int(max_attempts), lease_owner=lease_owner,
                lease_until=None if lease_until is None else float(lease_until), created_at=float(created_at),
                last_error=last_error)


def verdict(status: str, expires_at: float | None, attempts: int, max_attempts: int, now: float) -> Verdict:
    """What ``reserve`` does with a candidate: a queued task whose time is due, or a leased one whose lease ran out.

    - past ``expires_at``: it is never delivered (``expire``);
    - a lease ran out on its last allowed attempt: the consumer died holding it ``max_attempts`` times, so it is a
      poison message (``dead``) rather than a task to hand out forever;
    - otherwise it is leased again.
    """
    if expires_at is not None and expires_at <= now:
        return "expire"
    if status == TaskStatus.LEASED and attempts >= max_attempts:
        return "dead"
    return "lease"
