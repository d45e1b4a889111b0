"""plumego.x.data.migrate (experimental): versioned SQL migrations for SQLite and PostgreSQL, applied under a lock,
with status and down-migrations.

:func:`load_migrations` reads ``NNNN_name.up.sql``/``.down.sql`` files; :func:`open_migrator` picks the engine by
URL; :class:`Migrator` runs ``up``/``down``/``status``. Beyond Go (a wrapper over a caller's runner): the engine
itself, exactly-once under concurrent deploys, one transaction per migration with its bookkeeping, and checksums
that refuse an edited migration. Imports the standard library and plumego.store; psycopg for PostgreSQL.
"""

from ._engines import PostgresMigrationEngine, SQLiteMigrationEngine, open_migrator, split_sql
from ._migrations import (
    AppliedMigration,
    Migration,
    MigrationEngine,
    MigrationError,
    MigrationStatus,
    Migrator,
    load_migrations,
)

__all__ = ["AppliedMigration", "Migration", "MigrationEngine", "MigrationError", "MigrationStatus", "Migrator",
           "PostgresMigrationEngine", "SQLiteMigrationEngine", "load_migrations", "open_migrator", "split_sql"]
