"""plumego.x.frontend (beta): Serving built frontend assets: static files, SPA fallback and cache headers.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
