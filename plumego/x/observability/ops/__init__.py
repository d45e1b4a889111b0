"""plumego.x.observability.ops (experimental): Operational endpoints: health over HTTP, runtime stats.

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/observability family's rules in specs/dependency-rules.yaml.
"""
