"""plumego.x.gateway (beta): API gateway: reverse proxy, load balancing, protocol adapters, edge caching and transforms.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
