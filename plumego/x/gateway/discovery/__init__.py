"""plumego.x.gateway.discovery (experimental): Service discovery backends for the gateway.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/gateway family's rules in specs/dependency-rules.yaml.
"""
