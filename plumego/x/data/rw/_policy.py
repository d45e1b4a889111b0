"""Which node a statement needs: the primary, or any replica (Go's ``SQLTypePolicy``).

Owns :func:`classify` and :class:`Target`. Comments, string literals, quoted identifiers and dollar-quoted bodies
are blanked before keywords are read, so ``SELECT 'FOR UPDATE'`` is a read and ``/* SELECT */ DELETE`` a write.
Reads (SELECT, SHOW, TABLE, VALUES, a WITH that writes nothing) go to a replica; writes, locking reads
(``FOR UPDATE/SHARE``), ``SELECT ... INTO``, sequence and advisory-lock functions, EXPLAIN, and anything
unrecognised go to the primary (fail safe). Imports the standard library.
"""

from __future__ import annotations

import enum
import re

__all__ = ["Target", "classify"]


class Target(enum.Enum):
    PRIMARY = "primary"
    REPLICA = "replica"


_BLANKS = re.compile(r"""
      --[^\n]*                          # line comment
    | /\*.*?\*/                         # block comment (no nesting)
    | '(?:[^']|'')*'                    # string literal
    | E'(?:[^'\\]|\\.|'')*'             # escape string
    | "(?:[^"]|"")*"                    # quoted identifier
    | \$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$   # dollar-quoted body
""", re.VERBOSE | re.DOTALL | re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_READ_FIRST = {"SELECT", "SHOW", "TABLE", "VALUES", "WITH"}
_WRITES = {"INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "CREATE", "ALTER", "DROP", "TRUNCATE", "GRANT", "REVOKE",
           "LOCK", "COPY", "CALL", "DO", "NEXTVAL", "SETVAL", "PG_ADVISORY_LOCK", "PG_ADVISORY_XACT_LOCK",
           "PG_TRY_ADVISORY_LOCK", "PG_ADVISORY_UNLOCK", "PG_NOTIFY", "LISTEN", "NOTIFY", "SET_CONFIG",
           "LASTVAL", "REFRESH", "VACUUM", "ANALYZE", "CLUSTER", "REINDEX", "COMMENT", "SECURITY", "PREPARE",
           "EXECUTE", "DEALLOCATE", "DISCARD", "RESET", "SET"}


def classify(sql: str) -> Target:
    words = [w.upper() for w in _WORD.findall(_BLANKS.sub(" ", sql))]
    if not words or words[0] not in _READ_FIRST:
        return Target.PRIMARY
    if any(w in _WRITES for w in words):
        return Target.PRIMARY
    for i, word in enumerate(words[:-1]):        # FOR UPDATE / FOR SHARE / FOR NO KEY UPDATE / FOR KEY SHARE
        if word == "FOR" and words[i + 1] in ("UPDATE", "SHARE", "NO", "KEY"):
            return Target.PRIMARY
    return Target.REPLICA
