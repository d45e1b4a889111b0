"""plumego.x.data.idempotency (beta): Shared idempotency store on Redis or PostgreSQL implementing the store
idempotency contract.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/data family's rules in specs/dependency-rules.yaml.
"""
