"""plumego.x.data (experimental): shared-state data engines, one subpackage each.

``file`` (beta: local and S3 storage, SQLite/PostgreSQL metadata), ``idempotency`` (beta: the stable protocol on
PostgreSQL, MySQL/MariaDB and Redis), ``kv`` (Redis next to the stable SQLite store), ``migrate`` (versioned SQL
migrations), ``cache`` (Redis cache, consistent-hash ring, leaderboards), ``sharding`` (sqlglot routing) and
``rw`` (primary/replica routing). The root holds no code: import the subpackage you need.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
