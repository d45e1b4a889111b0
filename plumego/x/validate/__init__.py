"""plumego.x.validate (experimental): Declarative request validation producing canonical validation error envelopes.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
