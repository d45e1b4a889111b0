"""plumego.x.rpc (experimental): RPC: gRPC server and client integration and an HTTP/JSON gateway.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
