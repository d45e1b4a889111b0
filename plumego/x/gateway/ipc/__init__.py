"""plumego.x.gateway.ipc (experimental): Inter-process transport for the gateway.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/gateway family's rules in specs/dependency-rules.yaml.
"""
