"""plumego.x.tenant (beta): Multi-tenancy: tenant resolution, policy, quota, rate limits, tenant-aware stores and
sessions.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
