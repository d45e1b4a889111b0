"""plumego.x.rest (beta): Resource controllers and REST conventions: CRUD wiring, pagination, versioning.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
