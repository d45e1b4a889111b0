"""plumego.x.ai (experimental): AI gateway: providers, sessions, streaming and tools (beta surfaces) plus
experimental orchestration and caching.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
