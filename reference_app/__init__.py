"""reference_app: the canonical Plumego service, built on the stable roots only (never plumego.x).

Laid out as the Go standard-service: config, app wiring, handlers, domain.
"""
