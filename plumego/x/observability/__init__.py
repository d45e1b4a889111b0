"""plumego.x.observability (beta): Observability adapters: Prometheus and OpenTelemetry exporters, tracer, window
metrics; ops and devtools subpackages.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
