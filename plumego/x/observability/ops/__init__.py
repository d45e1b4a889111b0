"""plumego.x.observability.ops (experimental): operational routes (queue, receipts, channels, tenant quota,
runtime, readiness, and any extra such as metrics) behind a static bearer token that fails closed.

Imports the standard library and the stable roots its module.yaml allows; never the reference app or tooling.
"""

from plumego.x.observability.ops._ops import OpsHooks, OpsOptions, register_ops_routes

__all__ = ["OpsHooks", "OpsOptions", "register_ops_routes"]
