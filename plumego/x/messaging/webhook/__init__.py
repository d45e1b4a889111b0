"""plumego.x.messaging.webhook (experimental): Outbound webhook delivery and inbound signature verification (Go-
compatible signature headers).

Planned contents are listed in module.yaml; this package holds no code yet.
Imports follow the x/messaging family's rules in specs/dependency-rules.yaml.
"""
