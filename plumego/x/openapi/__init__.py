"""plumego.x.openapi (experimental): OpenAPI document generation from the router's route table.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
