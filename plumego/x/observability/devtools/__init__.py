"""plumego.x.observability.devtools (experimental): Developer tooling endpoints: route listing, config dump, pub/sub
debug.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/observability family's rules in specs/dependency-rules.yaml.
"""
