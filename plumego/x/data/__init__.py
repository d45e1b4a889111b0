"""plumego.x.data (experimental): Shared-state data engines: Redis cache, PostgreSQL, file storage, idempotency,
sharding and read/write split.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
